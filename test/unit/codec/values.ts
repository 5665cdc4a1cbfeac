/**
 * fast-check arbitraries of cache values, per serializer: what each one declares it
 * round-trips (src/codec/codec.ts, SerializerOption). Shared by the codec tests.
 */
import fc from 'fast-check'

export type ValueKind = 'msgpack' | 'json' | 'v8'

/** One UTF-16 unit or a full code point, lone surrogates included. */
const char = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom('😀', '𝄞', '\ud800', '\udc00', 'é') },
)

export const text = fc.string({ unit: char, maxLength: 12 })

/** Object keys: anything but the two the serializers refuse (C2), tested on their own. */
const key = fc
  .string({ unit: char, maxLength: 8 })
  .filter((k) => k !== '__proto__' && k !== 'prototype')

const jsonNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
)

const jsonLeaf = fc.oneof(fc.constant(null), fc.boolean(), jsonNumber, text)

const richLeaf = fc.oneof(
  jsonLeaf,
  fc.constantFrom(undefined, -0, Number.NaN, Infinity, -Infinity),
  fc.double(),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
  fc.constantFrom(2n ** 70n, -(2n ** 70n), 2n ** 64n - 1n, -(2n ** 63n)),
  fc.date({ noInvalidDate: false }),
  fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)),
  fc.uint8Array({ maxLength: 16 }),
  fc.float64Array({ maxLength: 4 }),
  fc.int32Array({ maxLength: 4 }),
  fc.bigInt64Array({ maxLength: 3 }),
)

/**
 * Values the serializer of `kind` must give back with identical types: JSON-safe values
 * for 'json'; for 'msgpack' and 'v8' also undefined, -0, NaN, ±Infinity, BigInt, Dates
 * (invalid ones too), Buffer, Uint8Array, typed arrays, Map (object keys too) and Set;
 * for 'v8' also sparse arrays.
 */
export function valueOf(kind: ValueKind): fc.Arbitrary<unknown> {
  const leaf = kind === 'json' ? jsonLeaf : richLeaf
  const { value } = fc.letrec<{ value: unknown }>((tie) => {
    const containers: Array<fc.Arbitrary<unknown>> = [
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
    ]
    if (kind !== 'json') {
      containers.push(
        fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((e) => new Map(e)),
        fc.array(tie('value'), { maxLength: 3 }).map((items) => new Set(items)),
      )
    }
    if (kind === 'v8') containers.push(fc.sparseArray(tie('value'), { maxLength: 5 }))
    return {
      value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, ...containers),
    }
  })
  return value
}
