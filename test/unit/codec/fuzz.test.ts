/**
 * C3: decoder fuzz. Random, mutated, truncated and bit-flipped envelopes (and bare
 * payloads) only ever throw SerializationError, DecryptionError or ValueTooLargeError:
 * no other error, no stack overflow, no hang. A changed encrypted envelope never decodes
 * to a value. 100 000 inputs in CI (CI=true), 5 000 locally.
 */
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EnvelopeMeta, ValueCodec, ValueCodecOptions } from '../../../src/codec/codec.js'
import { jsonSerializer, msgpackSerializer } from '../../../src/codec/serializers.js'
import { createValueCodec } from '../../../src/codec/value-codec.js'
import { DecryptionError, SerializationError, ValueTooLargeError } from '../../../src/errors.js'

const numRuns = process.env.CI ? 100_000 : 5_000
const key = randomBytes(32)
const MB = 1024 * 1024

const meta: EnvelopeMeta = {
  expiresAt: 1_800_000_000_000,
  graceUntil: 1_800_000_600_000,
  createdAt: 1_700_000_000_000,
  tags: ['users', 'team:7'],
}

const sample = {
  id: 42,
  name: 'Ada Lovelace',
  scores: [1, -2.5, 3e10],
  at: new Date(1_700_000_000_000),
  invalid: new Date(Number.NaN),
  big: 2n ** 70n,
  map: new Map<unknown, unknown>([[{ k: 1 }, new Set(['a', 'b'])]]),
  bytes: Buffer.from([1, 2, 3]),
  view: new Uint8Array([4, 5]),
  floats: new Float64Array([1.5, -0]),
  nested: { a: { b: { c: [null, true, false, undefined] } } },
  text: 'lorem ipsum '.repeat(120),
}
const jsonSample = { id: 42, name: 'Ada', list: [1, 'two', { three: [3] }], text: 'x'.repeat(1500) }
const special = { z: -0, s: 'lone \ud800', m: new Map([[-0, '\udc00']]) }

function isAllowed(error: unknown): boolean {
  return (
    error instanceof SerializationError ||
    error instanceof DecryptionError ||
    error instanceof ValueTooLargeError
  )
}

interface Base {
  readonly bytes: Buffer
  readonly encrypted: boolean
}

const writers: Array<[ValueCodecOptions, unknown]> = [
  [{}, sample],
  [{}, special],
  [{}, 7],
  [{ serializer: 'json' }, jsonSample],
  [{ compression: { algorithm: 'gzip', threshold: 0 } }, sample],
  [{ compression: { algorithm: 'brotli', threshold: 0 } }, sample],
  [{ compression: { algorithm: 'snappy', threshold: 0 } }, sample],
  [{ serializer: 'json', compression: { algorithm: 'gzip', threshold: 0 } }, jsonSample],
  [{ encryption: { key, keyId: 'k1' } }, sample],
  [
    { encryption: { key, keyId: 'k1' }, compression: { algorithm: 'brotli', threshold: 0 } },
    sample,
  ],
  [{ serializer: 'v8', encryption: { key, keyId: 'k1' } }, sample],
  [
    {
      serializer: 'v8',
      encryption: { key, keyId: 'k1' },
      compression: { algorithm: 'gzip', threshold: 0 },
    },
    jsonSample,
  ],
]

const STORAGE_KEY = 'app:user:42'
const bases: Base[] = writers.map(([options, value]) => ({
  bytes: Buffer.from(createValueCodec(options).encode(STORAGE_KEY, value, meta)),
  encrypted: options.encryption !== undefined,
}))
const encryptedBases = bases.filter((b) => b.encrypted).map((b) => b.bytes)

const readers: Array<{ name: string; codec: ValueCodec; authenticates: boolean }> = [
  { name: 'plain', codec: createValueCodec({ maxValueBytes: MB }), authenticates: false },
  {
    name: 'encrypted',
    codec: createValueCodec({ encryption: { key, keyId: 'k1' }, maxValueBytes: MB }),
    authenticates: true,
  },
  {
    name: 'encrypted, v8',
    codec: createValueCodec({
      serializer: 'v8',
      encryption: { key, keyId: 'k1' },
      maxValueBytes: MB,
    }),
    authenticates: true,
  },
  {
    name: 'migrating (allowPlaintextRead)',
    codec: createValueCodec({
      encryption: { key, keyId: 'k1', allowPlaintextRead: true },
      maxValueBytes: MB,
    }),
    authenticates: false,
  },
  { name: 'small limit', codec: createValueCodec({ maxValueBytes: 200 }), authenticates: false },
]

const baseArb = fc.integer({ min: 0, max: bases.length - 1 }).map((i) => bases[i]!.bytes)

function flipBits(bytes: Buffer, bits: readonly number[]): Buffer {
  const out = Buffer.from(bytes)
  for (const bit of bits) {
    const at = bit % (out.length * 8)
    out[at >> 3] = out[at >> 3]! ^ (1 << (at & 7))
  }
  return out
}

