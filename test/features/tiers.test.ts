import { describe, expect, it } from 'vitest'
import {
  createCache,
  memoryStore,
  SerializationError,
  StoreUnavailableError,
  type CacheStatus,
} from '../../src/index.js'
import { faultyStore } from '../../src/testing/faulty-store.js'
import { ManualClock } from '../../src/testing/manual-clock.js'

/** Two instances of an application: each its own L1, one shared remote store. */
function twoInstances(clock = new ManualClock(), remote = memoryStore({ clock })) {
  const a = createCache({ tiers: [memoryStore({ clock }), remote], clock })
  const b = createCache({ tiers: [memoryStore({ clock }), remote], clock })
  return { a, b, remote, clock }
}

describe('a memory tier over a remote tier', () => {
  it('writes through to the remote tier, where another instance reads it', async () => {
    const { a, b, remote } = twoInstances()
    const value = { at: new Date(0), ids: new Set([1, 2]), big: 2n ** 70n }
    await a.set('user:1', value)
    expect(await remote.get('user:1')).toBeInstanceOf(Uint8Array)
    const status: CacheStatus = {}
    expect(await b.get('user:1', { status })).toEqual(value)
    expect(status).toEqual({ source: 'remote', stale: false, tier: 'memory' })
    // Now in B's L1.
    await b.get('user:1', { status })
    expect(status.source).toBe('local')
    expect(b.stats().tiers).toEqual([
      { name: 'memory', hits: 1, misses: 1 },
      { name: 'memory', hits: 1, misses: 0 },
    ])
  })

  it('backfills L1 with the remaining ttl, not the default one (R7)', async () => {
    const { a, b, clock } = twoInstances()
    await a.set('k', 'v', { ttl: '60s' })
    clock.advance(57_000)
    expect(await b.get('k')).toBe('v') // copied into B's L1 with 3 s left
    clock.advance(2_999)
    expect(await b.get('k')).toBe('v')
    clock.advance(1)
    expect(await b.get('k')).toBeUndefined()
  })

  it('getOrSet finds the value in the remote tier before loading', async () => {
    const { a, b } = twoInstances()
    await a.getOrSet('k', () => 'loaded by a')
    let calls = 0
    const status: CacheStatus = {}
    expect(await b.getOrSet('k', () => (calls++, 'loaded by b'), { status })).toBe('loaded by a')
    expect(calls).toBe(0)
    expect(status.source).toBe('remote')
    expect(b.stats()).toMatchObject({
      hits: 1,
      misses: 0,
      loads: 0,
      tiers: [
        { name: 'memory', hits: 0, misses: 1 },
        { name: 'memory', hits: 1, misses: 0 },
      ],
    })
    await b.getOrSet('absent', () => 'loaded')
    expect(b.stats()).toMatchObject({ hits: 1, misses: 1, loads: 1 })
  })

  it('getOrSetMany loads only what neither L1 nor the remote tier holds', async () => {
    const { a, b } = twoInstances()
    await a.setMany({ x: 1, y: 2 })
    await b.set('z', 3)
    const asked: string[][] = []
    const result = await b.getOrSetMany(['x', 'y', 'z', 'w'], (keys) => {
      asked.push(keys)
      return { w: 4 }
    })
    expect(asked).toEqual([['w']])
    expect(Object.fromEntries(result)).toEqual({ x: 1, y: 2, z: 3, w: 4 })
    expect(await a.get('w')).toBe(4) // the load was written through
  })

  it('getMany and hasMany read the remote tier for what L1 lacks', async () => {
    const { a, b } = twoInstances()
    await a.setMany({ p: 1, q: 2 })
    expect(Object.fromEntries(await b.getMany(['p', 'q', 'r']))).toEqual({ p: 1, q: 2 })
    expect(await b.hasMany(['p', 'r'])).toEqual(
      new Map([
        ['p', true],
        ['r', false],
      ]),
    )
    const c = createCache({ tiers: [memoryStore(), memoryStore()] })
    expect(await c.has('nothing')).toBe(false)
  })

  it('deletes from every tier', async () => {
    const { a, b } = twoInstances()
    await a.set('k', 1)
    expect(await b.delete('k')).toBe(true) // B's L1 never held it: the remote tier did
    expect(await a.has('k')).toBe(true) // A's own L1 copy: the bus (a later release) drops it
    expect(await createCache({ tiers: [memoryStore(), memoryStore()] }).delete('k')).toBe(false)
  })

  it('add, pull and increment are atomic in the authoritative tier, across instances', async () => {
    const { a, b } = twoInstances()
    const adds = await Promise.all([a.add('owner', 'a'), b.add('owner', 'b'), a.add('owner', 'a2')])
    expect(adds.filter(Boolean)).toHaveLength(1)

    await a.set('token', 'secret')
    const pulls = await Promise.all([a.pull('token'), b.pull('token')])
    expect(pulls.filter((p) => p !== undefined)).toEqual(['secret'])

    const counts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).increment('views')),
    )
    expect(counts.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(await b.get('views')).toBe(20)
    expect(await a.decrement('views', 5)).toBe(15)
  })

  it('clears a namespace in every tier and nothing outside it', async () => {
    const { a, b, remote } = twoInstances()
    await a.namespace('users').set('1', 'alice')
    await a.namespace('usersAbc').set('1', 'other')
    await b.namespace('users').clear()
    const fresh = createCache({ tiers: [memoryStore(), remote] })
    expect(await fresh.namespace('users').get('1')).toBeUndefined()
    expect(await fresh.namespace('usersAbc').get('1')).toBe('other')
  })

  it('lists keys from the authoritative tier', async () => {
    const { a, b } = twoInstances()
    await a.namespace('n').setMany({ k1: 1, k2: 2 })
    const page = await b.namespace('n').keys()
    expect(page.entries.map((e) => e.key).sort()).toEqual(['k1', 'k2'])
    expect(page.entries.every((e) => e.size > 0 && e.tier === 'memory')).toBe(true)
  })

  it('walks three tiers and backfills the middle one', async () => {
    const clock = new ManualClock()
    const middle = memoryStore({ clock })
    const bottom = memoryStore({ clock })
    const writer = createCache({ tiers: [memoryStore({ clock }), middle, bottom], clock })
    await writer.set('k', 'v', { ttl: '10s' })
    await middle.clear('')
    const reader = createCache({ tiers: [memoryStore({ clock }), middle, bottom], clock })
    clock.advance(4_000)
    expect(await reader.get('k')).toBe('v')
    expect(await middle.get('k')).toBeInstanceOf(Uint8Array) // copied up
    clock.advance(6_000)
    expect(await middle.get('k')).toBeUndefined() // with the remaining 6 s, not 10 s
  })
})

