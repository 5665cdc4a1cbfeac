/**
 * The binary envelope: its layout (the table in src/codec/envelope.ts) and strict parsing.
 */
import { describe, expect, it } from 'vitest'
import {
  ENVELOPE_FIXED_BYTES,
  ENVELOPE_MAGIC,
  ENVELOPE_VERSION,
  encodeEnvelopeHeader,
  joinChecksummed,
  joinEnvelope,
  parseEnvelope,
} from '../../../src/codec/envelope.js'
import type { EnvelopeFields } from '../../../src/codec/envelope.js'
import { InvalidArgumentError, SerializationError } from '../../../src/errors.js'

const meta = {
  expiresAt: 1_800_000_000_000,
  graceUntil: 1_800_000_060_000,
  createdAt: 1_700_000_000_000,
}

function envelope(fields: Partial<EnvelopeFields> = {}, payload = Buffer.from([0x01])): Buffer {
  const header = encodeEnvelopeHeader({ serializerId: 1, compressionId: 0, meta, ...fields })
  // Unencrypted envelopes carry a CRC-32 trailer; encrypted ones the GCM tag instead.
  return Buffer.from(
    fields.keyId === undefined
      ? joinChecksummed('k', header, payload)
      : joinEnvelope(header, payload),
  )
}

function parseError(bytes: Uint8Array): SerializationError {
  try {
    parseEnvelope(bytes)
  } catch (error) {
    expect(error).toBeInstanceOf(SerializationError)
    return error as SerializationError
  }
  throw new Error('expected a SerializationError')
}

describe('envelope layout', () => {
  it('writes the fixed header as documented', () => {
    const bytes = envelope({ serializerId: 2, compressionId: 4 })
    expect(bytes[0]).toBe(ENVELOPE_MAGIC)
    expect(bytes[0]).toBe(0xc1)
    expect(bytes[1]).toBe(ENVELOPE_VERSION)
    expect(bytes[2]).toBe(0b100) // checksummed, no tags, not encrypted
    expect(bytes[3]).toBe(2)
    expect(bytes[4]).toBe(4)
    expect(bytes.readDoubleBE(5)).toBe(meta.expiresAt)
    expect(bytes.readDoubleBE(13)).toBe(meta.graceUntil)
    expect(bytes.readDoubleBE(21)).toBe(meta.createdAt)
    expect(ENVELOPE_FIXED_BYTES).toBe(29)
    expect(bytes.length).toBe(34)
    expect(bytes[29]).toBe(0x01) // the payload
    expect(parseEnvelope(bytes).checksum).toBe(bytes.readUInt32BE(30)) // then the CRC-32
  })

  it('writes tags and the key id after the fixed header', () => {
    const bytes = envelope({ keyId: 'k1', meta: { ...meta, tags: ['a', 'ü'] } }, Buffer.from('xyz'))
    expect(bytes[2]).toBe(0b11)
    expect([...bytes.subarray(29, 29 + 6)]).toEqual([2, 1, 0x61, 2, 0xc3, 0xbc])
    expect([...bytes.subarray(35, 38)]).toEqual([2, 0x6b, 0x31])
    expect(bytes.subarray(38).toString()).toBe('xyz')
  })

  it('parses what it writes, with views of the header and the payload', () => {
    const bytes = envelope({ keyId: 'key-2026', meta: { ...meta, tags: ['t'.repeat(200), 'x'] } })
    const parsed = parseEnvelope(bytes)
    expect(parsed.version).toBe(1)
    expect(parsed.serializerId).toBe(1)
    expect(parsed.compressionId).toBe(0)
    expect(parsed.keyId).toBe('key-2026')
    expect(parsed.meta).toEqual({ ...meta, tags: ['t'.repeat(200), 'x'] })
    expect(parsed.header.length + parsed.payload.length).toBe(bytes.length)
    expect(parsed.header.buffer).toBe(bytes.buffer)
    expect([...parsed.payload]).toEqual([1])
  })

  it('leaves tags out of meta when there are none (an empty list is written as none)', () => {
    expect(parseEnvelope(envelope()).meta).toEqual(meta)
    expect('tags' in parseEnvelope(envelope({ meta: { ...meta, tags: [] } })).meta).toBe(false)
  })

  it('accepts an empty payload at this layer (the serializer refuses it)', () => {
    expect(parseEnvelope(envelope({}, Buffer.alloc(0))).payload.length).toBe(0)
  })

  it('writes -0 times as 0', () => {
    expect(parseEnvelope(envelope({ meta: { ...meta, graceUntil: -0 } })).meta.graceUntil).toBe(0)
  })

  it('refuses fields it cannot write with InvalidArgumentError', () => {
    const bad: Array<Partial<EnvelopeFields>> = [
      { meta: { ...meta, expiresAt: Number.NaN } },
      { meta: { ...meta, createdAt: -1 } },
      { meta: { ...meta, graceUntil: Infinity } },
      { meta: { ...meta, tags: [''] } },
      { meta: { ...meta, tags: ['\ud800'] } },
      { meta: { ...meta, tags: [1 as never] } },
      { keyId: '' },
      { keyId: 'k'.repeat(65) },
      { serializerId: 9 },
      { serializerId: 300 },
      { compressionId: 7 },
    ]
    for (const fields of bad) {
      expect(() => envelope(fields)).toThrow(InvalidArgumentError)
    }
  })
})

