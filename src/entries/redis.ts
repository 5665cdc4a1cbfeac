/**
 * `tiercache/redis`: the Redis store. Kept out of the core import so that `ioredis`,
 * an optional peer dependency, is loaded only by applications that use it.
 *
 * @example
 * ```ts
 * import { createCache, memoryStore } from 'tiercache'
 * import { redisStore } from 'tiercache/redis'
 *
 * const cache = createCache({
 *   tiers: [memoryStore(), redisStore({ url: 'redis://127.0.0.1:6379', prefix: 'app:' })],
 * })
 * ```
 */
export { redisStore, RedisStore, type RedisStoreOptions } from '../stores/redis.js'
