/**
 * `describeCodecConformance`: the suite a `Serializer` passes, built-in or custom. It
 * checks that every type the serializer declares comes back deep-equal **with identical
 * types** (a Buffer stays a Buffer, a Uint8Array stays a Uint8Array, -0 stays -0), and
 * that every type it does not declare is refused with `SerializationError` when encoded,
 * never silently changed (RELIABILITY.md C1). It also checks the `__proto__` rule (C2).
 *
 * Like the store suite, it registers tests with whatever runner the caller uses and
 * asserts with `node:assert/strict` only.
 */
import assert from 'node:assert/strict'
import type { Serializer } from '../codec/codec.js'
import { InvalidArgumentError, SerializationError } from '../errors.js'
import { defaultRunner } from './runner.js'
import type { StoreConformanceRunner } from './store-conformance/index.js'

/** Makes the serializer under test; called once per test. */
export type SerializerFactory = () => Serializer

/**
 * The optional value types a serializer round-trips. Each one left out (or `false`) must
 * be refused with `SerializationError` at encode time. The core types (null, booleans,
 * finite numbers, strings, arrays, plain objects) are always required.
 */
export interface SerializerSupport {
  /** `Date`, invalid dates included. */
  dates?: boolean | undefined
  /** `BigInt`, ±2^70 included. */
  bigints?: boolean | undefined
  /** `Map`, with object keys. */
  maps?: boolean | undefined
  sets?: boolean | undefined
  /** `Buffer` and `Uint8Array`, each coming back as itself. */
  binary?: boolean | undefined
  /** The other typed arrays (`Float64Array`, `BigInt64Array`, …). */
  typedArrays?: boolean | undefined
  /** `undefined`, at the top and inside objects and arrays. */
  undefined?: boolean | undefined
  negativeZero?: boolean | undefined
  /** `NaN`, `Infinity`, `-Infinity`. */
  nonFiniteNumbers?: boolean | undefined
  /** Strings with unpaired UTF-16 surrogates, as values and as keys. */
  loneSurrogates?: boolean | undefined
  /** Holes in arrays: kept, read back as `undefined`, or (`false`) refused. */
  sparseArrays?: 'preserved' | 'undefined' | false | undefined
  /** Cyclic and shared references, with identity kept. */
  cycles?: boolean | undefined
}

/** Options of {@link describeCodecConformance}. */
export interface CodecConformanceOptions {
  /**
   * The test runner. Default: the global `describe`/`it` when present (vitest with
   * `globals: true`, jest, mocha), otherwise those of `node:test`. Under vitest without
   * globals, pass `{ describe, it }` imported from `vitest`.
   */
  runner?: StoreConformanceRunner | undefined
  /** What the serializer declares it round-trips, beyond the core types. @default {} */
  supports?: SerializerSupport | undefined
}

interface Case {
  readonly label: string
  readonly make: () => unknown
}

const CORE: readonly Case[] = [
  { label: 'null', make: () => null },
  { label: 'booleans', make: () => [true, false] },
  {
    label: 'finite numbers',
    make: () => [
      0,
      1,
      -1,
      1.5,
      -2.25,
      0.1,
      2 ** 31,
      2 ** 32 + 1,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      5e-324,
      1.7976931348623157e308,
    ],
  },
  {
    label: 'strings',
    make: () => ['', 'hello', 'ünïcödé', '𝄞 and 😀', '\u0000\u001f', 'x'.repeat(100_000)],
  },
  {
    label: 'nested objects and arrays',
    make: () => ({ a: [1, [2, [3, { b: 'c' }]]], d: {}, e: [], f: { g: { h: { i: null } } } }),
  },
  {
    label: 'keys that look special but are data',
    make: () => ({ constructor: 'Babbage', prototype: 1, toString: 'x', 'a.b': 1, '': 2, '0': 3 }),
  },
  {
    label: 'nesting 100 levels deep',
    make: () => {
      let value: unknown = 'bottom'
      for (let i = 0; i < 100; i++) value = i % 2 === 0 ? [value] : { next: value }
      return value
    },
  },
]

type SupportKey = Exclude<keyof SerializerSupport, 'sparseArrays'>

