/**
 * AES-256-GCM for remote values (RELIABILITY.md C5), through `node:crypto`:
 * - a fresh random 96-bit nonce per value (`randomFillSync`), never a counter: processes
 *   that share a key cannot coordinate a counter;
 * - a 16-byte tag, and decryption that requires exactly 16 bytes (Node would otherwise
 *   accept a truncated tag);
 * - associated data chosen by the caller: the value codec binds the storage key and the
 *   envelope header, so a ciphertext copied under another key, or a header with a changed
 *   expiry, fails to decrypt;
 * - key ids in the envelope, so `previousKeys` can still decrypt entries written before a
 *   rotation while new values use the current key.
 *
 * Key wear: with random nonces, NIST SP 800-38D §8.3 allows 2^32 encryptions per key.
 * The cipher counts its encryptions and calls `onKeyWearing` once at `keyWearThreshold`
 * (2^31 by default, leaving room for other processes using the same key), so the cache
 * can raise an `error` event asking for a rotation. It does not emit a process warning.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  randomFillSync,
} from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { DecryptionError, InvalidArgumentError } from '../errors.js'
import type {
  Cipher,
  EncryptionKey,
  EncryptionKeyEntry,
  EncryptionOption,
  KeyWearInfo,
} from './codec.js'
import { isWellFormed } from './value-walk.js'

const ALGORITHM = 'aes-256-gcm'
const KEY_BYTES = 32
/** Bytes of the random nonce that starts a sealed payload. */
export const NONCE_BYTES = 12
/** Bytes of the GCM tag that ends a sealed payload. */
export const TAG_BYTES = 16
/** Longest key id, in UTF-8 bytes (the envelope stores its length in one byte). */
export const MAX_KEY_ID_BYTES = 64
/** Default `keyWearThreshold`: half the 2^32 NIST limit for random nonces. */
export const DEFAULT_KEY_WEAR_THRESHOLD = 2 ** 31

const HEX_KEY = /^[0-9a-fA-F]{64}$/
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=?$|^[A-Za-z0-9_-]{43}$/

/**
 * Reads a 256-bit key: a `Uint8Array` of 32 bytes, 64 hex characters, or base64 /
 * base64url of 32 bytes. Anything else throws `InvalidArgumentError` naming `what`,
 * without echoing the key.
 *
 * @example
 * ```ts
 * parseEncryptionKey(randomBytes(32), 'encryption.key')
 * parseEncryptionKey('q83v…base64…=', 'encryption.key')
 * ```
 */
export function parseEncryptionKey(key: unknown, what: string): Buffer {
  if (key instanceof Uint8Array) {
    if (key.length !== KEY_BYTES) {
      throw new InvalidArgumentError(`${what} must be 32 bytes (AES-256), not ${key.length} bytes.`)
    }
    // A copy: later changes to the caller's array must not change the key.
    return Buffer.from(key)
  }
  if (typeof key === 'string') {
    const text = key.trim()
    if (HEX_KEY.test(text)) return Buffer.from(text, 'hex')
    if (BASE64_KEY.test(text)) {
      const bytes = Buffer.from(
        text,
        text.includes('-') || text.includes('_') ? 'base64url' : 'base64',
      )
      if (bytes.length === KEY_BYTES) return bytes
    }
    throw new InvalidArgumentError(
      `${what} must be 32 bytes, 64 hex characters, or base64 of 32 bytes (44 characters); the string given is ${text.length} characters long and none of those. Generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`,
    )
  }
  throw new InvalidArgumentError(
    `${what} must be a Uint8Array of 32 bytes or a hex or base64 string, not ${key === null ? 'null' : typeof key}.`,
  )
}

/**
 * The default id of a key: 8 hex characters of SHA-256 over a label and the key. Stable
 * across processes and restarts, so a key given without `keyId` still matches the
 * entries it wrote; it reveals nothing usable about a random 256-bit key.
 *
 * @example
 * ```ts
 * deriveKeyId(key) // 'a1b2c3d4'
 * ```
 */
export function deriveKeyId(key: Uint8Array): string {
  return createHash('sha256').update('tiercache key id\0').update(key).digest('hex').slice(0, 8)
}

