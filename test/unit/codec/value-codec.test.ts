/**
 * createValueCodec: options, maxValueBytes, reading entries written with other settings,
 * v8's authenticated-only decoding, and the property that every supported value
 * round-trips through every serializer × compression × encryption combination.
 */
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EnvelopeMeta, ValueCodecOptions } from '../../../src/codec/codec.js'
import {
  encodeEnvelopeHeader,
  joinChecksummed,
  parseEnvelope,
} from '../../../src/codec/envelope.js'
import { DEFAULT_MAX_VALUE_BYTES, createValueCodec } from '../../../src/codec/value-codec.js'
import {
  DecryptionError,
  InvalidArgumentError,
  SerializationError,
  ValueTooLargeError,
} from '../../../src/errors.js'
import { assertSameValue } from '../../../src/testing/codec-conformance.js'
import { valueOf } from './values.js'

const key = randomBytes(32)
const meta: EnvelopeMeta = {
  expiresAt: 1_800_000_000_000,
  graceUntil: 0,
  createdAt: 1_700_000_000_000,
}

describe('options', () => {
  it.each([
    [{ serializer: 'cbor' }, /serializer must be 'msgpack', 'json', 'v8'/],
    [
      { serializer: 'v8' },
      /serializer 'v8' decodes only bytes that encryption authenticated.*set the 'encryption' option/,
    ],
    [{ compression: 'gzip' }, /compression must be an object/],
    [{ compression: { algorithm: 'lz4' } }, /compression\.algorithm must be/],
    [
      { compression: { algorithm: 'gzip', threshold: -1 } },
      /compression\.threshold must be a whole number/,
    ],
    [{ compression: { algorithm: 'gzip', threshold: 1.5 } }, /compression\.threshold/],
    [{ compression: { algorithm: 'gzip', level: 9 } }, /compression has an unknown option 'level'/],
    [{ encryption: 'secret' }, /encryption must be an object/],
    [{ encryption: {} }, /encryption\.key must be/],
    [{ maxValueBytes: 0 }, /maxValueBytes must be an integer from 1/],
    [{ maxValueBytes: 1.5 }, /maxValueBytes/],
    [{ maxValueBytes: Infinity }, /maxValueBytes/],
    [{ maxValueBytes: '1mb' }, /maxValueBytes/],
    [{ ttl: 5 }, /Unknown value codec option 'ttl'/],
    [
      {
        serializer: {
          encode: () => new Uint8Array(),
          decode: () => 1,
          needsAuthenticatedInput: true,
        },
      },
      /needs|decodes only bytes that encryption authenticated/,
    ],
  ])('refuses %o, naming the option', (options, message) => {
    expect(() => createValueCodec(options as ValueCodecOptions)).toThrow(InvalidArgumentError)
    expect(() => createValueCodec(options as ValueCodecOptions)).toThrow(message)
  })

  it('defaults to msgpack, no compression, no encryption, 16 MiB', () => {
    const codec = createValueCodec()
    const parsed = parseEnvelope(codec.encode('k', 'x'.repeat(5000), meta))
    expect(parsed.serializerId).toBe(1)
    expect(parsed.compressionId).toBe(0)
    expect(parsed.keyId).toBeUndefined()
    expect(DEFAULT_MAX_VALUE_BYTES).toBe(16 * 1024 * 1024)
  })

  it('compresses above the default threshold of 1024 bytes only', () => {
    const codec = createValueCodec({ compression: { algorithm: 'gzip' } })
    expect(parseEnvelope(codec.encode('k', 'a'.repeat(1000), meta)).compressionId).toBe(0)
    expect(parseEnvelope(codec.encode('k', 'a'.repeat(1100), meta)).compressionId).toBe(1)
  })

  it('refuses a storage key that is not a string and a bad meta', () => {
    const codec = createValueCodec()
    expect(() => codec.encode(1 as never, 1, meta)).toThrow(InvalidArgumentError)
    expect(() => codec.decode(undefined as never, new Uint8Array())).toThrow(InvalidArgumentError)
    expect(() => codec.encode('k', 1, { ...meta, expiresAt: Number.NaN })).toThrow(
      /meta\.expiresAt/,
    )
    expect(() => codec.encode('k', 1, { ...meta, tags: [''] })).toThrow(InvalidArgumentError)
  })
})