const OPTIONAL: ReadonlyArray<readonly [SupportKey, readonly Case[]]> = [
  [
    'dates',
    [
      { label: 'a Date', make: () => new Date(1_700_000_000_123) },
      {
        label: 'Dates before 1970 and at the ends of the range',
        make: () => [
          new Date(-1_500_000_000_001),
          new Date(8.64e15),
          new Date(-8.64e15),
          new Date(0),
        ],
      },
      { label: 'an invalid Date', make: () => new Date(Number.NaN) },
    ],
  ],
  [
    'bigints',
    [
      { label: 'small BigInts', make: () => [0n, 1n, -1n, 123n] },
      { label: 'BigInts of 64 bits', make: () => [2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n] },
      { label: 'BigInts of ±2^70', make: () => [2n ** 70n, -(2n ** 70n)] },
    ],
  ],
  [
    'maps',
    [
      {
        label: 'a Map with string and number keys',
        make: () =>
          new Map<unknown, unknown>([
            ['1', 'string'],
            [1, 'number'],
          ]),
      },
      {
        label: 'a Map with object keys',
        make: () =>
          new Map<unknown, unknown>([
            [{ id: 1 }, 'first'],
            [[1, 2], 'array'],
          ]),
      },
      { label: 'nested Maps', make: () => ({ m: new Map([['inner', new Map([['x', 1]])]]) }) },
    ],
  ],
  [
    'sets',
    [
      { label: 'a Set', make: () => new Set<unknown>([1, 'a', { x: 1 }, [2]]) },
      { label: 'an empty Set', make: () => new Set() },
    ],
  ],
  [
    'binary',
    [
      { label: 'a Buffer stays a Buffer', make: () => Buffer.from([0, 1, 254, 255]) },
      { label: 'a Uint8Array stays a Uint8Array', make: () => new Uint8Array([0, 1, 254, 255]) },
      {
        label: 'both side by side, and empty ones',
        make: () => ({
          b: Buffer.alloc(0),
          u: new Uint8Array(0),
          list: [Buffer.from('a'), new Uint8Array([97])],
        }),
      },
    ],
  ],
  [
    'typedArrays',
    [
      {
        label: 'Float64Array with -0 and NaN',
        make: () => new Float64Array([-0, Number.NaN, 1.5]),
      },
      {
        label: 'integer typed arrays',
        make: () => [
          new Int16Array([-2, 3]),
          new Uint32Array([4_000_000_000]),
          new BigInt64Array([-(2n ** 63n)]),
        ],
      },
    ],
  ],
  [
    'undefined',
    [
      { label: 'undefined', make: () => undefined },
      {
        label: 'undefined inside objects and arrays',
        make: () => ({ a: undefined, list: [undefined, 1] }),
      },
    ],
  ],
  [
    'negativeZero',
    [
      { label: '-0', make: () => -0 },
      { label: '-0 inside objects and arrays', make: () => ({ z: -0, list: [0, -0] }) },
    ],
  ],
  [
    'nonFiniteNumbers',
    [{ label: 'NaN and ±Infinity', make: () => [Number.NaN, Infinity, -Infinity] }],
  ],
  [
    'loneSurrogates',
    [
      {
        label: 'lone surrogates in strings',
        make: () => ['\ud800', 'a\udc00b', '\udc00\ud800', '😀\ud83d'],
      },
      { label: 'a lone surrogate in a key', make: () => ({ 'k\ud800': 1 }) },
    ],
  ],
  [
    'cycles',
    [
      {
        label: 'a cycle',
        make: () => {
          const node: Record<string, unknown> = { name: 'root' }
          node.self = node
          return node
        },
      },
    ],
  ],
]

/**
 * Registers the serializer conformance suite under `describe(name)`.
 *
 * @example
 * ```ts
 * // test/unit/codec/my-serializer.test.ts (vitest)
 * import { describe, it } from 'vitest'
 * import { describeCodecConformance } from 'tiercache/testing'
 *
 * describeCodecConformance('cbor', () => ({ name: 'cbor', id: 128, encode, decode }), {
 *   runner: { describe, it },
 *   supports: { dates: true, bigints: true, binary: true },
 * })
 * ```
 */
