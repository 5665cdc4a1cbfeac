/**
 * The serializers of remote values: 'msgpack' (the default, in `msgpack.ts`), 'json',
 * 'v8', and a custom `{ encode, decode }`. Every failure, either way, is a
 * `SerializationError` whose `cause` is the original error, and a value a serializer
 * cannot give back unchanged is refused when it is encoded (RELIABILITY.md C1), not
 * discovered as a different value when it is read.
 *
 * All three built-ins treat `__proto__` the same way: an own `__proto__` key, and a
 * `constructor` key holding an object with a `prototype` key, are refused on encode and
 * on decode, never renamed or dropped (C2).
 */
import { isUtf8 } from 'node:buffer'
import { deserialize as v8Deserialize, serialize as v8Serialize } from 'node:v8'
import { InvalidArgumentError, SerializationError } from '../errors.js'
import type { CustomSerializerOption, Serializer, SerializerOption } from './codec.js'
import { MSGPACK_SERIALIZER_ID, msgpackSerializer } from './msgpack.js'
import {
  MAX_NESTING_DEPTH,
  Refusal,
  TYPED_ARRAY_PROTOTYPES,
  checkKey,
  describeError,
  describeType,
  propertySegment,
  refusalError,
  withSegment,
} from './value-walk.js'

export { msgpackSerializer, MSGPACK_SERIALIZER_ID }

/** Envelope ids of the built-in serializers. Ids 128–255 are for custom serializers. */
export const SERIALIZER_IDS = {
  msgpack: MSGPACK_SERIALIZER_ID,
  json: 2,
  v8: 3,
} as const

/** The id a custom serializer gets when its option names none. */
export const DEFAULT_CUSTOM_SERIALIZER_ID = 128

/**
 * The serializer for a `serializer` option; throws `InvalidArgumentError` naming the
 * option for anything else.
 *
 * @example
 * ```ts
 * createSerializer('json').encode({ a: 1 }) // bytes of '{"a":1}'
 * createSerializer({ encode: myEncode, decode: myDecode })
 * ```
 */
export function createSerializer(
  option: SerializerOption = 'msgpack',
  what = 'serializer',
): Serializer {
  if (option === 'msgpack') return msgpackSerializer()
  if (option === 'json') return jsonSerializer()
  if (option === 'v8') return v8Serializer()
  if (typeof option === 'object' && option !== null) return customSerializer(option, what)
  throw new InvalidArgumentError(
    `${what} must be 'msgpack', 'json', 'v8' or an object with encode and decode functions, not ${describeOption(option)}.`,
  )
}

/**
 * A new instance of the built-in serializer with this envelope id (not custom ones), or
 * undefined for an id no built-in has.
 *
 * @example
 * ```ts
 * builtinSerializer(SERIALIZER_IDS.json)?.name // 'json'
 * ```
 */
export function builtinSerializer(id: number): Serializer | undefined {
  switch (id) {
    case SERIALIZER_IDS.msgpack:
      return msgpackSerializer()
    case SERIALIZER_IDS.json:
      return jsonSerializer()
    case SERIALIZER_IDS.v8:
      return v8Serializer()
    default:
      return undefined
  }
}

// ---------------------------------------------------------------------------- json

const JSON_NAME = 'json'

/**
 * JSON, for values JSON keeps as they are: `null`, booleans, finite numbers (not `-0`),
 * strings (lone surrogates too: JSON escapes them), dense arrays and plain objects.
 * Anything JSON would change is refused at encode time rather than read back different:
 * `Date` (JSON has no dates; it would come back as a string), `BigInt`, `Map`, `Set`,
 * `Buffer` and typed arrays, `undefined`, `NaN`, `±Infinity`, `-0`, holes, class
 * instances. Use 'msgpack' for those, or convert them first (`date.toISOString()`).
 *
 * Decoding requires valid UTF-8 and one JSON text with no surrounding whitespace, and
 * checks keys after `JSON.parse` (which keeps `__proto__` as an own property, so the
 * check sees it; a reviver would give the same result at several times the cost).
 *
 * @example
 * ```ts
 * const json = jsonSerializer()
 * json.decode(json.encode({ id: 1, tags: ['a'] })) // { id: 1, tags: ['a'] }
 * json.encode({ at: new Date() }) // throws SerializationError
 * ```
 */
