/**
 * The value pipeline of remote tiers, put together: serialize → maybe compress → maybe
 * encrypt → envelope, and back. The cache calls `encode` before a remote write and
 * `decode` after a remote read; the memory tier never goes through here.
 *
 * Reading is deliberately more tolerant than writing, so that a cache whose settings
 * changed still reads what it wrote before: every built-in serializer and compressor is
 * readable whatever is configured (except 'v8', which decodes only authenticated bytes,
 * and custom serializers, which need the same one configured). Encryption is the
 * exception: once it is on, only entries it authenticates are read, unless
 * `allowPlaintextRead` is set for a migration (RELIABILITY.md C5 d).
 */
import { constants as bufferConstants } from 'node:buffer'
import {
  DecryptionError,
  InvalidArgumentError,
  SerializationError,
  ValueTooLargeError,
} from '../errors.js'
import type {
  CompressionOption,
  Compressor,
  DecodedValue,
  EnvelopeMeta,
  Serializer,
  ValueCodec,
  ValueCodecOptions,
} from './codec.js'
import {
  DEFAULT_COMPRESSION_THRESHOLD,
  compressorById,
  createCompressor,
  decompressionTooLarge,
  maybeCompress,
} from './compression.js'
import type { AesGcmCipher } from './encryption.js'
import { createCipher } from './encryption.js'
import {
  CHECKSUM_BYTES,
  checksumOf,
  encodeEnvelopeHeader,
  joinChecksummed,
  joinEnvelope,
  parseEnvelope,
} from './envelope.js'
import { builtinSerializer, createSerializer } from './serializers.js'
import { describeError } from './value-walk.js'

/** `maxValueBytes` when none is given: 16 MiB, far above a sane cache value, and a bound on decompression. */
export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024

const OPTION_NAMES: ReadonlySet<string> = new Set([
  'serializer',
  'compression',
  'encryption',
  'maxValueBytes',
])

/**
 * Makes the codec of one cache's remote values. Every option is validated here:
 * anything wrong throws `InvalidArgumentError` naming the option, before any value is
 * written. `serializer: 'v8'` (or a custom serializer that `needsAuthenticatedInput`)
 * requires `encryption`.
 *
 * `encode(storageKey, value, meta)` throws `SerializationError` for a value the
 * serializer refuses and `ValueTooLargeError` when the serialized value or the whole
 * envelope is above `maxValueBytes`; either way nothing is to be written.
 * `decode(storageKey, bytes)` throws `SerializationError`, `DecryptionError` or
 * `ValueTooLargeError` for bytes it cannot trust (with encryption on and
 * `allowPlaintextRead` off, every envelope that fails to authenticate, malformed ones
 * included, is a `DecryptionError` whose `cause` says what was wrong).
 *
 * `storageKey` is the key as stored, namespace included: with encryption it is bound into
 * the associated data, so an entry copied under another key does not decrypt.
 *
 * @example
 * ```ts
 * const codec = createValueCodec({
 *   compression: { algorithm: 'brotli', threshold: 1024 },
 *   encryption: { key: process.env.CACHE_KEY! },
 *   maxValueBytes: 1_000_000,
 * })
 * const bytes = codec.encode('app:user:1', user, { expiresAt: now + 60_000, graceUntil: 0, createdAt: now })
 * const { value, meta } = codec.decode('app:user:1', bytes)
 * ```
 */
export function createValueCodec(options: ValueCodecOptions = {}): ValueCodec {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('createValueCodec options must be an object.')
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) {
      throw new InvalidArgumentError(
        `Unknown value codec option '${name}'. Known: ${[...OPTION_NAMES].join(', ')}.`,
      )
    }
  }
  const serializer = createSerializer(options.serializer ?? 'msgpack', 'serializer')
  const compression = resolveCompression(options.compression)
  const cipher = options.encryption === undefined ? undefined : createCipher(options.encryption)
  const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES
  if (
    typeof maxValueBytes !== 'number' ||
    !Number.isInteger(maxValueBytes) ||
    maxValueBytes < 1 ||
    maxValueBytes > bufferConstants.MAX_LENGTH
  ) {
    throw new InvalidArgumentError(
      `maxValueBytes must be an integer from 1 to ${bufferConstants.MAX_LENGTH}, not ${String(maxValueBytes)}.`,
    )
  }
  if (serializer.needsAuthenticatedInput === true && cipher === undefined) {
    throw new InvalidArgumentError(
      `serializer '${serializer.name}' decodes only bytes that encryption authenticated (decoding untrusted bytes with it is unsafe): set the 'encryption' option, or use 'msgpack'.`,
    )
  }
  return new EnvelopeCodec(
    serializer,
    compression?.compressor,
    compression?.threshold ?? DEFAULT_COMPRESSION_THRESHOLD,
    cipher,
    options.encryption?.allowPlaintextRead === true,
    maxValueBytes,
  )
}