export function describeCodecConformance(
  name: string,
  createSerializer: SerializerFactory,
  options: CodecConformanceOptions = {},
): void {
  if (typeof name !== 'string' || name === '') {
    throw new InvalidArgumentError('describeCodecConformance needs a non-empty suite name.')
  }
  if (typeof createSerializer !== 'function') {
    throw new InvalidArgumentError('describeCodecConformance needs a factory: () => Serializer.')
  }
  const supports = options.supports ?? {}
  const runner = options.runner ?? defaultRunner('describeCodecConformance')
  runner.describe(name, () => {
    runner.describe('core types', () => {
      for (const c of CORE) {
        runner.it(`round-trips ${c.label}`, () => {
          assertRoundTrip(createSerializer(), c.make())
        })
      }
    })
    for (const [key, cases] of OPTIONAL) {
      const supported = supports[key] === true
      runner.describe(`${key} (${supported ? 'declared' : 'not declared: refused'})`, () => {
        for (const c of cases) {
          if (supported) {
            runner.it(`round-trips ${c.label} with identical types`, () => {
              const serializer = createSerializer()
              const value = c.make()
              if (key === 'cycles') assertCycle(serializer, value)
              else assertRoundTrip(serializer, value)
            })
          } else {
            runner.it(`refuses ${c.label} with SerializationError`, () => {
              assertRefused(createSerializer(), c.make())
            })
          }
        }
      })
    }
    runner.describe(`sparse arrays (${String(supports.sparseArrays ?? false)})`, () => {
      runner.it('handles holes as declared', () => {
        // eslint-disable-next-line no-sparse-arrays
        const sparse = [1, , 3]
        const serializer = createSerializer()
        switch (supports.sparseArrays) {
          case 'preserved':
            assertRoundTrip(serializer, sparse)
            break
          case 'undefined':
            assertSameValue(serializer.decode(serializer.encode(sparse)), [1, undefined, 3])
            break
          default:
            assertRefused(serializer, sparse)
        }
      })
    })
    runner.describe('always refused', () => {
      const cases: readonly Case[] = [
        { label: 'a function', make: () => ({ f: () => 1 }) },
        { label: 'a symbol', make: () => [Symbol('s')] },
        {
          label: 'a class instance',
          make: () => ({
            at: new (class Point {
              x = 1
            })(),
          }),
        },
      ]
      for (const c of cases) {
        runner.it(`refuses ${c.label} with SerializationError`, () => {
          assertRefused(createSerializer(), c.make())
        })
      }
    })
    runner.describe('prototype pollution', () => {
      runner.it('keeps __proto__ as an own property or refuses it, and never pollutes', () => {
        const serializer = createSerializer()
        for (const text of ['{"__proto__":{"polluted":1}}', '{"a":{"__proto__":{"polluted":1}}}']) {
          const value = JSON.parse(text) as Record<string, unknown>
          let bytes: Uint8Array
          try {
            bytes = serializer.encode(value)
          } catch (error) {
            assert.ok(
              error instanceof SerializationError,
              `encode threw ${String(error)}, not a SerializationError`,
            )
            continue
          }
          const back = serializer.decode(bytes) as Record<string, unknown>
          assertSameValue(back, value)
          const spread: Record<string, unknown> = { ...back }
          Object.assign({}, back, spread)
          assert.equal(({} as Record<string, unknown>).polluted, undefined)
          assert.equal(Object.getPrototypeOf(back), Object.prototype)
        }
        assert.equal(({} as Record<string, unknown>).polluted, undefined)
      })
      runner.it('refuses or keeps constructor.prototype, and never pollutes', () => {
        const serializer = createSerializer()
        const value = JSON.parse('{"constructor":{"prototype":{"polluted":1}}}') as object
        try {
          const back = serializer.decode(serializer.encode(value))
          assertSameValue(back, value)
        } catch (error) {
          assert.ok(error instanceof SerializationError, `threw ${String(error)}`)
        }
        assert.equal(({} as Record<string, unknown>).polluted, undefined)
      })
    })
    runner.describe('contract', () => {
      runner.it('has a name and an id from 0 to 255', () => {
        const serializer = createSerializer()
        assert.equal(typeof serializer.name, 'string')
        assert.ok(serializer.name.length > 0)
        assert.ok(Number.isInteger(serializer.id) && serializer.id >= 0 && serializer.id <= 255)
      })
      runner.it('encodes to a Uint8Array and leaves the value as it was', () => {
        const serializer = createSerializer()
        const value = { a: [1, 2], b: { c: 'd' } }
        const bytes = serializer.encode(value)
        assert.ok(bytes instanceof Uint8Array)
        assert.deepStrictEqual(value, { a: [1, 2], b: { c: 'd' } })
      })
      runner.it('throws SerializationError for empty input', () => {
        const serializer = createSerializer()
        assert.throws(() => serializer.decode(new Uint8Array(0)), SerializationError)
      })
      runner.it('decodes into new objects, unaffected by later changes to the bytes', () => {
        const serializer = createSerializer()
        const bytes = serializer.encode({ list: ['x', 'y'] })
        const copy = new Uint8Array(bytes)
        const first = serializer.decode(copy)
        copy.fill(0)
        assertSameValue(first, { list: ['x', 'y'] })
      })
    })
  })
}

