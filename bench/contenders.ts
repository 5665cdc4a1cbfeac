/**
 * The peers tiercache's memory tier is measured against. Each contender exposes
 * the three operations as thin functions over its own public API; lru-cache and
 * Map are wrapped in `async` functions, which is the baseline an async cache
 * facade cannot beat.
 */

import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { createCache as createCacheManager } from 'cache-manager'
import { Cacheable } from 'cacheable'
import { LRUCache } from 'lru-cache'
import type { User } from './fixtures.js'

export type Loader = () => Promise<User>

export interface Contender {
  name: string
  /** 'tiercache', 'baseline' (a sync structure wrapped in async) or 'peer' (a multi-tier cache). */
  kind: 'tiercache' | 'baseline' | 'peer'
  get: (key: string) => Promise<unknown>
  set: (key: string, value: User) => Promise<unknown>
  /**
   * Read-through: returns the call with `loader` bound, so the timed function has
   * the same shape as `get`.
   */
  getOrSetWith: (loader: Loader) => (key: string) => Promise<unknown>
  close: () => Promise<void>
}

/** Entries the L1 of every contender may hold: twice the working set, so nothing is evicted. */
export const MAX_ENTRIES = 20_000
/** A ttl for the libraries that need one (BentoCache's default is 30 s). */
export const TTL_MS = 5 * 60_000

export function lruCacheContender(): Contender {
  const lru = new LRUCache<string, User>({ max: MAX_ENTRIES })
  return {
    name: 'lru-cache (async wrapper)',
    kind: 'baseline',
    get: async (key) => lru.get(key),
    set: async (key, value) => {
      lru.set(key, value)
    },
    getOrSetWith: (loader) => async (key) => {
      const hit = lru.get(key)
      if (hit !== undefined) return hit
      const value = await loader()
      lru.set(key, value)
      return value
    },
    close: async () => {},
  }
}

export function mapContender(): Contender {
  const map = new Map<string, User>()
  return {
    name: 'Map (async wrapper)',
    kind: 'baseline',
    get: async (key) => map.get(key),
    set: async (key, value) => {
      map.set(key, value)
    },
    getOrSetWith: (loader) => async (key) => {
      const hit = map.get(key)
      if (hit !== undefined) return hit
      const value = await loader()
      map.set(key, value)
      return value
    },
    close: async () => {},
  }
}

/**
 * BentoCache with only its memory driver. `serialize` is the memory driver's own
 * option (bentocache 1.6 `MemoryConfig.serialize`, default true: L1 holds JSON
 * strings and every hit parses one). `maxItems` defaults to 1000, so it is raised to
 * hold the working set; the ttl default is 30 s, so it is set to 5 minutes.
 */
export function bentoContender(serialize: boolean): Contender {
  const bento = new BentoCache({
    default: 'memory',
    ttl: TTL_MS,
    stores: {
      memory: bentostore().useL1Layer(memoryDriver({ maxItems: MAX_ENTRIES, serialize })),
    },
  })
  return {
    name: serialize ? 'BentoCache (memory, defaults)' : 'BentoCache (memory, serialize: false)',
    kind: 'peer',
    get: (key) => bento.get({ key }),
    set: (key, value) => bento.set({ key, value }),
    getOrSetWith: (loader) => (key) => bento.getOrSet({ key, factory: loader }),
    close: () => bento.disconnectAll(),
  }
}

/** cache-manager v7 `createCache()` with its default store: one Keyv over a Map, no serializer. */
export function cacheManagerContender(): Contender {
  const cache = createCacheManager()
  return {
    name: 'cache-manager v7 (default Keyv memory)',
    kind: 'peer',
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    getOrSetWith: (loader) => (key) => cache.wrap(key, loader),
    close: async () => {
      await cache.disconnect()
    },
  }
}

/** cacheable's `Cacheable` with its default primary store (Keyv over @cacheable/memory) and no secondary. */
export function cacheableContender(): Contender {
  const cache = new Cacheable()
  return {
    name: 'cacheable (memory only)',
    kind: 'peer',
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    getOrSetWith: (loader) => (key) => cache.getOrSet(key, loader),
    close: () => cache.disconnect(),
  }
}

export function peerContenders(): Contender[] {
  return [
    lruCacheContender(),
    mapContender(),
    bentoContender(true),
    bentoContender(false),
    cacheManagerContender(),
    cacheableContender(),
  ]
}
