import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createCache, memoryStore, type CacheStatus, type LoaderContext } from '../../src/index.js'
import { ManualClock } from '../../src/testing/manual-clock.js'
import { deferred, tick } from '../helpers/deferred.js'

describe('getOrSet', () => {
  it('loads on a miss, stores, and serves the next call from L1', async () => {
    const cache = createCache()
    let calls = 0
    const loader = () => ++calls
    expect(await cache.getOrSet('k', loader)).toBe(1)
    expect(await cache.getOrSet('k', loader)).toBe(1)
    expect(await cache.get('k')).toBe(1)
    expect(calls).toBe(1)
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 1, loads: 1 })
  })

  it('gives the loader the caller key, a signal, and ttl/tags/skip controls', async () => {
    const clock = new ManualClock()
    const l1 = memoryStore({ clock })
    const cache = createCache({ tiers: [l1], clock, ttl: '1h' }).namespace('ns')
    let seen: LoaderContext | undefined
    await cache.getOrSet('k', (ctx) => {
      seen = ctx
      ctx.setTtl('10s')
      ctx.setTags(['a', 'b'])
      return 'v'
    })
    expect(seen?.key).toBe('k')
    expect(seen?.signal).toBeInstanceOf(AbortSignal)
    expect(seen?.signal.aborted).toBe(false)
    const entry = l1.entry('ns:k')
    expect(entry?.expiresAt).toBe(clock.now() + 10_000)
    expect(entry?.tags).toEqual(['a', 'b'])
    clock.advance(10_000)
    expect(await cache.get('k')).toBeUndefined()

    expect(await cache.getOrSet('s', (ctx) => (ctx.skipCache(), 'not stored'))).toBe('not stored')
    expect(await cache.has('s')).toBe(false)

    await cache.getOrSet('forever', (ctx) => (ctx.setTtl(null), 1))
    expect(l1.entry('ns:forever')?.expiresAt).toBe(0)
  })

  it('applies the per-call ttl, then the default one', async () => {
    const clock = new ManualClock()
    const cache = createCache({ clock, ttl: '1m' })
    await cache.getOrSet('a', () => 1)
    await cache.getOrSet('b', () => 2, { ttl: '10m' })
    await cache.getOrSet('c', () => 3, { ttl: null })
    clock.advance(60_000)
    expect([await cache.get('a'), await cache.get('b'), await cache.get('c')]).toEqual([
      undefined,
      2,
      3,
    ])
    clock.advance(540_000)
    expect([await cache.get('b'), await cache.get('c')]).toEqual([undefined, 3])
  })

  it('remembers "not found" for negativeTtl only', async () => {
    const clock = new ManualClock()
    const cache = createCache({ clock, negativeTtl: '30s' })
    let calls = 0
    const loader = () => {
      calls++
      return undefined
    }
    expect(await cache.getOrSet('missing', loader)).toBeUndefined()
    expect(await cache.getOrSet('missing', loader)).toBeUndefined()
    expect(calls).toBe(1)
    expect(await cache.get('missing')).toBeUndefined()
    expect(await cache.has('missing')).toBe(false)
    expect((await cache.keys()).entries).toEqual([])
    clock.advance(30_000)
    await cache.getOrSet('missing', loader)
    expect(calls).toBe(2)

    // Without negativeTtl nothing is remembered.
    const plain = createCache()
    let plainCalls = 0
    await plain.getOrSet('x', () => void plainCalls++)
    await plain.getOrSet('x', () => void plainCalls++)
    expect(plainCalls).toBe(2)
    // A set replaces a remembered "not found".
    await cache.set('missing', 'found')
    expect(await cache.getOrSet('missing', loader)).toBe('found')
  })

  it('fills status with where the value came from', async () => {
    const cache = createCache()
    const status: CacheStatus = {}
    await cache.getOrSet('k', () => 1, { status })
    expect(status).toEqual({ source: 'loader', stale: false, tier: undefined })
    await cache.getOrSet('k', () => 2, { status })
    expect(status).toEqual({ source: 'local', stale: false, tier: 'memory' })
    await cache.get('nope', { status })
    expect(status.source).toBeUndefined()
  })

  it('does not store a load that a set or delete overtook', async () => {
    const cache = createCache()
    const gate = deferred<string>()
    const load = cache.getOrSet('k', () => gate.promise)
    await tick()
    await cache.set('k', 'newer')
    gate.resolve('older')
    expect(await load).toBe('older')
    expect(await cache.get('k')).toBe('newer')

    const gate2 = deferred<string>()
    const load2 = cache.getOrSet('d', () => gate2.promise)
    await tick()
    await cache.delete('d')
    gate2.resolve('stale')
    await load2
    expect(await cache.has('d')).toBe(false)
  })
})

