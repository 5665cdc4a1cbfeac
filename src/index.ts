/**
 * tiercache: a typed multi-tier cache for Node.js.
 *
 * @example
 * ```ts
 * import { createCache } from 'tiercache'
 * const cache = createCache({ ttl: '5m' })
 * const user = await cache.getOrSet('user:1', () => db.users.find(1))
 * ```
 * @packageDocumentation
 */
export {
  Cache,
  createCache,
  type BatchLoader,
  type BatchResult,
  type CacheEntryInfo,
  type EntriesInput,
  type KeysOptions,
  type KeysPage,
  type Loader,
} from './cache.js'
export type { Clock } from './clock.js'
export type {
  CompressionAlgorithm,
  CompressionOption,
  CustomSerializerOption,
  EncryptionKey,
  EncryptionKeyEntry,
  EncryptionOption,
  EnvelopeMeta,
  KeyWearInfo,
  Serializer,
  SerializerOption,
  ValueCodec,
  ValueCodecOptions,
} from './codec/codec.js'
export { createValueCodec, DEFAULT_MAX_VALUE_BYTES } from './codec/value-codec.js'
export { parseDuration, type Duration, type DurationUnit } from './duration.js'
export type { BatchLoaderContext, LoaderContext } from './engine/loader-context.js'
export * from './errors.js'
export { MAX_KEY_BYTES } from './keys.js'
export {
  MemoryStore,
  memoryStore,
  type EvictionListener,
  type EvictionReason,
  type MemoryEntry,
  type MemoryStoreOptions,
} from './memory/memory-store.js'
export type { PolicyName } from './memory/policy.js'
export { estimateSize } from './memory/size.js'
export type { CacheEventName, CacheEvents, CacheListener } from './observe/events.js'
export type { CacheStats, TierStats } from './observe/stats.js'
export type {
  CacheOptions,
  CacheStatus,
  LoadOptions,
  ReadOptions,
  ValueSource,
  WriteOptions,
} from './options.js'
export type { StandardSchemaResult, StandardSchemaV1 } from './schema.js'
export { fileStore, type FileStoreOptions } from './stores/file.js'
export { nullStore } from './stores/null.js'
export type {
  Store,
  StoreCapabilities,
  StoreEntryInfo,
  StoreListOptions,
  StoreListPage,
  StoreWrite,
} from './stores/store.js'