interface KeySlot {
  readonly id: string
  readonly key: KeyObject
}

/**
 * AES-256-GCM with a current key and older ones for decryption only. Create it with
 * {@link createCipher}.
 *
 * @example
 * ```ts
 * const cipher = createCipher({ key, keyId: 'k2', previousKeys: [{ key: oldKey, keyId: 'k1' }] })
 * const sealed = cipher.seal(plaintext, aad)
 * cipher.open('k2', sealed, aad)
 * ```
 */
export class AesGcmCipher implements Cipher {
  readonly name = ALGORITHM
  readonly overhead = NONCE_BYTES + TAG_BYTES
  readonly keyId: string
  readonly #current: KeyObject
  readonly #keys: ReadonlyMap<string, KeySlot>
  readonly #threshold: number
  readonly #onKeyWearing: ((info: KeyWearInfo) => void) | undefined
  #encryptions = 0

  /** Use {@link createCipher}, which validates the option first. */
  constructor(
    current: KeySlot,
    previous: readonly KeySlot[],
    threshold: number,
    onKeyWearing: ((info: KeyWearInfo) => void) | undefined,
  ) {
    this.keyId = current.id
    this.#current = current.key
    const keys = new Map<string, KeySlot>([[current.id, current]])
    for (const slot of previous) keys.set(slot.id, slot)
    this.#keys = keys
    this.#threshold = threshold
    this.#onKeyWearing = onKeyWearing
  }

  /** Encryptions with the current key by this cipher so far. */
  get encryptions(): number {
    return this.#encryptions
  }

  hasKey(keyId: string): boolean {
    return this.#keys.has(keyId)
  }

  /** Encrypts with the current key: returns `nonce (12) ‖ ciphertext ‖ tag (16)`. */
  seal(plaintext: Uint8Array, associatedData: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(NONCE_BYTES + plaintext.length + TAG_BYTES)
    const nonce = out.subarray(0, NONCE_BYTES)
    randomFillSync(nonce)
    const cipher = createCipheriv(ALGORITHM, this.#current, nonce, { authTagLength: TAG_BYTES })
    cipher.setAAD(associatedData)
    const body = cipher.update(plaintext)
    const tail = cipher.final() // empty for GCM, kept for form
    out.set(body, NONCE_BYTES)
    out.set(tail, NONCE_BYTES + body.length)
    cipher.getAuthTag().copy(out, NONCE_BYTES + plaintext.length)
    this.#encryptions++
    if (this.#encryptions === this.#threshold && this.#onKeyWearing !== undefined) {
      this.#onKeyWearing({
        keyId: this.keyId,
        encryptions: this.#encryptions,
        threshold: this.#threshold,
      })
    }
    return out
  }

  /**
   * Decrypts with the key named `keyId`. Throws `DecryptionError` for an unknown key id,
   * a payload too short to hold a nonce and a tag, and any mismatch of key, bytes or
   * associated data (GCM cannot tell these apart, by design).
   */
  open(keyId: string, sealed: Uint8Array, associatedData: Uint8Array): Uint8Array {
    const slot = this.#keys.get(keyId)
    if (slot === undefined) {
      throw new DecryptionError(
        `The entry was encrypted with key id '${printable(keyId)}', which is neither encryption.keyId nor in encryption.previousKeys (known: ${[...this.#keys.keys()].map((k) => `'${k}'`).join(', ')}).`,
      )
    }
    if (sealed.length < NONCE_BYTES + TAG_BYTES) {
      throw new DecryptionError(
        `The encrypted payload is ${sealed.length} bytes, too short for a nonce and a tag.`,
      )
    }
    const end = sealed.length - TAG_BYTES
    try {
      const decipher = createDecipheriv(ALGORITHM, slot.key, sealed.subarray(0, NONCE_BYTES), {
        authTagLength: TAG_BYTES,
      })
      decipher.setAAD(associatedData)
      decipher.setAuthTag(sealed.subarray(end))
      const body = decipher.update(sealed.subarray(NONCE_BYTES, end))
      const tail = decipher.final()
      return tail.length === 0 ? body : Buffer.concat([body, tail])
    } catch (error) {
      throw new DecryptionError(
        `The entry failed authentication with key id '${slot.id}': it was changed, written under another key, or encrypted with a different key of the same id.`,
        { cause: error },
      )
    }
  }
}