function resolveCompression(
  option: CompressionOption | undefined,
): { compressor: Compressor; threshold: number } | undefined {
  if (option === undefined) return undefined
  if (typeof option !== 'object' || option === null) {
    throw new InvalidArgumentError(
      "compression must be an object such as { algorithm: 'brotli', threshold: 1024 }.",
    )
  }
  for (const name of Object.keys(option)) {
    if (name !== 'algorithm' && name !== 'threshold') {
      throw new InvalidArgumentError(
        `compression has an unknown option '${name}'. Known: algorithm, threshold.`,
      )
    }
  }
  const compressor = createCompressor(option.algorithm, 'compression.algorithm')
  const threshold = option.threshold ?? DEFAULT_COMPRESSION_THRESHOLD
  if (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) || threshold < 0) {
    throw new InvalidArgumentError(
      `compression.threshold must be a whole number of bytes of at least 0, not ${String(threshold)}.`,
    )
  }
  return { compressor, threshold }
}

class EnvelopeCodec implements ValueCodec {
  readonly #serializer: Serializer
  readonly #compressor: Compressor | undefined
  readonly #threshold: number
  readonly #cipher: AesGcmCipher | undefined
  /** Encryption on and plaintext not allowed: everything read must authenticate. */
  readonly #requireAuthentication: boolean
  readonly #maxValueBytes: number
  /** Serializers and compressors of other ids met while reading, made once each. */
  readonly #readSerializers = new Map<number, Serializer | undefined>()
  readonly #readCompressors = new Map<number, Compressor>()

  constructor(
    serializer: Serializer,
    compressor: Compressor | undefined,
    threshold: number,
    cipher: AesGcmCipher | undefined,
    allowPlaintextRead: boolean,
    maxValueBytes: number,
  ) {
    this.#serializer = serializer
    this.#compressor = compressor
    this.#threshold = threshold
    this.#cipher = cipher
    this.#requireAuthentication = cipher !== undefined && !allowPlaintextRead
    this.#maxValueBytes = maxValueBytes
    if (compressor !== undefined) this.#readCompressors.set(compressor.id, compressor)
  }

  get encryptions(): number {
    return this.#cipher?.encryptions ?? 0
  }

  encode(storageKey: string, value: unknown, meta: EnvelopeMeta): Uint8Array {
    checkStorageKey(storageKey)
    const max = this.#maxValueBytes
    const serialized = this.#serializer.encode(value)
    // Also a bound on the serialized size, so that reading never has to decompress more
    // than maxValueBytes: what was written can always be read back.
    if (serialized.length > max) throw new ValueTooLargeError(storageKey, serialized.length, max)
    const { bytes: payload, id: compressionId } = maybeCompress(
      this.#compressor,
      this.#threshold,
      serialized,
    )
    const cipher = this.#cipher
    const header = encodeEnvelopeHeader({
      serializerId: this.#serializer.id,
      compressionId,
      keyId: cipher?.keyId,
      meta,
    })
    const size =
      header.length + payload.length + (cipher === undefined ? CHECKSUM_BYTES : cipher.overhead)
    if (size > max) throw new ValueTooLargeError(storageKey, size, max)
    if (cipher === undefined) return joinChecksummed(storageKey, header, payload)
    return joinEnvelope(header, cipher.seal(payload, associatedData(storageKey, header)))
  }