describe('envelope meta', () => {
  it('round-trips expiry, grace, creation time and tags', () => {
    const codec = createValueCodec()
    const full = { expiresAt: 5, graceUntil: 10, createdAt: 1, tags: ['a', 'b:c', 'ü'] }
    expect(codec.decode('k', codec.encode('k', null, full))).toEqual({ value: null, meta: full })
    const none = { expiresAt: 0, graceUntil: 0, createdAt: 0 }
    expect(codec.decode('k', codec.encode('k', null, none)).meta).toEqual(none)
  })
})

describe('maxValueBytes', () => {
  it('refuses a value whose serialized size is above it, before anything is encoded', () => {
    let encrypted = 0
    const codec = createValueCodec({
      maxValueBytes: 1000,
      encryption: { key, keyWearThreshold: 1, onKeyWearing: () => encrypted++ },
    })
    let result: Uint8Array | undefined
    expect(() => {
      result = codec.encode('big:1', 'x'.repeat(2000), meta)
    }).toThrow(ValueTooLargeError)
    expect(result).toBeUndefined()
    expect(codec.encryptions).toBe(0)
    expect(encrypted).toBe(0)
    try {
      codec.encode('big:1', 'x'.repeat(2000), meta)
    } catch (error) {
      expect(error).toMatchObject({ size: 2003, limit: 1000 })
      expect((error as Error).message).toMatch(
        /'big:1' is 2003 bytes, above maxValueBytes \(1000\)/,
      )
    }
  })

  it('counts the whole envelope: a value just under the limit with its header over it is refused', () => {
    const codec = createValueCodec({ maxValueBytes: 1000, encryption: { key } })
    // 990 serialized bytes fit; with the header (29 + 9 key id) and nonce + tag (28) they do not.
    expect(() => codec.encode('k', 'x'.repeat(987), meta)).toThrow(ValueTooLargeError)
    expect(codec.encryptions).toBe(0)
    expect(codec.encode('k', 'x'.repeat(900), meta).length).toBeLessThanOrEqual(1000)
  })

  it('allows a value that only fits compressed, and reads it back', () => {
    const codec = createValueCodec({ maxValueBytes: 10_000, compression: { algorithm: 'brotli' } })
    const value = 'abc'.repeat(3000) // 9 000 bytes serialized, ~100 compressed
    expect(codec.decode('k', codec.encode('k', value, meta)).value).toBe(value)
    expect(() => codec.encode('k', 'abc'.repeat(4000), meta)).toThrow(ValueTooLargeError)
  })

  it('refuses to read an entry longer than it', () => {
    const bytes = createValueCodec().encode('k', 'x'.repeat(5000), meta)
    expect(() => createValueCodec({ maxValueBytes: 4000 }).decode('k', bytes)).toThrow(
      ValueTooLargeError,
    )
  })
})