/**
 * Validates an `encryption` option and makes its cipher. Throws `InvalidArgumentError`
 * naming the option (`encryption.key`, `encryption.previousKeys[1].key`, …) for a key of
 * the wrong length or format, a bad or duplicate key id, or a bad threshold.
 *
 * @example
 * ```ts
 * const cipher = createCipher({ key: process.env.CACHE_KEY!, onKeyWearing: (info) => alert(info) })
 * ```
 */
export function createCipher(option: EncryptionOption, what = 'encryption'): AesGcmCipher {
  if (typeof option !== 'object' || option === null) {
    throw new InvalidArgumentError(`${what} must be an object such as { key }.`)
  }
  const known = new Set([
    'key',
    'keyId',
    'previousKeys',
    'allowPlaintextRead',
    'keyWearThreshold',
    'onKeyWearing',
  ])
  for (const name of Object.keys(option)) {
    if (!known.has(name)) {
      throw new InvalidArgumentError(
        `${what} has an unknown option '${name}'. Known: ${[...known].join(', ')}.`,
      )
    }
  }
  const current = slotOf({ key: option.key, keyId: option.keyId }, `${what}.key`, `${what}.keyId`)
  const previous: KeySlot[] = []
  const ids = new Map<string, string>([[current.id, `${what}.key`]])
  const list: unknown = option.previousKeys ?? []
  if (!Array.isArray(list)) {
    throw new InvalidArgumentError(
      `${what}.previousKeys must be an array of keys or { key, keyId }.`,
    )
  }
  list.forEach((entry: unknown, i) => {
    const at = `${what}.previousKeys[${i}]`
    const isEntry = typeof entry === 'object' && entry !== null && !(entry instanceof Uint8Array)
    const slot = isEntry
      ? slotOf(entry as EncryptionKeyEntry, `${at}.key`, `${at}.keyId`)
      : slotOf({ key: entry as EncryptionKey }, at, `${at} (its derived key id)`)
    const clash = ids.get(slot.id)
    if (clash !== undefined) {
      throw new InvalidArgumentError(
        `${at} has key id '${slot.id}', which ${clash} already has: key ids must be unique (the same key given twice, or two keys with one id).`,
      )
    }
    ids.set(slot.id, isEntry ? `${at}.key` : at)
    previous.push(slot)
  })
  if (option.allowPlaintextRead !== undefined && typeof option.allowPlaintextRead !== 'boolean') {
    throw new InvalidArgumentError(`${what}.allowPlaintextRead must be a boolean.`)
  }
  const threshold = option.keyWearThreshold ?? DEFAULT_KEY_WEAR_THRESHOLD
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new InvalidArgumentError(
      `${what}.keyWearThreshold must be a positive integer, not ${String(threshold)}.`,
    )
  }
  if (option.onKeyWearing !== undefined && typeof option.onKeyWearing !== 'function') {
    throw new InvalidArgumentError(`${what}.onKeyWearing must be a function.`)
  }
  return new AesGcmCipher(current, previous, threshold, option.onKeyWearing)
}

function slotOf(entry: EncryptionKeyEntry, keyWhat: string, idWhat: string): KeySlot {
  const bytes = parseEncryptionKey(entry.key, keyWhat)
  const id = entry.keyId ?? deriveKeyId(bytes)
  if (
    typeof id !== 'string' ||
    id.length === 0 ||
    !isWellFormed(id) ||
    Buffer.byteLength(id) > MAX_KEY_ID_BYTES
  ) {
    throw new InvalidArgumentError(
      `${idWhat} must be a non-empty string of at most ${MAX_KEY_ID_BYTES} UTF-8 bytes.`,
    )
  }
  const key = createSecretKey(bytes)
  bytes.fill(0)
  return { id, key }
}

/** A key id from an envelope, safe to put in a message. */
function printable(id: string): string {
  return JSON.stringify(id).slice(1, -1)
}
