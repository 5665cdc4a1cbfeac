/**
 * `tiercache/memcached`: the memcached tier, on the optional peer dependency `memjs`.
 *
 * @example
 * ```ts
 * import { memcachedStore } from 'tiercache/memcached'
 *
 * const store = memcachedStore({ url: 'memcached://127.0.0.1:11211', prefix: 'app:' })
 * ```
 */
export { memcachedStore, type MemcachedStoreOptions } from '../stores/memcached.js'