function insertAt(bytes: Buffer, at: number, extra: Uint8Array): Buffer {
  const i = at % (bytes.length + 1)
  return Buffer.concat([bytes.subarray(0, i), extra, bytes.subarray(i)])
}

function overwriteAt(bytes: Buffer, at: number, extra: Uint8Array): Buffer {
  const out = Buffer.from(bytes)
  out.set(extra.subarray(0, Math.max(0, out.length - (at % out.length))), at % out.length)
  return out
}

const deepPayload = (depth: number): Buffer => {
  const out = Buffer.alloc(depth + 1, 0x91)
  out[depth] = 0xc0
  return out
}

const input: fc.Arbitrary<Buffer> = fc.oneof(
  // Bit flips, one to three.
  fc
    .tuple(baseArb, fc.array(fc.nat(), { minLength: 1, maxLength: 3 }))
    .map(([b, bits]) => flipBits(b, bits)),
  // Bytes overwritten with random ones, or with 0xFF 0xFF 0xFF 0xFF (length fields at their maximum).
  fc
    .tuple(baseArb, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 }))
    .map(([b, at, x]) => overwriteAt(b, at, x)),
  fc
    .tuple(baseArb, fc.nat())
    .map(([b, at]) => overwriteAt(b, at, Buffer.from([0xff, 0xff, 0xff, 0xff]))),
  fc
    .tuple(baseArb, fc.nat())
    .map(([b, at]) => insertAt(b, at, Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]))),
  // Truncated, extended, spliced.
  fc.tuple(baseArb, fc.nat()).map(([b, n]) => b.subarray(0, n % b.length)),
  fc
    .tuple(baseArb, fc.uint8Array({ minLength: 1, maxLength: 8 }))
    .map(([b, x]) => Buffer.concat([b, x])),
  fc
    .tuple(baseArb, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }))
    .map(([b, at, x]) => insertAt(b, at, x)),
  // A valid header with a random or hostile payload.
  fc
    .tuple(baseArb, fc.uint8Array({ maxLength: 64 }))
    .map(([b, x]) => Buffer.concat([b.subarray(0, 29), x])),
  baseArb.map((b) => Buffer.concat([b.subarray(0, 29), deepPayload(10_000)])),
  // Not an envelope at all: random bytes, text, JSON, a bare msgpack value.
  fc.uint8Array({ maxLength: 128 }).map((x) => Buffer.from(x)),
  fc.string({ maxLength: 40 }).map((s) => Buffer.from(s)),
  fc.json().map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 64 }).map((x) => Buffer.concat([Buffer.from([0xc1, 0x01]), x])),
)

describe('C3: decoder fuzz', () => {
  it(`${numRuns} hostile inputs: only the three codec errors, and no changed encrypted entry decodes`, () => {
    fc.assert(
      fc.property(input, (bytes) => {
        for (const reader of readers) {
          let decoded = false
          try {
            reader.codec.decode(STORAGE_KEY, bytes)
            decoded = true
          } catch (error) {
            if (!isAllowed(error)) {
              throw new Error(`${reader.name} threw ${String(error)}`, { cause: error })
            }
          }
          if (decoded && reader.authenticates) {
            // An authenticating reader accepts exactly the envelopes that were written.
            expect(encryptedBases.some((b) => b.equals(bytes))).toBe(true)
          }
        }
      }),
      { numRuns },
    )
  }, 60_000)

  it('bare msgpack and json payloads: mutated or random bytes only throw SerializationError', () => {
    const msgpack = msgpackSerializer()
    const json = jsonSerializer()
    const payloads = [
      msgpack.encode(sample),
      msgpack.encode(special),
      msgpack.encode([1, 'a', { b: 2 }]),
    ].map((p) => Buffer.from(p))
    const payload = fc.oneof(
      fc
        .tuple(fc.constantFrom(...payloads), fc.array(fc.nat(), { minLength: 1, maxLength: 3 }))
        .map(([b, bits]) => flipBits(b, bits)),
      fc.tuple(fc.constantFrom(...payloads), fc.nat()).map(([b, n]) => b.subarray(0, n % b.length)),
      fc
        .tuple(
          fc.constantFrom(...payloads),
          fc.nat(),
          fc.uint8Array({ minLength: 1, maxLength: 5 }),
        )
        .map(([b, at, x]) => overwriteAt(b, at, x)),
      fc.uint8Array({ maxLength: 64 }).map((x) => Buffer.from(x)),
    )
    fc.assert(
      fc.property(payload, (bytes) => {
        for (const serializer of [msgpack, json]) {
          try {
            serializer.decode(bytes)
          } catch (error) {
            if (!(error instanceof SerializationError)) {
              throw new Error(`${serializer.name} threw ${String(error)}`, { cause: error })
            }
          }
        }
      }),
      { numRuns: Math.ceil(numRuns / 2) },
    )
  }, 60_000)
})
