import { describe, expect, it } from 'vitest'
import { createCache, memoryStore, WrongTypeError } from '../../src/index.js'
import { ManualClock } from '../../src/testing/manual-clock.js'

describe('single-key calls', () => {
  it('set, get, has, delete', async () => {
    const cache = createCache()
    const value = { nested: [1, { deep: true }], at: new Date(0) }
    await cache.set('k', value)
    expect(await cache.get('k')).toBe(value) // L1 holds the live value
    expect(await cache.has('k')).toBe(true)
    expect(await cache.delete('k')).toBe(true)
    expect(await cache.delete('k')).toBe(false)
    expect(await cache.has('k')).toBe(false)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('keeps falsy values as hits', async () => {
    const cache = createCache()
    for (const [key, value] of [
      ['zero', 0],
      ['empty', ''],
      ['no', false],
      ['nil', null],
      ['nan', NaN],
    ] as const) {
      await cache.set(key, value)
      expect(await cache.has(key)).toBe(true)
      expect(await cache.get(key)).toBe(value)
    }
  })

  it('add stores only when absent', async () => {
    const cache = createCache()
    expect(await cache.add('k', 1)).toBe(true)
    expect(await cache.add('k', 2)).toBe(false)
    expect(await cache.get('k')).toBe(1)
    const wins = await Promise.all(Array.from({ length: 50 }, (_, i) => cache.add('race', i)))
    expect(wins.filter(Boolean)).toHaveLength(1)
    expect(await cache.get('race')).toBe(wins.indexOf(true))
  })

  it('pull gets and deletes once', async () => {
    const cache = createCache()
    await cache.set('token', 'abc')
    const pulls = await Promise.all([cache.pull('token'), cache.pull('token'), cache.pull('token')])
    expect(pulls.filter((p) => p !== undefined)).toEqual(['abc'])
    expect(await cache.has('token')).toBe(false)
  })

  it('increment and decrement count from 0, keep the first ttl, and refuse non-integers', async () => {
    const clock = new ManualClock()
    const cache = createCache({ clock })
    expect(await cache.increment('n')).toBe(1)
    expect(await cache.increment('n', 10)).toBe(11)
    expect(await cache.decrement('n')).toBe(10)
    expect(await cache.decrement('n', 15)).toBe(-5)
    const counts = await Promise.all(Array.from({ length: 100 }, () => cache.increment('c')))
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))

    expect(await cache.increment('t', 1, { ttl: '1m' })).toBe(1)
    clock.advance(30_000)
    expect(await cache.increment('t', 1, { ttl: '1h' })).toBe(2) // existing counter keeps its expiry
    clock.advance(30_000)
    expect(await cache.get('t')).toBeUndefined()

    await cache.set('text', 'hello')
    await expect(cache.increment('text')).rejects.toBeInstanceOf(WrongTypeError)
    expect(await cache.get('text')).toBe('hello')
  })

  it('expires entries by ttl, including ttls beyond 24.8 days (R7)', async () => {
    const clock = new ManualClock()
    const cache = createCache({ clock })
    await cache.set('month', 1, { ttl: '30d' })
    await cache.set('short', 1, { ttl: 250 })
    clock.advance(249)
    expect(await cache.get('short')).toBe(1)
    clock.advance(1)
    expect(await cache.get('short')).toBeUndefined()
    clock.advance(25 * 86_400_000)
    expect(await cache.get('month')).toBe(1)
    clock.advance(5 * 86_400_000)
    expect(await cache.get('month')).toBeUndefined()
  })

  it('an overwrite replaces the ttl', async () => {
    const clock = new ManualClock()
    const cache = createCache({ clock, ttl: '1m' })
    await cache.set('k', 1, { ttl: '1s' })
    await cache.set('k', 2, { ttl: null })
    clock.advance(86_400_000)
    expect(await cache.get('k')).toBe(2)
  })
})

