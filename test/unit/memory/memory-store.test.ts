import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, memoryStore, WrongTypeError } from '../../../src/index.js'
import type { EvictionReason } from '../../../src/index.js'

function clockAt(start = 1_000_000) {
  const clock = { t: start, now: () => clock.t }
  return clock
}

function recordEvictions(store: ReturnType<typeof memoryStore>) {
  const seen: Array<[string, EvictionReason]> = []
  store.onEvict((key, _value, reason) => seen.push([key, reason]))
  return seen
}

describe('memoryStore (L1 face)', () => {
  it('returns live values, not copies', () => {
    const store = memoryStore()
    const value = { a: [1, 2] }
    store.write('k', value, 0)
    expect(store.read('k')).toBe(value)
    expect(store.read('missing')).toBeUndefined()
  })

  it('expires lazily on read without any timer', () => {
    const clock = clockAt()
    const store = memoryStore({ clock })
    const evicted = recordEvictions(store)
    store.write('k', 1, clock.t + 100)
    clock.t += 99
    expect(store.read('k')).toBe(1)
    clock.t += 1
    expect(store.read('k')).toBeUndefined()
    expect(store.size).toBe(0)
    expect(evicted).toEqual([['k', 'expired']])
  })

  it('reclaims expired entries nobody reads as writes advance time', () => {
    const clock = clockAt()
    const store = memoryStore({ clock, maxEntries: 20_000 })
    const evicted = recordEvictions(store)
    let seed = 3
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    const ttls: number[] = []
    for (let i = 0; i < 10_000; i++) {
      const ttl = 1_000 + random(3_600_000) // 1 s to 1 h
      ttls.push(ttl)
      store.write(`k${i}`, i, clock.t + ttl)
    }
    const start = clock.t
    clock.t += 30 * 60_000
    store.write('trigger', 0, 0) // nobody reads the old keys: the write alone reclaims them
    const elapsed = clock.t - start
    // Reclaimed at most one bucket width (never more than the ttl, at least 1 s) late.
    const surelyGone = ttls.filter((ttl) => ttl + Math.max(1024, ttl) <= elapsed).length
    const stillLive = ttls.filter((ttl) => ttl > elapsed).length
    expect(store.size - 1).toBeGreaterThanOrEqual(stillLive)
    expect(store.size - 1).toBeLessThanOrEqual(10_000 - surelyGone)
    expect(evicted.every(([, reason]) => reason === 'expired')).toBe(true)
    clock.t += 2 * 3_600_000
    store.write('trigger', 0, 0)
    expect(store.size).toBe(1)
    expect(evicted).toHaveLength(10_000)
  })

  it('evicts the least recently used entry past maxEntries', () => {
    const store = memoryStore({ maxEntries: 3 })
    const evicted = recordEvictions(store)
    store.write('a', 1, 0)
    store.write('b', 2, 0)
    store.write('c', 3, 0)
    store.read('a')
    store.write('d', 4, 0)
    expect(store.read('b')).toBeUndefined()
    expect(store.size).toBe(3)
    expect(evicted).toEqual([['b', 'size']])
    expect([store.read('a'), store.read('c'), store.read('d')]).toEqual([1, 3, 4])
  })

  it('bounds bytes with sizeOf and refuses a value larger than maxBytes', () => {
    const store = memoryStore({ maxBytes: 100, sizeOf: (v) => (v as string).length })
    const evicted = recordEvictions(store)
    store.write('a', 'x'.repeat(40), 0)
    store.write('b', 'x'.repeat(40), 0)
    store.write('c', 'x'.repeat(40), 0) // 120 > 100: 'a' goes
    expect(store.bytes).toBe(80)
    expect(store.read('a')).toBeUndefined()
    store.write('b', 'x'.repeat(10), 0) // overwrite adjusts the count
    expect(store.bytes).toBe(50)
    store.write('huge', 'x'.repeat(101), 0)
    expect(store.read('huge')).toBeUndefined()
    expect(store.bytes).toBe(50)
    expect(evicted).toEqual([
      ['a', 'size'],
      ['huge', 'size'],
    ])
  })

  it('estimates sizes by default when only maxBytes is given', () => {
    const store = memoryStore({ maxBytes: 10_000 })
    for (let i = 0; i < 1000; i++) store.write(`k${i}`, { i, name: 'some text' }, 0)
    expect(store.bytes).toBeLessThanOrEqual(10_000)
    expect(store.size).toBeGreaterThan(10)
    expect(store.size).toBeLessThan(1000)
  })

  it('grows its slot arrays and keeps every entry', () => {
    const store = memoryStore({ maxEntries: 5000 })
    for (let i = 0; i < 5000; i++) store.write(`k${i}`, i, 0)
    for (let i = 0; i < 5000; i++) expect(store.read(`k${i}`)).toBe(i)
    store.write('one-more', 1, 0)
    expect(store.read('k0')).toBeUndefined()
    expect(store.size).toBe(5000)
  })

  it('matches a Map model under random writes, reads and removes', () => {
    const store = memoryStore({ maxEntries: 100_000 })
    const model = new Map<string, number>()
    let seed = 7
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let i = 0; i < 50_000; i++) {
      const key = `k${random(500)}`
      switch (random(4)) {
        case 0:
          store.write(key, i, 0)
          model.set(key, i)
          break
        case 1:
          expect(store.remove(key)).toBe(model.delete(key))
          break
        default:
          expect(store.read(key)).toBe(model.get(key))
      }
    }
    expect(store.size).toBe(model.size)
    const listed = store
      .list('', 0, 1_000_000)
      .entries.map((e) => e.key)
      .sort()
    expect(listed).toEqual([...model.keys()].sort())
  })

  it('increments numbers and decimal bytes, keeps the expiry, refuses other values', () => {
    const clock = clockAt()
    const store = memoryStore({ clock })
    expect(store.incrementLive('n', 5, clock.t + 100)).toBe(5)
    clock.t += 50
    expect(store.incrementLive('n', -7, clock.t + 1000)).toBe(-2)
    clock.t += 50
    expect(store.read('n')).toBeUndefined() // the first expiry held
    store.write('bytes', new TextEncoder().encode('41'), 0)
    expect(store.incrementLive('bytes', 1, 0)).toBe(42)
    store.write('text', 'hello', 0)
    expect(() => store.incrementLive('text', 1, 0)).toThrow(WrongTypeError)
    expect(store.read('text')).toBe('hello')
    store.write('big', Number.MAX_SAFE_INTEGER, 0)
    expect(() => store.incrementLive('big', 1, 0)).toThrow(WrongTypeError)
  })

  it('removes by prefix as a plain string', () => {
    const store = memoryStore()
    for (const key of ['foo:1', 'foo:2', 'foobar:1', 'fo:1', 'a_b:1', 'aXb:1'])
      store.write(key, 1, 0)
    store.removePrefix('foo:')
    store.removePrefix('a_b:')
    expect(
      store
        .list('', 0, 100)
        .entries.map((e) => e.key)
        .sort(),
    ).toEqual(['aXb:1', 'fo:1', 'foobar:1'])
  })

  it('validates its options', () => {
    expect(() => memoryStore({ maxEntries: 0 })).toThrow(InvalidArgumentError)
    expect(() => memoryStore({ maxEntries: 1.5 })).toThrow(InvalidArgumentError)
    expect(() => memoryStore({ maxBytes: -1 })).toThrow(InvalidArgumentError)
    expect(() => memoryStore({ maxBytes: Infinity })).toThrow(InvalidArgumentError)
    expect(() => memoryStore({ policy: 'fifo' as 'lru' })).toThrow(InvalidArgumentError)
  })
})