describe('strict parsing', () => {
  const good = envelope(
    { keyId: 'k1', meta: { ...meta, tags: ['alpha', 'beta'] } },
    Buffer.alloc(40, 7),
  )

  it('refuses a wrong magic byte, plain text and JSON without an envelope', () => {
    expect(parseError(Buffer.from('{"a":1}')).message).toMatch(
      /Not a tiercache envelope: it starts with byte 0x7b/,
    )
    parseError(Buffer.from('hello'))
    parseError(Buffer.from([0x93, 1, 2, 3])) // a bare msgpack array
    parseError(new Uint8Array(0))
  })

  it('names a newer format version as such', () => {
    const future = Buffer.from(good)
    future[1] = 2
    expect(parseError(future).message).toMatch(
      /format version 2, newer than this tiercache reads \(1\).*upgrade/,
    )
    future[1] = 0
    expect(parseError(future).message).toMatch(/format version 0, which no tiercache writes/)
  })

  it('refuses unknown flag bits, serializer ids and compression ids', () => {
    for (let bit = 3; bit < 8; bit++) {
      const bytes = Buffer.from(good)
      bytes[2] = bytes[2]! | (1 << bit)
      expect(parseError(bytes).message).toMatch(/unknown flag bits/)
    }
    for (const id of [0, 4, 5, 127]) {
      const bytes = Buffer.from(good)
      bytes[3] = id
      expect(parseError(bytes).message).toMatch(/serializer id/)
    }
    for (const id of [5, 6, 255]) {
      const bytes = Buffer.from(good)
      bytes[4] = id
      expect(parseError(bytes).message).toMatch(/compression id/)
    }
  })

  it('accepts custom serializer ids 128–255 (the codec decides whether it has one)', () => {
    const bytes = Buffer.from(good)
    bytes[3] = 200
    expect(parseEnvelope(bytes).serializerId).toBe(200)
  })

  it('refuses times that are not finite non-negative numbers', () => {
    for (const bad of [Number.NaN, -1, -0, Infinity, -Infinity]) {
      for (const offset of [5, 13, 21]) {
        const bytes = Buffer.from(good)
        bytes.writeDoubleBE(bad, offset)
        expect(parseError(bytes).message).toMatch(/not a time/)
      }
    }
  })

  it('refuses every truncation inside the header', () => {
    const headerLength = parseEnvelope(good).header.length
    for (let n = 0; n < headerLength; n++) parseError(good.subarray(0, n))
  })

  it('checks lengths against the bytes left before allocating (length fields of 2^28-1, 0xFF)', () => {
    // Tag count 2^28-1 in a 40-byte envelope.
    const huge = Buffer.concat([
      envelope().subarray(0, 29),
      Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 0x61]),
    ])
    huge[2] = 0b110
    expect(parseError(huge).message).toMatch(/tag count 268435455 does not fit/)
    // A tag length past the end.
    const longTag = Buffer.concat([
      envelope().subarray(0, 29),
      Buffer.from([1, 0xff, 0xff, 0x03, 0x61]),
    ])
    longTag[2] = 0b110
    expect(parseError(longTag).message).toMatch(/truncated: it ends inside tag 0/)
    // A key id length of 0xFF.
    const longId = Buffer.concat([envelope().subarray(0, 29), Buffer.from([0xff, 0x61])])
    longId[2] = 0b01
    expect(parseError(longId).message).toMatch(/key id length 255/)
  })

  it('refuses varints in a padded or too long form', () => {
    for (const tagBytes of [
      [0x81, 0x00, 0x01, 0x61], // count 1 written in two bytes
      [0x80, 0x80, 0x80, 0x80, 0x01],
      [0x00], // count 0 with the tags flag set
    ]) {
      const bytes = Buffer.concat([
        envelope().subarray(0, 29),
        Buffer.from(tagBytes),
        Buffer.from([1]),
      ])
      bytes[2] = 0b110
      parseError(bytes)
    }
  })

  it('refuses tags and key ids that are not UTF-8, or empty', () => {
    const badTag = Buffer.concat([envelope().subarray(0, 29), Buffer.from([1, 2, 0xc3, 0x28, 1])])
    badTag[2] = 0b110
    expect(parseError(badTag).message).toMatch(/tag 0 is not UTF-8/)
    const emptyTag = Buffer.concat([envelope().subarray(0, 29), Buffer.from([1, 0, 1])])
    emptyTag[2] = 0b110
    parseError(emptyTag)
    const badId = Buffer.concat([envelope().subarray(0, 29), Buffer.from([1, 0xff, 1])])
    badId[2] = 0b01
    expect(parseError(badId).message).toMatch(/key id is not UTF-8/)
  })

  it('refuses input that is not a Uint8Array', () => {
    parseError('c101' as never)
  })
})
