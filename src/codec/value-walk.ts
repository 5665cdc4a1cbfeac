/**
 * What the built-in serializers share when they check a value before encoding it (so an
 * unsupported value fails at `set` time, RELIABILITY.md C1) and after decoding bytes (so
 * a hostile payload never reaches a prototype, C2): the nesting limit, the rules for
 * `__proto__` and `constructor.prototype`, the typed array table, and error messages that
 * say where in the value the problem is.
 */
import { SerializationError } from '../errors.js'

/**
 * Deepest nesting of arrays, objects, maps and sets a built-in serializer writes or
 * reads. Real cache values nest a few dozen levels; the limit keeps every recursive
 * encoder and decoder far from the stack limit, and turns a cycle into an error.
 */
export const MAX_NESTING_DEPTH = 1000

/**
 * Typed arrays other than `Uint8Array`/`Buffer`, in msgpackr's order (its typed array
 * extension writes the index), with their element size.
 */
export const TYPED_ARRAYS: ReadonlyArray<{
  readonly ctor: { readonly prototype: object; readonly name: string }
  readonly bytes: number
}> = [
  { ctor: Int8Array, bytes: 1 },
  { ctor: Uint8Array, bytes: 1 },
  { ctor: Uint8ClampedArray, bytes: 1 },
  { ctor: Int16Array, bytes: 2 },
  { ctor: Uint16Array, bytes: 2 },
  { ctor: Int32Array, bytes: 4 },
  { ctor: Uint32Array, bytes: 4 },
  { ctor: Float32Array, bytes: 4 },
  { ctor: Float64Array, bytes: 8 },
  { ctor: BigInt64Array, bytes: 8 },
  { ctor: BigUint64Array, bytes: 8 },
]

/** Prototypes of the typed arrays above, for a one-lookup type check. */
export const TYPED_ARRAY_PROTOTYPES: ReadonlySet<object> = new Set(
  TYPED_ARRAYS.map((t) => t.ctor.prototype),
)

const nativeIsWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * False when the string holds a lone surrogate, which UTF-8 cannot carry (msgpack would
 * store U+FFFD instead). `String.prototype.isWellFormed` is in Node 20; the regex is the
 * fallback for older engines.
 *
 * @example
 * ```ts
 * isWellFormed('😀') // true
 * isWellFormed('\ud800') // false
 * ```
 */
export const isWellFormed: (s: string) => boolean =
  typeof nativeIsWellFormed === 'function'
    ? (s) => nativeIsWellFormed.call(s)
    : (s) => !LONE_SURROGATE.test(s)

/**
 * True when `value` is a `constructor` entry that deep-merge code would follow into a
 * prototype: an object with its own `prototype` key. Refused like `__proto__` (C2).
 *
 * @example
 * ```ts
 * isPrototypeCarrier({ prototype: { polluted: 1 } }) // true
 * isPrototypeCarrier('Babbage') // false: { constructor: 'Babbage' } is data
 * ```
 */
export function isPrototypeCarrier(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.prototype.hasOwnProperty.call(value, 'prototype')
  )
}

/**
 * The `__proto__` and `constructor.prototype` rules (C2), the same for every built-in
 * serializer, on the way in and on the way out: such a key is refused, never renamed or
 * dropped. Throws a {@link Refusal} naming the key.
 *
 * @example
 * ```ts
 * for (const key of Object.keys(record)) checkKey(key, record[key])
 * ```
 */
export function checkKey(key: string, item: unknown): void {
  let what: string | undefined
  if (key === '__proto__') {
    what = 'an own "__proto__" key is refused (read back, it could reach a prototype); rename it.'
  } else if (key === 'constructor' && isPrototypeCarrier(item)) {
    what =
      'a "constructor" key holding an object with a "prototype" key is refused (a prototype pollution pattern); rename it.'
  }
  if (what === undefined) return
  const refusal = new Refusal(what)
  refusal.path.push(propertySegment(key))
  throw refusal
}

/**
 * Thrown inside a walk and caught at its top, where it becomes a `SerializationError`
 * whose message names the path (`value.items[3].at`). Each container level adds its
 * segment on the way out, so the happy path pays nothing for paths.
 *
 * @example
 * ```ts
 * if (typeof value === 'function') throw new Refusal('a function cannot be stored.')
 * ```
 */
export class Refusal extends Error {
  readonly path: string[] = []
  constructor(readonly what: string) {
    super(what)
  }
}

/**
 * Adds a path segment to a refusal passing up through a container; rethrows anything else.
 *
 * @example
 * ```ts
 * try { check(array[i]) } catch (error) { withSegment(error, `[${i}]`) }
 * ```
 */
export function withSegment(error: unknown, segment: string): never {
  if (error instanceof Refusal) error.path.push(segment)
  throw error
}

/**
 * The path segment of an object property, in JavaScript syntax.
 *
 * @example
 * ```ts
 * propertySegment('name') // '.name'
 * propertySegment('a b') // '["a b"]'
 * ```
 */
export function propertySegment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

/**
 * The error a serializer throws for a refused value, or the original error wrapped when
 * it is not a refusal (a stack overflow, an engine error).
 *
 * @example
 * ```ts
 * try { check(value) } catch (error) { throw refusalError('json', error, 'cannot store') }
 * // SerializationError: The 'json' serializer cannot store value.at: a Date would …
 * ```
 */
export function refusalError(
  serializer: string,
  error: unknown,
  doing: string,
): SerializationError {
  if (error instanceof Refusal) {
    const segments = error.path.reverse()
    // A cycle or a deep value would make a path of a thousand segments.
    const shown =
      segments.length > 12
        ? [...segments.slice(0, 6), `…(${segments.length - 10} more)…`, ...segments.slice(-4)]
        : segments
    const path = `value${shown.join('')}`
    return new SerializationError(`The '${serializer}' serializer ${doing} ${path}: ${error.what}`)
  }
  if (error instanceof SerializationError) return error
  const reason =
    error instanceof RangeError && /call stack/i.test(error.message)
      ? 'the value is nested too deeply'
      : describeError(error)
  return new SerializationError(`The '${serializer}' serializer ${doing} the value: ${reason}.`, {
    cause: error,
  })
}

/**
 * A short description of a value's type for messages.
 *
 * @example
 * ```ts
 * describeType(new Date()) // 'a Date'
 * describeType(new Error()) // 'an Error'
 * describeType(1n) // 'a BigInt'
 * ```
 */
export function describeType(value: unknown): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'object': {
      const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null
      const name = proto?.constructor?.name
      if (typeof name === 'string' && name !== '') {
        // 'an Error', 'an Int8Array', but 'a Uint8Array', 'a User'.
        return /^[AEIO]/.test(name) ? `an ${name}` : `a ${name}`
      }
      return 'an object with a custom prototype'
    }
    case 'undefined':
      return 'undefined'
    case 'bigint':
      return 'a BigInt'
    default:
      return `a ${typeof value}`
  }
}

/**
 * The message of an unknown thrown value.
 *
 * @example
 * ```ts
 * describeError(new Error('boom')) // 'boom'
 * ```
 */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
