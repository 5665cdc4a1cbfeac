import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  createCache,
  DecryptionError,
  InvalidArgumentError,
  memoryStore,
  SerializationError,
  ValueTooLargeError,
} from '../../src/index.js'

/** A cache whose remote tier is an in-process byte store we can tamper with. */
function cacheOver(remote = memoryStore(), options: Parameters<typeof createCache>[0] = {}) {
  const cache = createCache({ tiers: [memoryStore(), remote], ...options })
  const errors: Array<{ key?: string; error: unknown }> = []
  cache.on('error', ({ key, error }) => errors.push({ key, error }))
  return { cache, remote, errors }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('the value pipeline end to end through a remote tier', () => {
  const key = randomBytes(32)
  const value = {
    text: 'x'.repeat(5_000),
    when: new Date(0),
    big: -(2n ** 70n),
    tags: new Set(['a', 'b']),
    bytes: Buffer.from([1, 2, 3]),
  }

  it('round-trips every supported type through compression and encryption', async () => {
    const { remote } = cacheOver()
    const writer = createCache({
      tiers: [memoryStore(), remote],
      compression: { algorithm: 'brotli', threshold: 100 },
      encryption: { key },
    })
    await writer.set('v', value)
    const stored = (await remote.get('v'))!
    expect(stored.byteLength).toBeLessThan(5_000) // compressed
    expect(Buffer.from(stored).includes(Buffer.from('xxxxxxxx'))).toBe(false) // encrypted
    const reader = createCache({ tiers: [memoryStore(), remote], encryption: { key } })
    const read = await reader.get<typeof value>('v')
    expect(read).toEqual(value)
    expect(Buffer.isBuffer(read!.bytes)).toBe(true)
    expect(read!.when).toBeInstanceOf(Date)
  })

  it('treats a bit-flipped entry as a miss, deletes it and reports it', async () => {
    const { cache, remote, errors } = cacheOver(memoryStore(), { encryption: { key } })
    const writer = createCache({ tiers: [memoryStore(), remote], encryption: { key } })
    await writer.set('k', 'secret')
    const bytes = (await remote.get('k'))!
    bytes[bytes.length - 5]! ^= 0x01
    await remote.set('k', bytes)
    expect(await cache.get('k')).toBeUndefined()
    expect(errors).toHaveLength(1)
    expect(errors[0]!.key).toBe('k')
    expect(errors[0]!.error).toBeInstanceOf(DecryptionError)
    await settle()
    expect(await remote.get('k')).toBeUndefined()
    expect(await cache.getOrSet('k', () => 'reloaded')).toBe('reloaded')
  })

  it('refuses a ciphertext copied under another key (the key is bound as associated data)', async () => {
    const { cache, remote, errors } = cacheOver(memoryStore(), { encryption: { key } })
    await cache.set('user:1', { admin: true })
    await remote.set('user:2', (await remote.get('user:1'))!)
    const fresh = createCache({ tiers: [memoryStore(), remote], encryption: { key } })
    fresh.on('error', ({ key: k, error }) => errors.push({ key: k, error }))
    expect(await fresh.get('user:2')).toBeUndefined()
    expect(errors.at(-1)!.error).toBeInstanceOf(DecryptionError)
    expect(await fresh.get('user:1')).toEqual({ admin: true })
  })

  it('reads old entries through previousKeys after a rotation, and writes with the new key', async () => {
    const oldKey = randomBytes(32)
    const newKey = randomBytes(32)
    const remote = memoryStore()
    await createCache({ tiers: [memoryStore(), remote], encryption: { key: oldKey } }).set('old', 1)
    const rotated = createCache({
      tiers: [memoryStore(), remote],
      encryption: { key: newKey, previousKeys: [oldKey] },
    })
    expect(await rotated.get('old')).toBe(1)
    await rotated.set('new', 2)
    const newOnly = createCache({ tiers: [memoryStore(), remote], encryption: { key: newKey } })
    expect(await newOnly.get('new')).toBe(2)
    expect(await newOnly.get('old')).toBeUndefined() // the old key is no longer known
  })

  it('refuses plaintext entries when encryption is on, unless migrating', async () => {
    const remote = memoryStore()
    await createCache({ tiers: [memoryStore(), remote] }).set('plain', 'text')
    const strict = cacheOver(remote, { encryption: { key } })
    expect(await strict.cache.get('plain')).toBeUndefined()
    expect(strict.errors[0]!.error).toBeInstanceOf(DecryptionError)
    await createCache({ tiers: [memoryStore(), remote] }).set('plain', 'text')
    const migrating = createCache({
      tiers: [memoryStore(), remote],
      encryption: { key, allowPlaintextRead: true },
    })
    expect(await migrating.get('plain')).toBe('text')
  })

  it('rejects a value over maxValueBytes before any write, keeping the old value', async () => {
    const { cache, remote } = cacheOver(memoryStore(), { maxValueBytes: 1_000 })
    await cache.set('k', 'small')
    await expect(cache.set('k', 'y'.repeat(5_000))).rejects.toBeInstanceOf(ValueTooLargeError)
    expect(await cache.get('k')).toBe('small')
    const other = createCache({ tiers: [memoryStore(), remote] })
    expect(await other.get('k')).toBe('small')
  })

  it('never returns foreign or truncated bytes as a value', async () => {
    const { cache, remote, errors } = cacheOver()
    await cache.set('good', { a: 1 })
    const good = (await remote.get('good'))!
    const samples = [
      new TextEncoder().encode('plain text'),
      new TextEncoder().encode('{"json":"without envelope"}'),
      good.subarray(0, good.length - 1),
      good.subarray(0, 3),
      new Uint8Array([0xc1, 0xff, 0xff, 0xff, 0xff]),
    ]
    for (const [i, bytes] of samples.entries()) {
      await remote.set(`bad${i}`, bytes)
      const fresh = createCache({ tiers: [memoryStore(), remote] })
      fresh.on('error', ({ key: k, error }) => errors.push({ key: k, error }))
      expect(await fresh.get(`bad${i}`)).toBeUndefined()
    }
    expect(errors).toHaveLength(samples.length)
    expect(errors.every((e) => e.error instanceof SerializationError)).toBe(true)
  })

  it('reports key wear as an error event', async () => {
    const { cache, errors } = cacheOver(memoryStore(), {
      encryption: { key, keyWearThreshold: 3 },
    })
    for (let i = 0; i < 5; i++) await cache.set(`k${i}`, i)
    expect(errors.filter((e) => /rotate it/.test(String(e.error)))).toHaveLength(1)
  })
})

describe('pipeline options', () => {
  it('are checked at createCache, with or without remote tiers', () => {
    for (const tiers of [undefined, [memoryStore(), memoryStore()] as const]) {
      expect(() => createCache({ tiers, encryption: { key: randomBytes(16) } })).toThrow(
        InvalidArgumentError,
      )
      expect(() => createCache({ tiers, compression: { algorithm: 'lzma' as 'gzip' } })).toThrow(
        InvalidArgumentError,
      )
      expect(() => createCache({ tiers, serializer: 'yaml' as 'json' })).toThrow(
        InvalidArgumentError,
      )
      expect(() => createCache({ tiers, maxValueBytes: 0 })).toThrow(InvalidArgumentError)
    }
  })
})
