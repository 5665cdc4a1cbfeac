/**
 * `tiercache/keyv`: the Keyv store. Kept out of the core import so that `keyv`, an
 * optional peer dependency, is loaded only by applications that use it.
 *
 * @example
 * ```ts
 * import { Keyv } from 'keyv'
 * import { createCache, memoryStore } from 'tiercache'
 * import { keyvStore } from 'tiercache/keyv'
 *
 * const cache = createCache({
 *   tiers: [memoryStore(), keyvStore({ keyv: new Keyv(), prefix: 'app:' })],
 * })
 * ```
 */
export { keyvStore, KeyvStore, type KeyvStoreOptions } from '../stores/keyv.js'
