/**
 * The binary envelope of a remote value: what the value codec writes to a store and
 * parses back. Remote tiers hold envelopes so that expiry, grace, tags and the remaining
 * ttl work on every store, whatever its own ttl support.
 *
 * Layout, format version 1 (all integers big-endian):
 *
 * | offset | bytes | field                                                                 |
 * | -----: | ----: | --------------------------------------------------------------------- |
 * |      0 |     1 | magic `0xC1` (never a msgpack value, never UTF-8, so neither a bare    |
 * |        |       | msgpack value nor JSON text is mistaken for an envelope)              |
 * |      1 |     1 | format version, `1`                                                   |
 * |      2 |     1 | flags: bit 0 encrypted, bit 1 has tags, bit 2 checksummed (set exactly |
 * |        |       | when bit 0 is not); bits 3–7 are zero                                 |
 * |      3 |     1 | serializer id (1 msgpack, 2 json, 3 v8, 128–255 custom)               |
 * |      4 |     1 | compression id (0 none, 1 gzip, 2 brotli, 3 zstd, 4 snappy)           |
 * |      5 |     8 | expiresAt, float64 epoch ms, 0 = never                                |
 * |     13 |     8 | graceUntil, float64 epoch ms, 0 = no grace                            |
 * |     21 |     8 | createdAt, float64 epoch ms                                           |
 * |     29 |     … | if has tags: count (varint, ≥ 1), then per tag its UTF-8 byte length  |
 * |        |       | (varint, ≥ 1) and its bytes                                           |
 * |      … |     … | if encrypted: key id length (1 byte, 1–64) and the key id in UTF-8    |
 * |      … |  rest | payload: the serialized value, compressed if the compression id is    |
 * |        |       | not 0; if encrypted, `nonce (12) ‖ ciphertext ‖ GCM tag (16)` of that |
 * |        |       | (the header, bytes 0 up to the payload, is part of the associated     |
 * |        |       | data, so no header byte can change unnoticed)                         |
 * |   last |     4 | if not encrypted: CRC-32 of the storage key's UTF-8 bytes, then of    |
 * |        |       | every envelope byte before it, so a flipped bit or a value copied     |
 * |        |       | under another key is caught without encryption too                   |
 *
 * Varints are unsigned LEB128 of at most 4 bytes (< 2^28), in their shortest form.
 * float64 keeps any epoch ms exactly, and is what a JavaScript number is; 24 bytes of
 * times were preferred to varints for a fixed, simple header.
 *
 * Parsing is strict: a wrong magic byte, another format version (a newer one says so),
 * unknown flag bits or ids, times that are not finite non-negative numbers, a varint in
 * a non-shortest form, tags or a key id that are not UTF-8, and any length past the end
 * throw `SerializationError`. Every length is checked against the bytes left before it
 * is used, so no input causes an allocation larger than itself. The payload runs to the
 * end of the envelope; bytes appended after it are caught by the layer below (msgpack
 * and JSON require the value to end exactly there, the decompressors reject trailing
 * bytes, and AES-GCM fails).
 */
import { crc32 } from 'node:zlib'
import { InvalidArgumentError, SerializationError } from '../errors.js'
import type { EnvelopeMeta } from './codec.js'
import { COMPRESSION_IDS } from './compression.js'
import { MAX_KEY_ID_BYTES } from './encryption.js'
import { SERIALIZER_IDS } from './serializers.js'
import { isWellFormed } from './value-walk.js'

/** First byte of every envelope. */
export const ENVELOPE_MAGIC = 0xc1
/** The format version this code writes and reads. */
export const ENVELOPE_VERSION = 1
/** Bytes before the tags: magic, version, flags, two ids, three float64 times. */
export const ENVELOPE_FIXED_BYTES = 29

const FLAG_ENCRYPTED = 0b001
const FLAG_TAGS = 0b010
const FLAG_CHECKSUM = 0b100
const KNOWN_FLAGS = FLAG_ENCRYPTED | FLAG_TAGS | FLAG_CHECKSUM
/** Bytes of the CRC-32 trailer of an unencrypted envelope. */
export const CHECKSUM_BYTES = 4
const MAX_VARINT = 2 ** 28 - 1