describe('batch calls', () => {
  it('setMany takes a record, a Map or entries; getMany returns found keys in order', async () => {
    const cache = createCache()
    await cache.setMany({ a: 1, b: 2 })
    await cache.setMany(new Map([['c', 3]]))
    await cache.setMany([['d', 4]])
    const found = await cache.getMany(['d', 'missing', 'a', 'c', 'a'])
    expect([...found.entries()]).toEqual([
      ['d', 4],
      ['a', 1],
      ['c', 3],
    ])
    expect(await cache.getMany([])).toEqual(new Map())
  })

  it('hasMany and deleteMany', async () => {
    const cache = createCache()
    await cache.setMany({ a: 1, b: 2, c: 3 })
    expect(await cache.hasMany(['a', 'x'])).toEqual(
      new Map([
        ['a', true],
        ['x', false],
      ]),
    )
    expect(await cache.deleteMany(['a', 'b', 'x', 'a'])).toBe(2)
    expect(await cache.hasMany(['a', 'b', 'c'])).toEqual(
      new Map([
        ['a', false],
        ['b', false],
        ['c', true],
      ]),
    )
  })

  it('getOrSetMany calls the loader once with only the missing keys', async () => {
    const cache = createCache()
    await cache.setMany({ 'user:1': 'alice', 'user:2': 'bob' })
    const calls: string[][] = []
    const result = await cache.getOrSetMany(
      ['user:1', 'user:3', 'user:2', 'user:4', 'user:3'],
      async (missing) => {
        calls.push(missing)
        return { 'user:3': 'carol' } // user:4 left out: not found
      },
    )
    expect(calls).toEqual([['user:3', 'user:4']])
    expect([...result.entries()]).toEqual([
      ['user:1', 'alice'],
      ['user:3', 'carol'],
      ['user:2', 'bob'],
    ])
    expect(await cache.get('user:3')).toBe('carol')
    expect(await cache.has('user:4')).toBe(false)
    // Everything cached: no loader call at all.
    await cache.getOrSetMany(['user:1', 'user:3'], (m) => (calls.push(m), {}))
    expect(calls).toHaveLength(1)
  })

  it('getOrSetMany accepts a Map or entries, ignores keys it did not ask for, and reads records safely', async () => {
    const cache = createCache({ negativeTtl: '1m' })
    const fromMap = await cache.getOrSetMany(
      ['a', 'b'],
      () =>
        new Map([
          ['a', 1],
          ['zzz', 9],
        ]),
    )
    expect(Object.fromEntries(fromMap)).toEqual({ a: 1 })
    expect(await cache.has('zzz')).toBe(false)
    const fromEntries = await cache.getOrSetMany(['c'], () => [['c', 3]] as Array<[string, number]>)
    expect(fromEntries.get('c')).toBe(3)
    const fromRecord = await cache.getOrSetMany(
      ['__proto__', 'toString', 'd'],
      () => JSON.parse('{"d": 4}') as Record<string, number>,
    )
    expect(Object.fromEntries(fromRecord)).toEqual({ d: 4 })
    // 'b' was left out and negativeTtl is set: remembered as not found.
    let again = 0
    await cache.getOrSetMany(['b'], () => (again++, {}))
    expect(again).toBe(0)
    await expect(cache.getOrSetMany(['e'], () => 42 as never)).rejects.toThrow(/Map, a record/)
  })

  it('getOrSetMany applies ctx controls to the whole batch', async () => {
    const clock = new ManualClock()
    const cache = createCache({ clock })
    await cache.getOrSetMany(['a', 'b'], (keys, ctx) => {
      expect(ctx.keys).toEqual(keys)
      expect(ctx.signal.aborted).toBe(false)
      ctx.setTtl('1s')
      return { a: 1, b: 2 }
    })
    clock.advance(1000)
    expect(await cache.getMany(['a', 'b'])).toEqual(new Map())
    await cache.getOrSetMany(['s'], (_keys, ctx) => (ctx.skipCache(), { s: 1 }))
    expect(await cache.has('s')).toBe(false)
  })

  it('refreshMany reloads cached keys with one call', async () => {
    const cache = createCache()
    await cache.setMany({ a: 1, b: 2 })
    const calls: string[][] = []
    const result = await cache.refreshMany(['a', 'b'], (keys) => {
      calls.push(keys)
      return { a: 10, b: 20 }
    })
    expect(calls).toEqual([['a', 'b']])
    expect(Object.fromEntries(result)).toEqual({ a: 10, b: 20 })
    expect(Object.fromEntries(await cache.getMany(['a', 'b']))).toEqual({ a: 10, b: 20 })
  })
})

