/**
 * The contracts of the value pipeline of remote tiers: a value is serialized, maybe
 * compressed, maybe encrypted, and wrapped in an envelope (`envelope.ts`) that also
 * carries its expiry, grace deadline, creation time and tags. The memory tier holds live
 * values and never goes through here.
 *
 * This file holds types only (STYLE.md §9: a contract file imports nothing but types).
 * The implementations are `serializers.ts`, `compression.ts`, `encryption.ts`,
 * `envelope.ts`, and `value-codec.ts`, which puts them together.
 */

/**
 * Turns values into bytes and back. Both directions are synchronous and throw
 * `SerializationError` (with the original error as `cause`) on failure; `encode` throws
 * for a value it cannot give back unchanged, so a bad value fails at `set` time rather
 * than as a different value at `get` time.
 *
 * @example
 * ```ts
 * const upper: Serializer = {
 *   name: 'text', id: 128,
 *   encode: (value) => new TextEncoder().encode(String(value)),
 *   decode: (bytes) => new TextDecoder().decode(bytes),
 * }
 * ```
 */
export interface Serializer {
  /** Shown in error messages: `'msgpack'`, `'json'`, `'v8'`, or a custom name. */
  readonly name: string
  /** Written into each envelope so that a reader picks the same serializer (0–255). */
  readonly id: number
  /**
   * True when `decode` must only ever see bytes that encryption authenticated, because
   * decoding untrusted bytes with it is unsafe (`v8.deserialize`). The value codec then
   * refuses to be created without encryption and refuses plaintext entries of it.
   */
  readonly needsAuthenticatedInput?: boolean | undefined
  encode(value: unknown): Uint8Array
  decode(bytes: Uint8Array): unknown
}

/**
 * A compression algorithm. `decompress` never produces more than `maxOutputBytes`: it
 * stops and throws `ValueTooLargeError` instead (a decompression bomb costs at most that
 * much memory), and throws `SerializationError` for corrupt input.
 *
 * @example
 * ```ts
 * const gzip = createCompressor('gzip')
 * gzip.decompress(gzip.compress(bytes), 1_000_000)
 * ```
 */
export interface Compressor {
  /** `'gzip'`, `'brotli'`, `'zstd'` or `'snappy'`. */
  readonly name: string
  /** Written into each envelope (1–255; 0 means "not compressed"). */
  readonly id: number
  compress(bytes: Uint8Array): Uint8Array
  decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array
}

/**
 * Authenticated encryption of envelope payloads (AES-256-GCM in `encryption.ts`).
 * `seal` returns `nonce ‖ ciphertext ‖ tag`; `open` throws `DecryptionError` when the
 * bytes, the associated data or the key id do not match.
 *
 * @example
 * ```ts
 * const sealed = cipher.seal(payload, aad)
 * cipher.open(cipher.keyId, sealed, aad) // payload again
 * ```
 */
export interface Cipher {
  /** `'aes-256-gcm'`. */
  readonly name: string
  /** The id of the key new values are sealed with, written into each envelope. */
  readonly keyId: string
  /** Bytes `seal` adds to its input (nonce and tag). */
  readonly overhead: number
  /** Whether a key with this id (current or previous) is configured. */
  hasKey(keyId: string): boolean
  seal(plaintext: Uint8Array, associatedData: Uint8Array): Uint8Array
  open(keyId: string, sealed: Uint8Array, associatedData: Uint8Array): Uint8Array
}

/**
 * A serializer of your own for the `serializer` option. Its errors are wrapped in
 * `SerializationError`. Entries it wrote can only be read by a cache configured with a
 * serializer of the same `id`.
 *
 * @example
 * ```ts
 * createValueCodec({ serializer: { encode: (v) => cbor.encode(v), decode: (b) => cbor.decode(b) } })
 * ```
 */
export interface CustomSerializerOption {
  encode(value: unknown): Uint8Array
  decode(bytes: Uint8Array): unknown
  /** For error messages. @default 'custom' */
  name?: string | undefined
  /** Envelope id, 128–255 (ids below 128 belong to built-in serializers). @default 128 */
  id?: number | undefined
  /** See {@link Serializer.needsAuthenticatedInput}. @default false */
  needsAuthenticatedInput?: boolean | undefined
}

/**
 * How values are turned into bytes for remote tiers:
 * - `'msgpack'` (default): msgpackr, round-trips `Date` (also invalid ones), `BigInt`,
 *   `Map` (object keys too), `Set`, `Buffer` and `Uint8Array` (kept apart), typed arrays,
 *   `NaN`, `±Infinity`, `-0`, `undefined`, lone surrogates; holes of sparse arrays come
 *   back as `undefined`.
 * - `'json'`: only what JSON keeps unchanged (`null`, booleans, finite numbers other than
 *   `-0`, strings, dense arrays, plain objects); anything else throws at `set` time.
 * - `'v8'`: `node:v8` structured clone (cycles, holes); needs `encryption`, because
 *   `v8.deserialize` must not see bytes it cannot trust.
 * - a {@link CustomSerializerOption}.
 */