export function jsonSerializer(): Serializer {
  return {
    name: JSON_NAME,
    id: SERIALIZER_IDS.json,
    encode(value: unknown): Uint8Array {
      try {
        checkJson(value, 0)
      } catch (error) {
        throw refusalError(JSON_NAME, error, 'cannot store')
      }
      let text: string
      try {
        text = JSON.stringify(value)
      } catch (error) {
        throw refusalError(JSON_NAME, error, 'could not encode')
      }
      return Buffer.from(text, 'utf8')
    },
    decode(bytes: Uint8Array): unknown {
      const buffer = bufferOf(bytes, JSON_NAME)
      if (!isUtf8(buffer)) {
        throw new SerializationError(
          `The '${JSON_NAME}' serializer refused bytes that are not UTF-8.`,
        )
      }
      const text = buffer.toString('utf8')
      if (
        text.length === 0 ||
        isJsonSpace(text.charCodeAt(0)) ||
        isJsonSpace(text.charCodeAt(text.length - 1))
      ) {
        throw new SerializationError(
          `The '${JSON_NAME}' serializer refused the payload: it is empty or has surrounding whitespace, which tiercache never writes.`,
        )
      }
      let value: unknown
      try {
        value = JSON.parse(text) as unknown
      } catch (error) {
        throw new SerializationError(
          `The '${JSON_NAME}' serializer could not parse the payload: ${describeError(error)}`,
          {
            cause: error,
          },
        )
      }
      try {
        checkParsed(value, 0)
      } catch (error) {
        throw refusalError(JSON_NAME, error, 'refused the payload at')
      }
      return value
    },
  }
}

function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d
}

function checkJson(value: unknown, depth: number): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(value)) {
        throw new Refusal(
          `${value} would come back as null (JSON has no NaN or Infinity); use 'msgpack'.`,
        )
      }
      if (value === 0 && 1 / value < 0) {
        throw new Refusal(`-0 would come back as 0; use 'msgpack'.`)
      }
      return
    case 'object':
      if (value !== null) checkJsonObject(value, depth + 1)
      return
    case 'undefined':
      throw new Refusal(
        `undefined is not JSON (it would be dropped, or read back as null in an array); use 'msgpack' or null.`,
      )
    case 'bigint':
      throw new Refusal(`a BigInt is not JSON; use 'msgpack', or store it as a string.`)
    default:
      throw new Refusal(`${describeType(value)} cannot be stored.`)
  }
}

function checkJsonObject(value: object, depth: number): void {
  if (depth > MAX_NESTING_DEPTH) {
    throw new Refusal(`it nests deeper than ${MAX_NESTING_DEPTH} levels (or holds a cycle).`)
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Array.prototype) {
    const array = value as readonly unknown[]
    for (let i = 0; i < array.length; i++) {
      const item = array[i]
      try {
        if (item === undefined && !(i in array)) {
          throw new Refusal(
            `a hole of a sparse array would come back as null; use 'msgpack' or fill it.`,
          )
        }
        checkJson(item, depth)
      } catch (error) {
        withSegment(error, `[${i}]`)
      }
    }
    return
  }
  if (proto === Object.prototype || proto === null) {
    const record = value as Record<string, unknown>
    for (const key of Object.keys(record)) {
      const item = record[key]
      checkKey(key, item)
      try {
        checkJson(item, depth)
      } catch (error) {
        withSegment(error, propertySegment(key))
      }
    }
    return
  }
  if (proto === Date.prototype) {
    throw new Refusal(
      `a Date would come back as a string from JSON; use the 'msgpack' serializer, or store date.toISOString() or date.getTime().`,
    )
  }
  if (proto === Map.prototype || proto === Set.prototype) {
    throw new Refusal(
      `${describeType(value)} would come back as {} from JSON; use the 'msgpack' serializer, or convert it to an array.`,
    )
  }
  if (proto === Buffer.prototype || TYPED_ARRAY_PROTOTYPES.has(proto as object)) {
    throw new Refusal(
      `${describeType(value)} would come back as an object or array of numbers; use the 'msgpack' serializer, or store it as base64.`,
    )
  }
  throw new Refusal(
    `${describeType(value)} would come back as a plain object (its class is not stored); convert it to a plain object, or use the 'msgpack' serializer.`,
  )
}

