import { describe, expect, it } from 'vitest'
import { ClosedError, createCache, memoryStore, type Cache } from '../../src/index.js'
import { deferred, tick } from '../helpers/deferred.js'

/** Every public method of the facade that should reject after close. */
function everyCall(cache: Cache): Array<[string, () => Promise<unknown>]> {
  return [
    ['get', () => cache.get('k')],
    ['getOrSet', () => cache.getOrSet('k', () => 1)],
    ['getOrSetMany', () => cache.getOrSetMany(['k'], () => ({}))],
    ['getMany', () => cache.getMany(['k'])],
    ['set', () => cache.set('k', 1)],
    ['setMany', () => cache.setMany({ k: 1 })],
    ['add', () => cache.add('k', 1)],
    ['has', () => cache.has('k')],
    ['hasMany', () => cache.hasMany(['k'])],
    ['delete', () => cache.delete('k')],
    ['deleteMany', () => cache.deleteMany(['k'])],
    ['pull', () => cache.pull('k')],
    ['refresh', () => cache.refresh('k', () => 1)],
    ['refreshMany', () => cache.refreshMany(['k'], () => ({}))],
    ['increment', () => cache.increment('k')],
    ['decrement', () => cache.decrement('k')],
    ['clear', () => cache.clear()],
    ['keys', () => cache.keys()],
    ['ready', () => cache.ready()],
  ]
}

describe('close (G1)', () => {
  it('leaves no timer or handle behind, even with ttls in use', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap')
    const caches = Array.from({ length: 100 }, () => createCache({ ttl: '30d' }))
    for (const cache of caches) {
      await cache.set('k', 1, { ttl: '1s' })
      await cache.getOrSet('l', () => 2)
    }
    const during = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap')
    expect(during).toEqual(before)
    await Promise.all(caches.map((c) => c.close()))
    expect(process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap')).toEqual(before)
  })

  it('makes every later call reject with ClosedError, namespaces included', async () => {
    const cache = createCache()
    const ns = cache.namespace('n')
    await cache.ready()
    await ns.close()
    for (const target of [cache, ns]) {
      for (const [name, call] of everyCall(target)) {
        await expect(call(), name).rejects.toBeInstanceOf(ClosedError)
      }
    }
    await cache.close() // idempotent
  })

  it('waits for loads in progress, whose callers still get their values', async () => {
    const cache = createCache()
    const gate = deferred<string>()
    const load = cache.getOrSet('k', () => gate.promise)
    await tick()
    let closed = false
    const closing = cache.close().then(() => (closed = true))
    await tick()
    expect(closed).toBe(false)
    gate.resolve('v')
    expect(await load).toBe('v')
    await closing
    expect(closed).toBe(true)
  })

  it('closes the memory store it created, not one passed in', async () => {
    const own = createCache()
    await own.set('k', 1)
    await own.close()

    const store = memoryStore()
    const borrowed = createCache({ tiers: [store] })
    await borrowed.set('k', 1)
    await borrowed.close()
    await expect(store.ready()).resolves.toBeUndefined()
    expect(store.read('k')).toBe(1)
  })
})