export type SerializerOption = 'msgpack' | 'json' | 'v8' | CustomSerializerOption

/** Compression algorithms; `'zstd'` only on a Node that has `zlib.zstdCompressSync` (≥ 22.15). */
export type CompressionAlgorithm = 'gzip' | 'brotli' | 'zstd' | 'snappy'

/**
 * Compression of serialized values. A value is compressed only when its serialized size
 * is above `threshold` and the compressed bytes are smaller.
 *
 * @example
 * ```ts
 * createValueCodec({ compression: { algorithm: 'brotli', threshold: 2048 } })
 * ```
 */
export interface CompressionOption {
  algorithm: CompressionAlgorithm
  /**
   * Values of at most this many serialized bytes are stored uncompressed: compressing
   * small values costs more time than the bytes it saves. @default 1024
   */
  threshold?: number | undefined
}

/** A 256-bit key: 32 bytes, 64 hex characters, or base64 (or base64url) of 32 bytes. */
export type EncryptionKey = Uint8Array | string

/** A key with the id written into the envelopes it seals. */
export interface EncryptionKeyEntry {
  key: EncryptionKey
  /** 1–64 UTF-8 bytes. @default a fingerprint of the key (8 hex characters) */
  keyId?: string | undefined
}

/** What `onKeyWearing` receives. */
export interface KeyWearInfo {
  readonly keyId: string
  /** Encryptions with this key by this process so far. */
  readonly encryptions: number
  readonly threshold: number
}

/**
 * AES-256-GCM encryption of remote values, with key rotation.
 *
 * @example
 * ```ts
 * createValueCodec({
 *   encryption: { key: process.env.CACHE_KEY!, keyId: 'k2', previousKeys: [{ key: oldKey, keyId: 'k1' }] },
 * })
 * ```
 */
export interface EncryptionOption {
  /** The key new values are encrypted with. */
  key: EncryptionKey
  /** Id of `key`, stored in each envelope so readers pick the right key. @default a fingerprint of the key */
  keyId?: string | undefined
  /** Older keys, used only to decrypt entries written before a rotation. */
  previousKeys?: ReadonlyArray<EncryptionKeyEntry | EncryptionKey> | undefined
  /**
   * Accept entries that are not encrypted (a migration to encryption); otherwise they are
   * refused with `DecryptionError`. Never needed once old entries have expired.
   * @default false
   */
  allowPlaintextRead?: boolean | undefined
  /**
   * Encryptions with one key, counted per process, after which `onKeyWearing` is called
   * once. Random 96-bit nonces keep AES-GCM safe for 2^32 encryptions per key (NIST SP
   * 800-38D §8.3); the default leaves room for the other processes sharing the key.
   * @default 2 ** 31
   */
  keyWearThreshold?: number | undefined
  /**
   * Called once, synchronously from the `encode` that reached `keyWearThreshold`: time to
   * rotate the key. The cache turns it into an `error` event; a process warning would be
   * easy to miss (and fails this project's tests).
   */
  onKeyWearing?: ((info: KeyWearInfo) => void) | undefined
}

/**
 * What an envelope carries besides the value. Times are epoch milliseconds.
 */
export interface EnvelopeMeta {
  /** When the value expires; 0 = never. */
  readonly expiresAt: number
  /** Until when an expired value may still be served as stale; 0 = no grace. */
  readonly graceUntil: number
  /** When the value was written. */
  readonly createdAt: number
  /** Tags of the entry; absent (not `[]`) when it has none. */
  readonly tags?: readonly string[] | undefined
}

/** Options of `createValueCodec`. */
export interface ValueCodecOptions {
  /** @default 'msgpack' */
  serializer?: SerializerOption | undefined
  /** @default no compression */
  compression?: CompressionOption | undefined
  /** @default no encryption */
  encryption?: EncryptionOption | undefined
  /**
   * Largest value, in bytes, both as serialized (before compression) and as stored (the
   * whole envelope). Writing a larger value throws `ValueTooLargeError` and writes
   * nothing; reading stops decompressing at this size.
   * @default 16 MiB (DEFAULT_MAX_VALUE_BYTES)
   */
  maxValueBytes?: number | undefined
}

/** A value read back from an envelope. */
export interface DecodedValue {
  readonly value: unknown
  readonly meta: EnvelopeMeta
}

/**
 * Values to envelope bytes and back, for one cache. `encode` throws
 * `SerializationError` or `ValueTooLargeError` (nothing is to be written then); `decode`
 * throws `SerializationError`, `DecryptionError` or `ValueTooLargeError` for bytes it
 * cannot trust, and the cache treats them as a miss.
 */
export interface ValueCodec {
  encode(storageKey: string, value: unknown, meta: EnvelopeMeta): Uint8Array
  decode(storageKey: string, bytes: Uint8Array): DecodedValue
  /** Encryptions with the current key by this codec so far; 0 without encryption. */
  readonly encryptions: number
}
