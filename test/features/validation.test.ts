import { describe, expect, it } from 'vitest'
import {
  createCache,
  InvalidArgumentError,
  InvalidKeyError,
  memoryStore,
  TierCacheError,
  UnsupportedOperationError,
  type Cache,
} from '../../src/index.js'

const BAD_KEYS: unknown[] = [
  '',
  'x'.repeat(1025),
  'é'.repeat(513),
  '\uD800',
  42,
  null,
  undefined,
  {},
]
const BAD_TTLS: unknown[] = [Infinity, NaN, -1, 0, 'abc', '5', '-1s', {}, true]

/** Every keyed call of the facade, given a key. */
function keyedCalls(cache: Cache, key: string): Array<[string, () => Promise<unknown>]> {
  return [
    ['get', () => cache.get(key)],
    ['getOrSet', () => cache.getOrSet(key, () => 1)],
    ['getOrSetMany', () => cache.getOrSetMany([key], () => ({}))],
    ['getMany', () => cache.getMany([key])],
    ['set', () => cache.set(key, 1)],
    ['setMany', () => cache.setMany([[key, 1]])],
    ['add', () => cache.add(key, 1)],
    ['has', () => cache.has(key)],
    ['hasMany', () => cache.hasMany([key])],
    ['delete', () => cache.delete(key)],
    ['deleteMany', () => cache.deleteMany([key])],
    ['pull', () => cache.pull(key)],
    ['refresh', () => cache.refresh(key, () => 1)],
    ['refreshMany', () => cache.refreshMany([key], () => ({}))],
    ['increment', () => cache.increment(key)],
    ['decrement', () => cache.decrement(key)],
  ]
}

describe('bad keys (X1)', () => {
  it('reject with InvalidKeyError on every keyed call, before any work', async () => {
    for (const key of BAD_KEYS) {
      const cache = createCache()
      let loads = 0
      cache.on('load', () => loads++)
      for (const [name, call] of keyedCalls(cache, key as string)) {
        await expect(call(), `${name}(${JSON.stringify(key)})`).rejects.toBeInstanceOf(
          InvalidKeyError,
        )
      }
      expect(loads).toBe(0)
      expect(cache.stats()).toMatchObject({ hits: 0, misses: 0, sets: 0, loads: 0 })
      expect((await cache.keys()).entries).toEqual([])
    }
  })

  it('reject a bad namespace name synchronously', () => {
    const cache = createCache()
    expect(() => cache.namespace('')).toThrow(InvalidKeyError)
    expect(() => createCache({ namespace: '\uDC00' })).toThrow(InvalidKeyError)
  })

  it('are TierCacheErrors with a code', async () => {
    const error = await createCache()
      .get('')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TierCacheError)
    expect((error as TierCacheError).code).toBe('E_INVALID_KEY')
  })

  it('in a batch leave every other key of it untouched', async () => {
    const cache = createCache()
    await cache.set('a', 'old')
    await expect(
      cache.setMany([
        ['a', 'new'],
        ['', 'bad'],
      ]),
    ).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(cache.deleteMany(['a', ''])).rejects.toBeInstanceOf(InvalidKeyError)
    expect(await cache.get('a')).toBe('old')
  })
})

describe('bad ttls (R7)', () => {
  it('reject with InvalidArgumentError and keep the stored value', async () => {
    const cache = createCache()
    await cache.set('k', 'kept')
    for (const ttl of BAD_TTLS) {
      const options = { ttl: ttl as number }
      await expect(cache.set('k', 'replaced', options)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.setMany({ k: 'replaced' }, options)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      await expect(cache.add('new', 1, options)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.getOrSet('k', () => 'replaced', options)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      await expect(cache.getOrSet('fresh', () => 1, options)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      await expect(cache.refresh('k', () => 'replaced', options)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      await expect(cache.increment('n', 1, options)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(
        cache.getOrSet('k', () => 1, { negativeTtl: ttl as number }),
      ).rejects.toBeInstanceOf(InvalidArgumentError)
    }
    expect(await cache.get('k')).toBe('kept')
    expect(await cache.hasMany(['new', 'fresh', 'n'])).toEqual(
      new Map([
        ['new', false],
        ['fresh', false],
        ['n', false],
      ]),
    )
    expect(cache.stats().loads).toBe(0)
  })

  it('reject at createCache', () => {
    for (const ttl of BAD_TTLS) {
      expect(() => createCache({ ttl: ttl as number })).toThrow(InvalidArgumentError)
      expect(() => createCache({ negativeTtl: ttl as number })).toThrow(InvalidArgumentError)
    }
  })

  it('a loader that sets a bad ttl fails its load and stores nothing', async () => {
    const cache = createCache()
    await expect(
      cache.getOrSet('k', (ctx) => (ctx.setTtl('never' as '1s'), 1)),
    ).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(await cache.has('k')).toBe(false)
  })
})

describe('other bad input', () => {
  it('refuses undefined values, non-integer deltas, bad tags and non-function loaders', async () => {
    const cache = createCache()
    await cache.set('k', 'kept')
    await expect(cache.set('k', undefined)).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(cache.setMany({ k: undefined })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(cache.add('u', undefined)).rejects.toBeInstanceOf(InvalidArgumentError)
    for (const delta of [1.5, NaN, Infinity, '1', 2 ** 53]) {
      await expect(cache.increment('n', delta as number)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      await expect(cache.decrement('n', delta as number)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
    }
    await expect(cache.set('k', 1, { tags: 'a' as unknown as string[] })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
    await expect(cache.set('k', 1, { tags: [''] })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(cache.getOrSet('x', 'nope' as never)).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(cache.getOrSetMany(['x'], null as never)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
    await expect(cache.getMany('abc' as never)).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(cache.keys({ limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(cache.keys({ cursor: 'abc' })).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(await cache.get('k')).toBe('kept')
    expect(await cache.has('n')).toBe(false)
  })

  it('refuses unknown options, options not supported yet, and malformed tiers', () => {
    expect(() => createCache({ tll: '5m' } as never)).toThrow(InvalidArgumentError)
    expect(() => createCache({ grace: '1h' } as never)).toThrow(UnsupportedOperationError)
    expect(() => createCache({ tiers: [] as never })).toThrow(InvalidArgumentError)
    expect(() => createCache({ tiers: [{} as never] })).toThrow(InvalidArgumentError)
    expect(() => createCache({ tiers: [memoryStore(), {} as never] })).toThrow(InvalidArgumentError)
    expect(() => createCache({ clock: {} as never })).toThrow(InvalidArgumentError)
    expect(() => createCache(null as never)).toThrow(InvalidArgumentError)
  })
})
