import { describe, it } from 'vitest'
import type { Serializer } from '../../../src/codec/codec.js'
import {
  customSerializer,
  jsonSerializer,
  msgpackSerializer,
  v8Serializer,
} from '../../../src/codec/serializers.js'
import { describeCodecConformance } from '../../../src/testing/codec-conformance.js'

const runner = { describe, it }

describeCodecConformance('msgpack serializer', msgpackSerializer, {
  runner,
  supports: {
    dates: true,
    bigints: true,
    maps: true,
    sets: true,
    binary: true,
    typedArrays: true,
    undefined: true,
    negativeZero: true,
    nonFiniteNumbers: true,
    loneSurrogates: true,
    sparseArrays: 'undefined',
  },
})

describeCodecConformance('json serializer', jsonSerializer, {
  runner,
  // Only what JSON keeps unchanged; lone surrogates survive as \u escapes.
  supports: { loneSurrogates: true },
})

describeCodecConformance('v8 serializer', v8Serializer, {
  runner,
  supports: {
    dates: true,
    bigints: true,
    maps: true,
    sets: true,
    binary: true,
    typedArrays: true,
    undefined: true,
    negativeZero: true,
    nonFiniteNumbers: true,
    loneSurrogates: true,
    sparseArrays: 'preserved',
    cycles: true,
  },
})

/** A custom serializer over JSON, as a user might write one: wrapped, it passes the core suite. */
function jsonText(): Serializer {
  return customSerializer({
    name: 'json-text',
    encode: (value) => {
      if (
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.getPrototypeOf(value) !== Object.prototype
      ) {
        throw new TypeError('plain objects only')
      }
      return new TextEncoder().encode(JSON.stringify(value, refuse))
    },
    decode: (bytes) =>
      JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown,
  })
}

function refuse(this: unknown, key: string, value: unknown): unknown {
  if (key === '__proto__') throw new TypeError('no __proto__')
  if (
    value === undefined ||
    typeof value === 'function' ||
    typeof value === 'symbol' ||
    typeof value === 'bigint' ||
    (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0)))
  ) {
    throw new TypeError(`not JSON: ${String(value)}`)
  }
  const raw = (this as Record<string, unknown>)[key]
  if (raw instanceof Date) throw new TypeError('no dates')
  if (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) !== Object.prototype
  ) {
    throw new TypeError('plain objects only')
  }
  if (Array.isArray(value) && value.length !== Object.keys(value).length) {
    throw new TypeError('no holes')
  }
  return value
}

describeCodecConformance('custom serializer (JSON text)', jsonText, {
  runner,
  supports: { loneSurrogates: true },
})