describe('reading entries written with other settings', () => {
  const value = { id: 7, name: 'Grace', tags: ['a', 'b'], note: 'n'.repeat(2000) }

  it('reads every built-in serializer and compressor, whatever it is configured with', () => {
    const writers: ValueCodecOptions[] = [
      { serializer: 'json' },
      { serializer: 'json', compression: { algorithm: 'gzip', threshold: 0 } },
      { compression: { algorithm: 'brotli', threshold: 0 } },
      { compression: { algorithm: 'snappy', threshold: 0 } },
    ]
    const reader = createValueCodec({ serializer: 'msgpack', compression: { algorithm: 'gzip' } })
    const plainReader = createValueCodec({ serializer: 'json' })
    for (const options of writers) {
      const bytes = createValueCodec(options).encode('k', value, meta)
      expect(reader.decode('k', bytes).value).toEqual(value)
      expect(plainReader.decode('k', bytes).value).toEqual(value)
    }
  })

  it('reads v8 entries only when encryption authenticated them', () => {
    const v8 = createValueCodec({ serializer: 'v8', encryption: { key } })
    const msgpackReader = createValueCodec({ encryption: { key } })
    expect(msgpackReader.decode('k', v8.encode('k', value, meta)).value).toEqual(value)
    // A plaintext v8 entry (written by hand: tiercache never writes one) is never decoded,
    // even by a reader that allows plaintext.
    const header = encodeEnvelopeHeader({ serializerId: 3, compressionId: 0, meta })
    const forged = joinChecksummed('k', header, Buffer.from([0xff, 0x0f, 0x49, 0x02]))
    for (const reader of [
      createValueCodec(),
      createValueCodec({ encryption: { key, allowPlaintextRead: true } }),
    ]) {
      expect(() => reader.decode('k', forged)).toThrow(SerializationError)
      expect(() => reader.decode('k', forged)).toThrow(
        /'v8' serializer, which decodes only entries that encryption authenticated/,
      )
    }
    expect(() => v8.decode('k', forged)).toThrow(DecryptionError)
  })

  it("reads a custom serializer's entries only with a serializer of the same id", () => {
    const custom = {
      id: 150,
      encode: (v: unknown) => Buffer.from(String(v)),
      decode: (b: Uint8Array) => Buffer.from(b).toString(),
    }
    const bytes = createValueCodec({ serializer: custom }).encode('k', 'hello', meta)
    expect(() => createValueCodec().decode('k', bytes)).toThrow(
      /custom serializer with id 150; configure that serializer/,
    )
    expect(createValueCodec({ serializer: { ...custom } }).decode('k', bytes).value).toBe('hello')
    expect(() =>
      createValueCodec({ serializer: { ...custom, id: 151 } }).decode('k', bytes),
    ).toThrow(SerializationError)
  })

  it('refuses bytes appended after the payload at the layer that owns them', () => {
    const cases: Array<[ValueCodecOptions, typeof SerializationError]> = [
      [{}, SerializationError],
      [{ serializer: 'json' }, SerializationError],
      [{ compression: { algorithm: 'gzip', threshold: 0 } }, SerializationError],
      [{ compression: { algorithm: 'brotli', threshold: 0 } }, SerializationError],
      [{ compression: { algorithm: 'snappy', threshold: 0 } }, SerializationError],
      [{ encryption: { key } }, DecryptionError],
    ]
    for (const [options, kind] of cases) {
      const codec = createValueCodec(options)
      const bytes = codec.encode('k', value, meta)
      for (const tail of [[0], [0x20], [1, 2, 3]]) {
        expect(() => codec.decode('k', Buffer.concat([bytes, Buffer.from(tail)]))).toThrow(kind)
      }
    }
  })
})

describe('property: every supported value round-trips through every combination', () => {
  const serializers = ['msgpack', 'json', 'v8'] as const
  const compressions = [undefined, 'gzip', 'brotli', 'snappy'] as const
  const encryptions = [false, true] as const
  const combos = serializers.flatMap((serializer) =>
    compressions.flatMap((algorithm) =>
      encryptions.map((encrypted) => ({ serializer, algorithm, encrypted })),
    ),
  )

  it.each(combos)(
    '$serializer × $algorithm × encryption $encrypted',
    ({ serializer, algorithm, encrypted }) => {
      const options: ValueCodecOptions = {
        serializer,
        // Threshold 0: compress whenever it makes the value smaller.
        ...(algorithm === undefined ? {} : { compression: { algorithm, threshold: 0 } }),
        ...(encrypted ? { encryption: { key } } : {}),
      }
      if (serializer === 'v8' && !encrypted) {
        expect(() => createValueCodec(options)).toThrow(InvalidArgumentError)
        return
      }
      const codec = createValueCodec(options)
      fc.assert(
        fc.property(
          valueOf(serializer),
          fc.array(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 3 }),
          fc.string({ maxLength: 20 }),
          (value, tags, storageKey) => {
            const entryMeta = tags.length === 0 ? meta : { ...meta, tags }
            const bytes = codec.encode(storageKey, value, entryMeta)
            const back = codec.decode(storageKey, bytes)
            assertSameValue(back.value, value)
            expect(back.meta).toEqual(entryMeta)
          },
        ),
        { numRuns: 150 },
      )
    },
  )
})

describe('unencrypted entries carry a checksum', () => {
  it('catches every single bit flip, and an entry copied under another key', () => {
    const codec = createValueCodec()
    const entry = Buffer.from(
      codec.encode(
        'user:1',
        { name: 'alice', admin: false, n: 12345 },
        {
          expiresAt: 0,
          graceUntil: 0,
          createdAt: 1_700_000_000_000,
          tags: ['users'],
        },
      ),
    )
    for (let bit = 0; bit < entry.length * 8; bit++) {
      const flipped = Buffer.from(entry)
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      expect(() => codec.decode('user:1', flipped), `bit ${bit}`).toThrow(SerializationError)
    }
    expect(() => codec.decode('user:2', entry)).toThrow(/fails its checksum/)
    expect(codec.decode('user:1', entry).value).toEqual({ name: 'alice', admin: false, n: 12345 })
  })
})