const KNOWN_SERIALIZERS: ReadonlySet<number> = new Set(Object.values(SERIALIZER_IDS))
const KNOWN_COMPRESSIONS: ReadonlySet<number> = new Set(Object.values(COMPRESSION_IDS))
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** What an envelope header holds, for {@link encodeEnvelopeHeader}. */
export interface EnvelopeFields {
  readonly serializerId: number
  /** 0 when the payload is not compressed. */
  readonly compressionId: number
  /** Set when the payload is encrypted: the id of the key. */
  readonly keyId?: string | undefined
  readonly meta: EnvelopeMeta
}

/** A parsed envelope. `header` and `payload` are views into the input, not copies. */
export interface ParsedEnvelope {
  readonly version: number
  readonly serializerId: number
  readonly compressionId: number
  /** The key id when the payload is encrypted, else undefined. */
  readonly keyId: string | undefined
  readonly meta: EnvelopeMeta
  /** Bytes 0 up to the payload: the associated data of the encryption (with the storage key). */
  readonly header: Uint8Array
  readonly payload: Uint8Array
  /** The CRC-32 trailer of an unencrypted envelope (check it with {@link checksumOf}), else undefined. */
  readonly checksum: number | undefined
  /** The bytes the checksum covers (after the storage key): everything before the trailer. */
  readonly checked: Uint8Array
}

/**
 * Encodes an envelope header (everything before the payload). Throws
 * `InvalidArgumentError` for fields it cannot write: ids out of range, times that are not
 * finite and non-negative, tags that are not non-empty well-formed strings, a key id of 0
 * or more than 64 UTF-8 bytes.
 *
 * @example
 * ```ts
 * const header = encodeEnvelopeHeader({ serializerId: 1, compressionId: 0, meta: { expiresAt: 0, graceUntil: 0, createdAt: Date.now() } })
 * const envelope = joinEnvelope(header, payload)
 * ```
 */
export function encodeEnvelopeHeader(fields: EnvelopeFields): Uint8Array {
  const { serializerId, compressionId, keyId, meta } = fields
  if (!KNOWN_SERIALIZERS.has(serializerId) && !(serializerId >= 128 && serializerId <= 255)) {
    throw new InvalidArgumentError(`Serializer id ${serializerId} cannot be written.`)
  }
  if (!KNOWN_COMPRESSIONS.has(compressionId)) {
    throw new InvalidArgumentError(`Compression id ${compressionId} cannot be written.`)
  }
  checkTime(meta.expiresAt, 'expiresAt')
  checkTime(meta.graceUntil, 'graceUntil')
  checkTime(meta.createdAt, 'createdAt')
  const tags = meta.tags !== undefined && meta.tags.length > 0 ? meta.tags : undefined
  let tagBytes: Buffer[] | undefined
  let size = ENVELOPE_FIXED_BYTES
  if (tags !== undefined) {
    tagBytes = tags.map((tag) => {
      if (typeof tag !== 'string' || tag.length === 0 || !isWellFormed(tag)) {
        throw new InvalidArgumentError(
          'meta.tags must be non-empty strings without lone surrogates.',
        )
      }
      const bytes = Buffer.from(tag, 'utf8')
      size += varintSize(bytes.length) + bytes.length
      return bytes
    })
    size += varintSize(tags.length)
  }
  let keyIdBytes: Buffer | undefined
  if (keyId !== undefined) {
    keyIdBytes = Buffer.from(keyId, 'utf8')
    if (keyIdBytes.length === 0 || keyIdBytes.length > MAX_KEY_ID_BYTES || !isWellFormed(keyId)) {
      throw new InvalidArgumentError(`A key id must be 1 to ${MAX_KEY_ID_BYTES} UTF-8 bytes.`)
    }
    size += 1 + keyIdBytes.length
  }
  const out = Buffer.allocUnsafe(size)
  out[0] = ENVELOPE_MAGIC
  out[1] = ENVELOPE_VERSION
  out[2] =
    (keyIdBytes !== undefined ? FLAG_ENCRYPTED : FLAG_CHECKSUM) |
    (tagBytes !== undefined ? FLAG_TAGS : 0)
  out[3] = serializerId
  out[4] = compressionId
  // `+ 0` turns -0 into 0: the reader accepts only the canonical form.
  out.writeDoubleBE(meta.expiresAt + 0, 5)
  out.writeDoubleBE(meta.graceUntil + 0, 13)
  out.writeDoubleBE(meta.createdAt + 0, 21)
  let pos = ENVELOPE_FIXED_BYTES
  if (tagBytes !== undefined) {
    pos = writeVarint(out, pos, tagBytes.length)
    for (const bytes of tagBytes) {
      pos = writeVarint(out, pos, bytes.length)
      out.set(bytes, pos)
      pos += bytes.length
    }
  }
  if (keyIdBytes !== undefined) {
    out[pos++] = keyIdBytes.length
    out.set(keyIdBytes, pos)
  }
  return out
}