/** The decode-side check of JSON output: depth and the `__proto__` rules. */
function checkParsed(value: unknown, depth: number): void {
  if (typeof value !== 'object' || value === null) return
  if (depth >= MAX_NESTING_DEPTH)
    throw new Refusal(`nesting deeper than ${MAX_NESTING_DEPTH} levels.`)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      try {
        checkParsed(value[i], depth + 1)
      } catch (error) {
        withSegment(error, `[${i}]`)
      }
    }
    return
  }
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    const item = record[key]
    checkKey(key, item)
    try {
      checkParsed(item, depth + 1)
    } catch (error) {
      withSegment(error, propertySegment(key))
    }
  }
}

// ------------------------------------------------------------------------------ v8

const V8_NAME = 'v8'

/**
 * `node:v8` structured clone: cycles and shared references, sparse arrays, `-0`, lone
 * surrogates, and the types 'msgpack' keeps. Class instances, functions, symbols and
 * `__proto__` keys are refused at encode time, as with 'msgpack'.
 *
 * `v8.deserialize` must never see untrusted bytes (it is not built for hostile input), so
 * this serializer has `needsAuthenticatedInput`: the value codec accepts it only with
 * encryption on, and decodes only envelopes that encryption authenticated (C3).
 *
 * @example
 * ```ts
 * createValueCodec({ serializer: 'v8', encryption: { key } })
 * ```
 */
export function v8Serializer(): Serializer {
  return {
    name: V8_NAME,
    id: SERIALIZER_IDS.v8,
    needsAuthenticatedInput: true,
    encode(value: unknown): Uint8Array {
      try {
        checkV8(value, 0, new Set())
      } catch (error) {
        throw refusalError(V8_NAME, error, 'cannot store')
      }
      try {
        return v8Serialize(value)
      } catch (error) {
        throw refusalError(V8_NAME, error, 'could not encode')
      }
    },
    decode(bytes: Uint8Array): unknown {
      const buffer = bufferOf(bytes, V8_NAME)
      try {
        return v8Deserialize(buffer) as unknown
      } catch (error) {
        throw refusalError(V8_NAME, error, 'could not decode')
      }
    },
  }
}

/** Like msgpack's check, but a cycle or a shared reference is fine: v8 keeps identity. */
function checkV8(value: unknown, depth: number, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return
    case 'object':
      if (value === null || seen.has(value)) return
      if (depth >= MAX_NESTING_DEPTH) {
        throw new Refusal(`it nests deeper than ${MAX_NESTING_DEPTH} levels.`)
      }
      seen.add(value)
      checkV8Object(value, depth + 1, seen)
      return
    default:
      throw new Refusal(`${describeType(value)} cannot be stored.`)
  }
}

