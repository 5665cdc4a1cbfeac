/**
 * AES-256-GCM (RELIABILITY.md C5 a–e), key parsing and the key wear counter.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { EnvelopeMeta } from '../../../src/codec/codec.js'
import {
  DEFAULT_KEY_WEAR_THRESHOLD,
  NONCE_BYTES,
  TAG_BYTES,
  createCipher,
  deriveKeyId,
  parseEncryptionKey,
} from '../../../src/codec/encryption.js'
import { parseEnvelope } from '../../../src/codec/envelope.js'
import { createValueCodec } from '../../../src/codec/value-codec.js'
import { DecryptionError, InvalidArgumentError } from '../../../src/errors.js'
import { assertSameValue } from '../../../src/testing/codec-conformance.js'

const key = randomBytes(32)
const otherKey = randomBytes(32)
const meta: EnvelopeMeta = {
  expiresAt: 1_800_000_000_000,
  graceUntil: 1_800_000_600_000,
  createdAt: 1_700_000_000_000,
  tags: ['users', 'team:7'],
}
const value = { id: 1, name: 'Ada', roles: new Set(['admin']), at: new Date(1_700_000_000_000) }

function decryptionError(run: () => unknown): DecryptionError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(DecryptionError)
    return error as DecryptionError
  }
  throw new Error('expected a DecryptionError, and the bytes were accepted')
}

describe('keys', () => {
  it('accepts 32 bytes, 64 hex characters, base64 and base64url of 32 bytes', () => {
    const forms = [
      key,
      new Uint8Array(key),
      key.toString('hex'),
      key.toString('hex').toUpperCase(),
      key.toString('base64'),
      key.toString('base64url'),
    ]
    for (const form of forms)
      expect(parseEncryptionKey(form, 'encryption.key').equals(key)).toBe(true)
  })

  it('refuses keys of the wrong length or form, naming the option and not echoing the key', () => {
    const secret = randomBytes(24).toString('base64')
    const cases: Array<[unknown, RegExp]> = [
      [randomBytes(16), /encryption\.key must be 32 bytes \(AES-256\), not 16 bytes/],
      [randomBytes(33), /not 33 bytes/],
      [secret, /encryption\.key must be 32 bytes, 64 hex characters, or base64 of 32 bytes/],
      ['z'.repeat(64), /encryption\.key/],
      ['', /encryption\.key/],
      [
        12345,
        /encryption\.key must be a Uint8Array of 32 bytes or a hex or base64 string, not number/,
      ],
      [null, /not null/],
    ]
    for (const [bad, message] of cases) {
      expect(() => createValueCodec({ encryption: { key: bad as never } })).toThrow(
        InvalidArgumentError,
      )
      try {
        createValueCodec({ encryption: { key: bad as never } })
      } catch (error) {
        expect((error as Error).message).toMatch(message)
        expect((error as Error).message).not.toContain(secret)
      }
    }
  })

  it('names the previous key that is wrong', () => {
    expect(() =>
      createValueCodec({ encryption: { key, previousKeys: [otherKey, randomBytes(8)] } }),
    ).toThrow(/encryption\.previousKeys\[1\] must be 32 bytes/)
    expect(() =>
      createValueCodec({ encryption: { key, previousKeys: [{ key: 'short', keyId: 'old' }] } }),
    ).toThrow(/encryption\.previousKeys\[0\]\.key must be/)
  })

  it('validates key ids and refuses duplicates', () => {
    expect(() => createValueCodec({ encryption: { key, keyId: '' } })).toThrow(/encryption\.keyId/)
    expect(() => createValueCodec({ encryption: { key, keyId: 'x'.repeat(65) } })).toThrow(
      /64 UTF-8 bytes/,
    )
    expect(() =>
      createValueCodec({
        encryption: { key, keyId: 'k', previousKeys: [{ key: otherKey, keyId: 'k' }] },
      }),
    ).toThrow(/encryption\.previousKeys\[0\] has key id 'k', which encryption\.key already has/)
    expect(() => createValueCodec({ encryption: { key, previousKeys: [key] } })).toThrow(/unique/)
  })

  it('refuses unknown encryption options and bad ones', () => {
    expect(() => createValueCodec({ encryption: { key, previousKey: [] } as never })).toThrow(
      /encryption has an unknown option 'previousKey'/,
    )
    expect(() =>
      createValueCodec({ encryption: { key, allowPlaintextRead: 'yes' as never } }),
    ).toThrow(/allowPlaintextRead must be a boolean/)
    expect(() => createValueCodec({ encryption: { key, keyWearThreshold: 0 } })).toThrow(
      /keyWearThreshold/,
    )
    expect(() => createValueCodec({ encryption: { key, onKeyWearing: 1 as never } })).toThrow(
      /onKeyWearing/,
    )
  })

  it("copies the key: changing the caller's bytes later changes nothing", () => {
    const mine = Buffer.from(key)
    const codec = createValueCodec({ encryption: { key: mine } })
    const bytes = codec.encode('k', 1, meta)
    mine.fill(0)
    expect(codec.decode('k', bytes).value).toBe(1)
  })

  it('derives a stable key id when none is given', () => {
    expect(deriveKeyId(key)).toMatch(/^[0-9a-f]{8}$/)
    expect(deriveKeyId(key)).toBe(deriveKeyId(Buffer.from(key)))
    expect(deriveKeyId(key)).not.toBe(deriveKeyId(otherKey))
    const bytes = createValueCodec({ encryption: { key } }).encode('k', 1, meta)
    expect(parseEnvelope(bytes).keyId).toBe(deriveKeyId(key))
  })
})

describe('C5 a: nonces and the key wear counter', () => {
  it('gives 100 000 encryptions of the same value 100 000 distinct 96-bit nonces', () => {
    const codec = createValueCodec({ encryption: { key } })
    const nonces = new Set<string>()
    const count = 100_000
    for (let i = 0; i < count; i++) {
      const { payload } = parseEnvelope(codec.encode('same', 'same value', meta))
      nonces.add(Buffer.from(payload.subarray(0, NONCE_BYTES)).toString('base64'))
    }
    expect(nonces.size).toBe(count)
    expect(codec.encryptions).toBe(count)
  })

  it('calls onKeyWearing once when the count reaches the threshold, and warns nothing', () => {
    const calls: unknown[] = []
    const codec = createValueCodec({
      encryption: {
        key,
        keyId: 'k7',
        keyWearThreshold: 3,
        onKeyWearing: (info) => calls.push(info),
      },
    })
    for (let i = 0; i < 10; i++) codec.encode(`k${i}`, i, meta)
    expect(calls).toEqual([{ keyId: 'k7', encryptions: 3, threshold: 3 }])
    expect(codec.encryptions).toBe(10)
    expect(createValueCodec().encryptions).toBe(0)
  })

  it('defaults the threshold to 2^31, half the NIST limit for random nonces', () => {
    expect(DEFAULT_KEY_WEAR_THRESHOLD).toBe(2 ** 31)
    const cipher = createCipher({ key })
    expect(cipher.overhead).toBe(NONCE_BYTES + TAG_BYTES)
    expect(cipher.name).toBe('aes-256-gcm')
    expect(cipher.encryptions).toBe(0)
  })
})

describe('C5 b: any single bit flip', () => {
  it('of an encrypted envelope is a DecryptionError, never a value', () => {
    const codec = createValueCodec({
      encryption: { key, keyId: 'k1' },
      compression: { algorithm: 'gzip', threshold: 0 },
    })
    const bytes = Buffer.from(codec.encode('user:1', value, meta))
    assertSameValue(codec.decode('user:1', bytes).value, value)
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Buffer.from(bytes)
      flipped[bit >> 3] = flipped[bit >> 3]! ^ (1 << (bit & 7))
      decryptionError(() => codec.decode('user:1', flipped))
    }
  })

  it('also with other serializers: json and v8', () => {
    for (const serializer of ['json', 'v8'] as const) {
      const codec = createValueCodec({ serializer, encryption: { key } })
      const bytes = Buffer.from(codec.encode('k', { a: [1, 'two'] }, meta))
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const flipped = Buffer.from(bytes)
        flipped[bit >> 3] = flipped[bit >> 3]! ^ (1 << (bit & 7))
        decryptionError(() => codec.decode('k', flipped))
      }
    }
  })

  it('truncation and a shortened tag are DecryptionError too', () => {
    const codec = createValueCodec({ encryption: { key } })
    const bytes = Buffer.from(codec.encode('k', 'x', meta))
    for (let n = 0; n < bytes.length; n++)
      decryptionError(() => codec.decode('k', bytes.subarray(0, n)))
    decryptionError(() => codec.decode('k', Buffer.concat([bytes, Buffer.from([0])])))
  })
})

describe('C5 c: associated data', () => {
  const codec = createValueCodec({ encryption: { key } })

  it("refuses user:1's ciphertext under user:2", () => {
    const bytes = codec.encode('user:1', { id: 1 }, meta)
    expect(codec.decode('user:1', bytes).value).toEqual({ id: 1 })
    const error = decryptionError(() => codec.decode('user:2', bytes))
    expect(error.message).toMatch(/failed authentication/)
    decryptionError(() => codec.decode('app:user:1', bytes)) // another namespace
    decryptionError(() => codec.decode('', bytes))
  })

  it('refuses a header with a changed expiry, grace, tags or serializer', () => {
    const bytes = Buffer.from(codec.encode('k', 'v', meta))
    const later = Buffer.from(bytes)
    later.writeDoubleBE(meta.expiresAt + 3_600_000, 5)
    decryptionError(() => codec.decode('k', later))
    const moreGrace = Buffer.from(bytes)
    moreGrace.writeDoubleBE(meta.graceUntil * 2, 13)
    decryptionError(() => codec.decode('k', moreGrace))
    const json = Buffer.from(bytes)
    json[3] = 2
    decryptionError(() => codec.decode('k', json))
  })

  it('refuses a key id that names another configured key', () => {
    const both = createValueCodec({
      encryption: { key, keyId: 'a', previousKeys: [{ key: otherKey, keyId: 'b' }] },
    })
    const bytes = Buffer.from(both.encode('k', 'v', meta))
    const header = parseEnvelope(bytes).header
    // The key id is the header's last byte here ('a' → 'b').
    bytes[header.length - 1] = 0x62
    decryptionError(() => both.decode('k', bytes))
  })
})

describe('C5 d: plaintext entries with encryption on', () => {
  const plain = createValueCodec().encode('k', { id: 1 }, meta)

  it('are refused', () => {
    const error = decryptionError(() =>
      createValueCodec({ encryption: { key } }).decode('k', plain),
    )
    expect(error.message).toMatch(
      /not encrypted, and encryption is on: refused\. Set encryption\.allowPlaintextRead/,
    )
  })

  it('are read with allowPlaintextRead, while new writes are encrypted', () => {
    const migrating = createValueCodec({ encryption: { key, allowPlaintextRead: true } })
    expect(migrating.decode('k', plain).value).toEqual({ id: 1 })
    expect(parseEnvelope(migrating.encode('k', 1, meta)).keyId).toBeDefined()
  })

  it('an encrypted entry read without encryption is a DecryptionError naming the key id', () => {
    const bytes = createValueCodec({ encryption: { key, keyId: 'prod-2026' } }).encode('k', 1, meta)
    expect(decryptionError(() => createValueCodec().decode('k', bytes)).message).toMatch(
      /'prod-2026'/,
    )
  })
})

describe('C5 e: rotation', () => {
  it('reads old-key entries through previousKeys and writes with the new key id', () => {
    const before = createValueCodec({ encryption: { key: otherKey, keyId: 'k1' } })
    const after = createValueCodec({
      encryption: { key, keyId: 'k2', previousKeys: [{ key: otherKey, keyId: 'k1' }] },
    })
    const old = before.encode('user:1', value, meta)
    assertSameValue(after.decode('user:1', old).value, value)
    const fresh = after.encode('user:1', value, meta)
    expect(parseEnvelope(old).keyId).toBe('k1')
    expect(parseEnvelope(fresh).keyId).toBe('k2')
    // A process still on the old key cannot read the new entries: a miss, not garbage.
    expect(decryptionError(() => before.decode('user:1', fresh)).message).toMatch(
      /key id 'k2', which is neither encryption\.keyId nor in encryption\.previousKeys \(known: 'k1'\)/,
    )
  })

  it('works with derived key ids and bare previous keys', () => {
    const before = createValueCodec({ encryption: { key: otherKey.toString('base64') } })
    const after = createValueCodec({
      encryption: { key: key.toString('hex'), previousKeys: [otherKey] },
    })
    expect(after.decode('k', before.encode('k', 'old', meta)).value).toBe('old')
    expect(parseEnvelope(after.encode('k', 'new', meta)).keyId).toBe(deriveKeyId(key))
  })

  it('a different key under the same id fails authentication', () => {
    const a = createValueCodec({ encryption: { key, keyId: 'same' } })
    const b = createValueCodec({ encryption: { key: otherKey, keyId: 'same' } })
    decryptionError(() => b.decode('k', a.encode('k', 1, meta)))
  })
})