/**
 * Header and payload in one buffer: the envelope.
 *
 * @example
 * ```ts
 * joinEnvelope(encodeEnvelopeHeader(fields), payload)
 * ```
 */
export function joinEnvelope(header: Uint8Array, payload: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(header.length + payload.length)
  out.set(header, 0)
  out.set(payload, header.length)
  return out
}

/**
 * Header, payload and the CRC-32 trailer of an unencrypted envelope, whose
 * checksum covers the storage key too.
 *
 * @example
 * ```ts
 * joinChecksummed('user:1', encodeEnvelopeHeader(fields), payload)
 * ```
 */
export function joinChecksummed(
  storageKey: string,
  header: Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  const body = header.length + payload.length
  const out = Buffer.allocUnsafe(body + CHECKSUM_BYTES)
  out.set(header, 0)
  out.set(payload, header.length)
  out.writeUInt32BE(checksumOf(storageKey, out.subarray(0, body)), body)
  return out
}

/**
 * The CRC-32 of the storage key's UTF-8 bytes followed by `bytes`.
 *
 * @example
 * ```ts
 * if (checksumOf(key, envelope.checked) !== envelope.checksum) throw new SerializationError('corrupt')
 * ```
 */
export function checksumOf(storageKey: string, bytes: Uint8Array): number {
  return crc32(bytes, crc32(Buffer.from(storageKey, 'utf8')))
}

/**
 * Parses an envelope strictly (see the file comment); throws `SerializationError` for
 * anything that is not a well-formed envelope of format version 1.
 *
 * @example
 * ```ts
 * const { meta, payload, keyId } = parseEnvelope(bytes)
 * ```
 */