function checkV8Object(value: object, depth: number, seen: Set<object>): void {
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Array.prototype) {
    const array = value as readonly unknown[]
    for (let i = 0; i < array.length; i++) {
      try {
        checkV8(array[i], depth, seen)
      } catch (error) {
        withSegment(error, `[${i}]`)
      }
    }
    return
  }
  if (proto === Object.prototype || proto === null) {
    const record = value as Record<string, unknown>
    for (const key of Object.keys(record)) {
      const item = record[key]
      checkKey(key, item)
      try {
        checkV8(item, depth, seen)
      } catch (error) {
        withSegment(error, propertySegment(key))
      }
    }
    return
  }
  if (proto === Map.prototype) {
    let i = 0
    for (const [key, item] of value as Map<unknown, unknown>) {
      try {
        checkV8(key, depth, seen)
        checkV8(item, depth, seen)
      } catch (error) {
        withSegment(error, `<Map entry ${i}>`)
      }
      i++
    }
    return
  }
  if (proto === Set.prototype) {
    let i = 0
    for (const item of value as Set<unknown>) {
      try {
        checkV8(item, depth, seen)
      } catch (error) {
        withSegment(error, `<Set item ${i}>`)
      }
      i++
    }
    return
  }
  if (
    proto === Date.prototype ||
    proto === Buffer.prototype ||
    TYPED_ARRAY_PROTOTYPES.has(proto as object)
  ) {
    return
  }
  throw new Refusal(
    `${describeType(value)} cannot be stored: v8 would give back a plain object; keep to plain objects, arrays, Date, Map, Set, Buffer and typed arrays.`,
  )
}

// -------------------------------------------------------------------------- custom

/**
 * Wraps a custom `{ encode, decode }` so that its failures, and an `encode` that does not
 * return a `Uint8Array`, become `SerializationError` with the original as `cause`.
 * Throws `InvalidArgumentError` naming the option when the object is not one.
 *
 * @example
 * ```ts
 * const text = customSerializer({
 *   name: 'text',
 *   encode: (v) => Buffer.from(String(v)),
 *   decode: (b) => Buffer.from(b).toString(),
 * })
 * ```
 */
export function customSerializer(option: CustomSerializerOption, what = 'serializer'): Serializer {
  if (typeof option.encode !== 'function' || typeof option.decode !== 'function') {
    throw new InvalidArgumentError(`${what} must have an encode and a decode function.`)
  }
  // Bound once: later changes to the option object do not change the serializer.
  const encode = option.encode.bind(option)
  const decode = option.decode.bind(option)
  const name = option.name ?? 'custom'
  if (typeof name !== 'string' || name === '') {
    throw new InvalidArgumentError(`${what}.name must be a non-empty string.`)
  }
  const id = option.id ?? DEFAULT_CUSTOM_SERIALIZER_ID
  if (!Number.isInteger(id) || id < 128 || id > 255) {
    throw new InvalidArgumentError(
      `${what}.id must be an integer from 128 to 255 (lower ids are the built-in serializers'), not ${String(id)}.`,
    )
  }
  const needsAuthenticatedInput = option.needsAuthenticatedInput ?? false
  if (typeof needsAuthenticatedInput !== 'boolean') {
    throw new InvalidArgumentError(`${what}.needsAuthenticatedInput must be a boolean.`)
  }
  return {
    name,
    id,
    needsAuthenticatedInput,
    encode(value: unknown): Uint8Array {
      let bytes: unknown
      try {
        bytes = encode(value)
      } catch (error) {
        throw new SerializationError(
          `The '${name}' serializer could not encode the value: ${describeError(error)}`,
          {
            cause: error,
          },
        )
      }
      if (!(bytes instanceof Uint8Array)) {
        throw new SerializationError(
          `The '${name}' serializer's encode returned ${describeType(bytes)}, not a Uint8Array.`,
        )
      }
      return bytes
    },
    decode(bytes: Uint8Array): unknown {
      try {
        return decode(bytes)
      } catch (error) {
        throw new SerializationError(
          `The '${name}' serializer could not decode the payload: ${describeError(error)}`,
          {
            cause: error,
          },
        )
      }
    },
  }
}

/** A Buffer view of the input (no copy), or a SerializationError for something else. */
function bufferOf(bytes: Uint8Array, serializer: string): Buffer {
  if (!(bytes instanceof Uint8Array)) {
    throw new SerializationError(
      `The '${serializer}' serializer decodes bytes, not ${describeType(bytes)}.`,
    )
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function describeOption(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : describeType(value)
}