function assertRoundTrip(serializer: Serializer, value: unknown): void {
  const bytes = serializer.encode(value)
  assert.ok(bytes instanceof Uint8Array, `${serializer.name}.encode must return a Uint8Array`)
  assertSameValue(serializer.decode(bytes), value)
}

/**
 * Asserts that `actual` is `expected` rebuilt: the same prototypes all the way down
 * (a Buffer is not a Uint8Array), `Object.is` on primitives (-0, NaN) and on the times of
 * Dates (invalid ones included, which `assert.deepStrictEqual` does not accept), holes
 * where `expected` has holes, and Map and Set entries in the same order. Throws an
 * `AssertionError` naming the first difference.
 *
 * @example
 * ```ts
 * assertSameValue(serializer.decode(serializer.encode(value)), value)
 * ```
 */
export function assertSameValue(actual: unknown, expected: unknown): void {
  const problem = difference(actual, expected, 'value', new Map())
  if (problem !== undefined) assert.fail(problem)
}

function difference(
  actual: unknown,
  expected: unknown,
  path: string,
  seen: Map<object, unknown>,
): string | undefined {
  if (typeof expected !== 'object' || expected === null) {
    return Object.is(actual, expected)
      ? undefined
      : `${path}: expected ${show(expected)}, got ${show(actual)}`
  }
  if (typeof actual !== 'object' || actual === null) {
    return `${path}: expected ${typeName(expected)}, got ${show(actual)}`
  }
  if (Object.getPrototypeOf(actual) !== Object.getPrototypeOf(expected)) {
    return `${path}: expected ${typeName(expected)}, got ${typeName(actual)}`
  }
  // A reference met again: the same rebuilt object (identity kept) needs no second look.
  if (seen.get(expected) === actual) return undefined
  seen.set(expected, actual)
  if (expected instanceof Date) {
    const [a, e] = [(actual as Date).getTime(), expected.getTime()]
    return Object.is(a, e) ? undefined : `${path}: expected the time ${e}, got ${a}`
  }
  if (ArrayBuffer.isView(expected)) {
    const a = actual as ArrayBufferView
    const ab = new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
    const eb = new Uint8Array(expected.buffer, expected.byteOffset, expected.byteLength)
    return ab.length === eb.length && ab.every((byte, i) => byte === eb[i])
      ? undefined
      : `${path}: the bytes differ`
  }
  if (expected instanceof Map || expected instanceof Set) {
    // A Set's entries are [item, item] pairs, so one loop compares both kinds in order.
    const a: Array<[unknown, unknown]> = [...(actual as Map<unknown, unknown>).entries()]
    const e: Array<[unknown, unknown]> = [...(expected as Map<unknown, unknown>).entries()]
    if (a.length !== e.length) return `${path}: expected ${e.length} entries, got ${a.length}`
    for (let i = 0; i < e.length; i++) {
      const [ak, av] = a[i]!
      const [ek, ev] = e[i]!
      const problem =
        difference(ak, ek, `${path}<entry ${i} key>`, seen) ??
        difference(av, ev, `${path}<entry ${i}>`, seen)
      if (problem !== undefined) return problem
    }
    return undefined
  }
  const a = actual as Record<string, unknown>
  const e = expected as Record<string, unknown>
  const aKeys = Object.keys(a).sort()
  const eKeys = Object.keys(e).sort()
  if (aKeys.join('\0') !== eKeys.join('\0')) {
    return `${path}: expected the keys [${eKeys.join(', ')}], got [${aKeys.join(', ')}] (holes of an array count as missing keys)`
  }
  if (Array.isArray(expected) && (actual as unknown[]).length !== expected.length) {
    return `${path}: expected length ${expected.length}, got ${(actual as unknown[]).length}`
  }
  for (const key of eKeys) {
    const problem = difference(a[key], e[key], `${path}[${JSON.stringify(key)}]`, seen)
    if (problem !== undefined) return problem
  }
  return undefined
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (Object.is(value, -0)) return '-0'
  if (typeof value === 'object' && value !== null) return typeName(value)
  return String(value)
}

function typeName(value: object): string {
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null
  return proto === null ? 'a null-prototype object' : `a ${proto.constructor?.name ?? 'object'}`
}

function assertCycle(serializer: Serializer, value: unknown): void {
  const back = serializer.decode(serializer.encode(value)) as Record<string, unknown>
  assert.equal(back.self, back)
  assert.equal(back.name, 'root')
}

function assertRefused(serializer: Serializer, value: unknown): void {
  assert.throws(
    () => serializer.encode(value),
    (error: unknown) => error instanceof SerializationError,
    `${serializer.name} must refuse the value with SerializationError at encode time, not store something else`,
  )
}