  decode(storageKey: string, bytes: Uint8Array): DecodedValue {
    checkStorageKey(storageKey)
    if (!(bytes instanceof Uint8Array)) {
      throw new SerializationError(`The entry under '${storageKey}' is not bytes (a Uint8Array).`)
    }
    const max = this.#maxValueBytes
    if (bytes.length > max) throw new ValueTooLargeError(storageKey, bytes.length, max)
    let envelope: ReturnType<typeof parseEnvelope>
    try {
      envelope = parseEnvelope(bytes)
    } catch (error) {
      if (!this.#requireAuthentication) throw error
      throw new DecryptionError(
        `The entry under '${storageKey}' cannot be authenticated: ${describeError(error)}`,
        { cause: error },
      )
    }
    if (
      envelope.checksum !== undefined &&
      checksumOf(storageKey, envelope.checked) !== envelope.checksum
    ) {
      const error = new SerializationError(
        `The entry under '${storageKey}' fails its checksum: corrupt, or copied from another key.`,
      )
      if (!this.#requireAuthentication) throw error
      throw new DecryptionError(
        `The entry under '${storageKey}' cannot be authenticated: ${error.message}`,
        { cause: error },
      )
    }
    let payload = envelope.payload
    let authenticated = false
    if (envelope.keyId !== undefined) {
      const cipher = this.#cipher
      if (cipher === undefined) {
        throw new DecryptionError(
          `The entry under '${storageKey}' is encrypted (key id '${envelope.keyId}'); set the 'encryption' option with that key to read it.`,
        )
      }
      payload = cipher.open(envelope.keyId, payload, associatedData(storageKey, envelope.header))
      authenticated = true
    } else if (this.#requireAuthentication) {
      throw new DecryptionError(
        `The entry under '${storageKey}' is not encrypted, and encryption is on: refused. Set encryption.allowPlaintextRead while migrating to encryption.`,
      )
    }
    const serializer = this.#serializerFor(envelope.serializerId, authenticated)
    if (envelope.compressionId !== 0) {
      const compressor = this.#compressorFor(envelope.compressionId)
      try {
        payload = compressor.decompress(payload, max)
      } catch (error) {
        if (error instanceof ValueTooLargeError) throw decompressionTooLarge(storageKey, max)
        throw error
      }
    }
    return { value: serializer.decode(payload), meta: envelope.meta }
  }

  #serializerFor(id: number, authenticated: boolean): Serializer {
    let serializer: Serializer | undefined = this.#serializer
    if (serializer.id !== id) {
      if (!this.#readSerializers.has(id)) this.#readSerializers.set(id, builtinSerializer(id))
      serializer = this.#readSerializers.get(id)
    }
    if (serializer === undefined) {
      throw new SerializationError(
        id >= 128
          ? `The entry was written by a custom serializer with id ${id}; configure that serializer to read it.`
          : `The entry names serializer id ${id}, which this tiercache does not have.`,
      )
    }
    if (serializer.needsAuthenticatedInput === true && !authenticated) {
      throw new SerializationError(
        `The entry uses the '${serializer.name}' serializer, which decodes only entries that encryption authenticated, and it is not encrypted: refused.`,
      )
    }
    return serializer
  }

  #compressorFor(id: number): Compressor {
    let compressor = this.#readCompressors.get(id)
    if (compressor === undefined) {
      compressor = compressorById(id)
      this.#readCompressors.set(id, compressor)
    }
    return compressor
  }
}

function checkStorageKey(storageKey: unknown): asserts storageKey is string {
  if (typeof storageKey !== 'string') {
    throw new InvalidArgumentError(`The storage key must be a string, not ${typeof storageKey}.`)
  }
}

/**
 * The associated data of an envelope's encryption: the storage key, length-prefixed so
 * that no key/header split can be shifted, then the header bytes.
 */
function associatedData(storageKey: string, header: Uint8Array): Uint8Array {
  const keyLength = Buffer.byteLength(storageKey, 'utf8')
  const out = Buffer.allocUnsafe(4 + keyLength + header.length)
  out.writeUInt32BE(keyLength, 0)
  out.write(storageKey, 4, 'utf8')
  out.set(header, 4 + keyLength)
  return out
}
