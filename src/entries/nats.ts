/**
 * `tiercache/nats`: the NATS JetStream key-value store. Kept out of the core import so
 * that `nats`, an optional peer dependency, is loaded only by applications that use it.
 *
 * @example
 * ```ts
 * import { createCache, memoryStore } from 'tiercache'
 * import { natsStore } from 'tiercache/nats'
 *
 * const cache = createCache({
 *   tiers: [memoryStore(), natsStore({ url: 'nats://127.0.0.1:4222', prefix: 'app:' })],
 * })
 * ```
 */
export { natsStore, NatsStore, type NatsStoreOptions } from '../stores/nats.js'