describe('remote failures', () => {
  it('treat a corrupt remote entry as a miss, delete it and report it', async () => {
    const clock = new ManualClock()
    const remote = memoryStore({ clock })
    const cache = createCache({ tiers: [memoryStore({ clock }), remote], clock })
    const errors: unknown[] = []
    cache.on('error', ({ error, key }) => errors.push([key, error]))
    await remote.set('bad', new TextEncoder().encode('{"not":"an envelope"}'))
    expect(await cache.get('bad')).toBeUndefined()
    expect(errors).toHaveLength(1)
    expect((errors[0] as [string, unknown])[0]).toBe('bad')
    expect((errors[0] as [string, unknown])[1]).toBeInstanceOf(SerializationError)
    await new Promise((resolve) => setImmediate(resolve))
    expect(await remote.get('bad')).toBeUndefined()
    // getOrSet reloads it.
    expect(await cache.getOrSet('bad', () => 'fixed')).toBe('fixed')
    expect(cache.stats().errors).toBe(1)
  })

  it('a remote tier that fails a read is reported, and the read goes on as a miss', async () => {
    const remote = faultyStore(memoryStore())
    const cache = createCache({ tiers: [memoryStore(), remote] })
    const errors: unknown[] = []
    cache.on('error', ({ error }) => errors.push(error))
    remote.failAlways()
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.getOrSet('k2', () => 'loaded')).toBe('loaded') // the write-through failure is reported too
    expect(await cache.get('k2')).toBe('loaded') // L1 kept it
    expect(errors.length).toBeGreaterThanOrEqual(3)
    expect(errors.every((e) => e instanceof StoreUnavailableError)).toBe(true)
  })

  it('a failed write to the authoritative tier rejects and leaves L1 as it was', async () => {
    const remote = faultyStore(memoryStore())
    const cache = createCache({ tiers: [memoryStore(), remote] })
    await cache.set('k', 'old')
    remote.failNext(1)
    await expect(cache.set('k', 'new')).rejects.toBeInstanceOf(StoreUnavailableError)
    expect(await cache.get('k')).toBe('old')
    remote.failNext(1)
    await expect(cache.setMany({ k: 'new', j: 1 })).rejects.toBeInstanceOf(StoreUnavailableError)
    expect(await cache.get('k')).toBe('old')
    expect(await cache.has('j')).toBe(false)
  })

  it('a value the serializer refuses is never written anywhere', async () => {
    const remote = memoryStore()
    const cache = createCache({ tiers: [memoryStore(), remote], serializer: 'json' })
    await cache.set('k', 'kept')
    await expect(cache.set('k', { fn: 10n })).rejects.toBeInstanceOf(SerializationError)
    expect(await cache.get('k')).toBe('kept')
  })
})