describe('namespaces, clear and keys', () => {
  it('keeps namespaces apart and clears only its own', async () => {
    const root = createCache({ namespace: 'app' })
    const users = root.namespace('users')
    const usersAbc = root.namespace('usersAbc')
    await users.set('1', 'alice')
    await usersAbc.set('1', 'other')
    await root.set('users', 'plain key')
    expect(await users.get('1')).toBe('alice')
    expect(await root.get('users:1')).toBe('alice') // nested namespaces are ':'-joined prefixes
    await users.clear()
    expect(await users.get('1')).toBeUndefined()
    expect(await usersAbc.get('1')).toBe('other')
    expect(await root.get('users')).toBe('plain key')
  })

  it('never lets namespace and key separators collide (X1)', async () => {
    const cache = createCache()
    await cache.namespace('a').set('b:c', 'first')
    await cache.namespace('a:b').set('c', 'second')
    expect(await cache.namespace('a').get('b:c')).toBe('first')
    expect(await cache.namespace('a:b').get('c')).toBe('second')
    await cache.namespace('a:b').clear()
    expect(await cache.namespace('a').get('b:c')).toBe('first')
    for (const name of ['cache[ab]', 'a_b', '%', '*', '../x', 'a\r\nb']) {
      await cache.namespace(name).set('k', name)
    }
    await cache.set('cachea:k', 'outside')
    await cache.namespace('cache[ab]').clear()
    await cache.namespace('a_b').clear()
    expect(await cache.get('cachea:k')).toBe('outside')
    expect(await cache.namespace('%').get('k')).toBe('%')
  })

  it('clear on a root cache without namespace drops everything', async () => {
    const cache = createCache()
    await cache.setMany({ a: 1, b: 2 })
    await cache.namespace('n').set('c', 3)
    await cache.clear()
    expect(cache.stats().inFlight).toBe(0)
    expect((await cache.keys()).entries).toEqual([])
  })

  it('lists entries page by page without the namespace prefix', async () => {
    const clock = new ManualClock()
    const cache = createCache({ clock, namespace: 'app' })
    const other = createCache({ tiers: [memoryStore()] })
    await other.set('outside', 1)
    for (let i = 0; i < 25; i++)
      await cache.set(`item:${i}`, i, i % 2 === 0 ? { ttl: '1h' } : undefined)
    await cache.set('skip:me', 0)
    const seen: string[] = []
    let cursor: string | undefined
    let pages = 0
    do {
      const page = await cache.keys({ prefix: 'item:', cursor, limit: 10 })
      for (const entry of page.entries) {
        seen.push(entry.key)
        expect(entry.tier).toBe('memory')
        expect(entry.size).toBeGreaterThan(0)
        const i = Number(entry.key.slice(5))
        expect(entry.expiresAt).toBe(i % 2 === 0 ? clock.now() + 3_600_000 : undefined)
      }
      cursor = page.cursor
      pages++
    } while (cursor !== undefined)
    expect(pages).toBeGreaterThanOrEqual(3)
    expect(seen.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `item:${i}`).sort())
  })
})

describe('stats and events', () => {
  it('counts hits, misses, sets, deletes, loads, errors and evictions', async () => {
    const cache = createCache({ tiers: [memoryStore({ maxEntries: 2 })] })
    await cache.set('a', 1)
    await cache.get('a')
    await cache.get('b')
    await cache.getOrSet('c', () => 3)
    await cache.getOrSet('d', () => 4) // evicts 'a'
    await cache.delete('c')
    await cache.getOrSet('e', () => Promise.reject(new Error('x'))).catch(() => {})
    expect(cache.stats()).toEqual({
      hits: 1,
      misses: 4,
      hitRatio: 0.2,
      sets: 1,
      deletes: 1,
      loads: 3,
      loadErrors: 1,
      evictions: 1,
      errors: 0,
      inFlight: 0,
      tiers: [{ name: 'memory', hits: 1, misses: 4 }],
    })
    expect(createCache().stats().hitRatio).toBe(0)
  })

  it('emits typed events with storage keys, and off stops them', async () => {
    const cache = createCache({ tiers: [memoryStore({ maxEntries: 1 })] })
    const ns = cache.namespace('n')
    const events: string[] = []
    const onHit = ({ key, tier }: { key: string; tier: string }) =>
      events.push(`hit ${key} ${tier}`)
    cache
      .on('hit', onHit)
      .on('miss', ({ key }) => events.push(`miss ${key}`))
      .on('set', ({ key }) => events.push(`set ${key}`))
      .on('delete', ({ key }) => events.push(`delete ${key}`))
      .on('load', ({ key, error }) => events.push(`load ${key}${error ? ' failed' : ''}`))
      .on('evict', ({ key, reason }) => events.push(`evict ${key} ${reason}`))
    await ns.set('a', 1)
    await ns.get('a')
    await ns.getOrSet('b', () => 2)
    await ns.delete('b')
    await ns.getOrSet('c', () => Promise.reject(new Error('no'))).catch(() => {})
    cache.off('hit', onHit)
    await ns.set('d', 4)
    await ns.get('d')
    expect(events).toEqual([
      'set n:a',
      'hit n:a memory',
      'miss n:b',
      'evict n:a size',
      'load n:b',
      'delete n:b',
      'miss n:c',
      'load n:c failed',
      'set n:d',
    ])
  })

  it('turns a throwing listener into an error event', async () => {
    const cache = createCache()
    const errors: unknown[] = []
    cache.on('error', ({ error, operation }) => errors.push([operation, (error as Error).message]))
    cache.on('set', () => {
      throw new Error('listener bug')
    })
    await cache.set('k', 1)
    expect(await cache.get('k')).toBe(1)
    expect(errors).toEqual([['listener:set', 'listener bug']])
  })
})