export function parseEnvelope(bytes: Uint8Array): ParsedEnvelope {
  if (!(bytes instanceof Uint8Array)) {
    throw new SerializationError(`An envelope is bytes (a Uint8Array), not ${typeof bytes}.`)
  }
  const end = bytes.length
  if (end === 0) throw new SerializationError('Not a tiercache envelope: it is empty.')
  if (bytes[0] !== ENVELOPE_MAGIC) {
    throw new SerializationError(
      `Not a tiercache envelope: it starts with byte 0x${bytes[0]!.toString(16).padStart(2, '0')}, not 0xc1 (written by something else, or corrupt).`,
    )
  }
  if (end < 2) throw truncated('the format version')
  const version = bytes[1]!
  if (version !== ENVELOPE_VERSION) {
    throw new SerializationError(
      version > ENVELOPE_VERSION
        ? `The envelope has format version ${version}, newer than this tiercache reads (${ENVELOPE_VERSION}): it was written by a newer tiercache; upgrade this one.`
        : `The envelope has format version ${version}, which no tiercache writes (corrupt).`,
    )
  }
  if (end < ENVELOPE_FIXED_BYTES) throw truncated('the fixed header')
  const flags = bytes[2]!
  if ((flags & ~KNOWN_FLAGS) !== 0) {
    throw new SerializationError(
      `The envelope has unknown flag bits 0b${(flags & ~KNOWN_FLAGS).toString(2)} (written by a newer tiercache, or corrupt).`,
    )
  }
  if (((flags & FLAG_ENCRYPTED) === 0) === ((flags & FLAG_CHECKSUM) === 0)) {
    throw new SerializationError(
      'The envelope is neither encrypted nor checksummed, or claims both (corrupt).',
    )
  }
  const serializerId = bytes[3]!
  if (!KNOWN_SERIALIZERS.has(serializerId) && serializerId < 128) {
    throw new SerializationError(
      `The envelope names serializer id ${serializerId}, which this tiercache does not know (written by a newer tiercache, or corrupt).`,
    )
  }
  const compressionId = bytes[4]!
  if (!KNOWN_COMPRESSIONS.has(compressionId)) {
    throw new SerializationError(
      `The envelope names compression id ${compressionId}, which this tiercache does not know (written by a newer tiercache, or corrupt).`,
    )
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const expiresAt = readTime(view, 5, 'expiresAt')
  const graceUntil = readTime(view, 13, 'graceUntil')
  const createdAt = readTime(view, 21, 'createdAt')
  const cursor = { pos: ENVELOPE_FIXED_BYTES }
  let tags: string[] | undefined
  if ((flags & FLAG_TAGS) !== 0) {
    const count = readVarint(bytes, cursor, 'the tag count')
    // Each tag takes at least two bytes (its length and one byte), so a larger count
    // cannot be in the input: checked before the array is made.
    if (count === 0 || count * 2 > end - cursor.pos) {
      throw new SerializationError(
        `The envelope's tag count ${count} does not fit its ${end} bytes.`,
      )
    }
    tags = new Array<string>(count)
    for (let i = 0; i < count; i++) {
      const length = readVarint(bytes, cursor, 'a tag length')
      if (length === 0 || length > end - cursor.pos) throw truncated(`tag ${i}`)
      tags[i] = readUtf8(bytes, cursor.pos, length, `tag ${i}`)
      cursor.pos += length
    }
  }
  let keyId: string | undefined
  if ((flags & FLAG_ENCRYPTED) !== 0) {
    if (cursor.pos >= end) throw truncated('the key id')
    const length = bytes[cursor.pos++]!
    if (length === 0 || length > MAX_KEY_ID_BYTES) {
      throw new SerializationError(
        `The envelope's key id length ${length} is not 1 to ${MAX_KEY_ID_BYTES}.`,
      )
    }
    if (length > end - cursor.pos) throw truncated('the key id')
    keyId = readUtf8(bytes, cursor.pos, length, 'the key id')
    cursor.pos += length
  }
  const meta: EnvelopeMeta =
    tags === undefined
      ? { expiresAt, graceUntil, createdAt }
      : { expiresAt, graceUntil, createdAt, tags }
  let payloadEnd = end
  let checksum: number | undefined
  if ((flags & FLAG_CHECKSUM) !== 0) {
    if (end - cursor.pos < CHECKSUM_BYTES) throw truncated('the checksum')
    payloadEnd = end - CHECKSUM_BYTES
    checksum = view.getUint32(payloadEnd)
  }
  return {
    version,
    serializerId,
    compressionId,
    keyId,
    meta,
    header: bytes.subarray(0, cursor.pos),
    payload: bytes.subarray(cursor.pos, payloadEnd),
    checksum,
    checked: bytes.subarray(0, payloadEnd),
  }
}

function truncated(what: string): SerializationError {
  return new SerializationError(`The envelope is truncated: it ends inside ${what}.`)
}

function checkTime(value: number, name: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(
      `meta.${name} must be a finite number of epoch ms of at least 0, not ${String(value)}.`,
    )
  }
}

function readTime(view: DataView, offset: number, name: string): number {
  const value = view.getFloat64(offset)
  // -0 is refused too: the writer never produces it.
  if (!Number.isFinite(value) || value < 0 || Object.is(value, -0)) {
    throw new SerializationError(`The envelope's ${name} is ${value}, not a time (corrupt).`)
  }
  return value
}

function readUtf8(bytes: Uint8Array, start: number, length: number, what: string): string {
  try {
    return utf8.decode(bytes.subarray(start, start + length))
  } catch (error) {
    throw new SerializationError(`The envelope's ${what} is not UTF-8 (corrupt).`, { cause: error })
  }
}

function varintSize(value: number): number {
  if (value > MAX_VARINT) throw new InvalidArgumentError(`${value} is too large for the envelope.`)
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4
}

function writeVarint(out: Uint8Array, pos: number, value: number): number {
  let rest = value
  while (rest >= 0x80) {
    out[pos++] = (rest & 0x7f) | 0x80
    rest >>>= 7
  }
  out[pos++] = rest
  return pos
}

function readVarint(bytes: Uint8Array, cursor: { pos: number }, what: string): number {
  let value = 0
  for (let i = 0; i < 4; i++) {
    const byte = bytes[cursor.pos]
    if (byte === undefined) throw truncated(what)
    cursor.pos++
    value |= (byte & 0x7f) << (7 * i)
    if (byte < 0x80) {
      // Shortest form only: a final zero byte after the first is a padded encoding.
      if (byte === 0 && i > 0) break
      return value
    }
  }
  throw new SerializationError(`The envelope's ${what} is not a valid varint (corrupt).`)
}