describe('refresh', () => {
  it('reloads whatever is cached and stores the result', async () => {
    const cache = createCache()
    await cache.set('k', 1)
    expect(await cache.refresh('k', () => 2)).toBe(2)
    expect(await cache.get('k')).toBe(2)
  })

  it('is shared by concurrent refreshes and by getOrSet callers arriving meanwhile', async () => {
    const cache = createCache()
    const gate = deferred<number>()
    let calls = 0
    const loader = () => (calls++, gate.promise)
    const a = cache.refresh('k', loader)
    const b = cache.refresh('k', loader)
    const c = cache.getOrSet('k', () => 99)
    await tick()
    gate.resolve(5)
    expect(await Promise.all([a, b, c])).toEqual([5, 5, 5])
    expect(calls).toBe(1)
  })

  it('wins over a getOrSet load already in progress', async () => {
    const cache = createCache()
    const slow = deferred<string>()
    const first = cache.getOrSet('k', () => slow.promise)
    await tick()
    expect(await cache.refresh('k', () => 'fresh')).toBe('fresh')
    slow.resolve('old')
    expect(await first).toBe('old')
    expect(await cache.get('k')).toBe('fresh')
  })
})

describe('schema', () => {
  const User = z.object({ id: z.number(), name: z.string() })

  it('treats a cached value that fails the schema as a miss and deletes it', async () => {
    const cache = createCache()
    await cache.set('user:1', { id: '1', name: 'old shape' })
    expect(await cache.get('user:1', { schema: User })).toBeUndefined()
    expect(await cache.has('user:1')).toBe(false)
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 1 })

    await cache.set('user:2', { id: 2, name: 'old shape' })
    const loaded = await cache.getOrSet('user:2', () => ({ id: 2, name: 'reloaded' }), {
      schema: z.object({ id: z.number(), name: z.literal('reloaded') }),
    })
    expect(loaded).toEqual({ id: 2, name: 'reloaded' })
    expect(await cache.get('user:2')).toEqual({ id: 2, name: 'reloaded' })
  })

  it('returns the schema output for a valid value', async () => {
    const cache = createCache()
    await cache.set('n', { id: 1, name: 'a', extra: true })
    expect(await cache.get('n', { schema: User })).toEqual({ id: 1, name: 'a' })
    const many = await cache.getMany(['n'], { schema: User })
    expect(many.get('n')).toEqual({ id: 1, name: 'a' })
  })

  it('checks batch hits too and reloads those that fail', async () => {
    const cache = createCache()
    await cache.set('a', { id: 1, name: 'ok' })
    await cache.set('b', { id: 'bad' })
    let asked: string[] = []
    const result = await cache.getOrSetMany(
      ['a', 'b'],
      (keys) => {
        asked = keys
        return { b: { id: 2, name: 'fixed' } }
      },
      { schema: User },
    )
    expect(asked).toEqual(['b'])
    expect(Object.fromEntries(result)).toEqual({
      a: { id: 1, name: 'ok' },
      b: { id: 2, name: 'fixed' },
    })
  })
})
