import type { Clock } from './clock.js'
import type { CompressionOption, EncryptionOption, SerializerOption } from './codec/codec.js'
import { type Duration, parseDuration } from './duration.js'
import { InvalidArgumentError, UnsupportedOperationError } from './errors.js'
import type { MemoryStore } from './memory/memory-store.js'
import type { StandardSchemaV1 } from './schema.js'
import type { Store } from './stores/store.js'

/**
 * Options of `createCache`. Each is described once, here.
 */
export interface CacheOptions {
  /**
   * The tiers, top first: the memory tier (L1), then remote stores. Reads walk
   * down and copy what they find into the tiers above with its remaining ttl;
   * writes go to the last (authoritative) tier first, then upward. The cache
   * closes only what it created: stores passed here are yours to close.
   * @default [memoryStore()]
   */
  tiers?: readonly [MemoryStore, ...Store[]]
  /** Prefix of every key of this cache (`'app'` stores `k` as `app:k`). @default '' */
  namespace?: string
  /**
   * How long an entry lives. `null` (or leaving it unset) keeps entries until
   * they are evicted or deleted. Per-call `ttl` overrides it.
   * @default null
   */
  ttl?: Duration | null
  /**
   * How long a loader's "not found" (`undefined`) is remembered, so a missing
   * row is not looked up on every call. `null` remembers nothing.
   * @default null
   */
  negativeTtl?: Duration | null
  /** Time source, for tests (`ManualClock` from `tiercache/testing`). @default the system clock */
  clock?: Clock
  /**
   * How remote tiers encode values: `'msgpack'`, `'json'`, `'v8'` or your own
   * `{ encode, decode }`. L1 holds live values and never serializes.
   * @default 'msgpack'
   */
  serializer?: SerializerOption
  /** Compression of values in remote tiers above `threshold` bytes. @default none */
  compression?: CompressionOption
  /** AES-256-GCM encryption of values in remote tiers, with key rotation. @default none */
  encryption?: EncryptionOption
  /** Largest encoded value accepted; larger ones reject with `ValueTooLargeError` before any write. @default 16 MiB */
  maxValueBytes?: number
}

/** Where a read's value came from, as reported in {@link CacheStatus}. */
export type ValueSource =
  /** the in-process memory tier */
  | 'local'
  /** a remote tier */
  | 'remote'
  /** this call's (or a shared) loader run */
  | 'loader'
  /** an expired value served within grace */
  | 'stale'
  /** the owning peer of a peer group */
  | 'peer'

/**
 * An object a call fills in to tell how it was served, as lru-cache's `status`.
 * Pass a fresh one per call.
 *
 * @example
 * ```ts
 * const status: CacheStatus = {}
 * await cache.get('k', { status })
 * status.source // 'local' on a hit, undefined on a miss
 * ```
 */
export interface CacheStatus {
  source?: ValueSource | undefined
  stale?: boolean | undefined
  /** Name of the tier that answered, on a hit. */
  tier?: string | undefined
}

/** Options of calls that read. */
export interface ReadOptions<T = unknown> {
  /** Aborts this call (only this caller's wait, never a load other callers share). */
  signal?: AbortSignal | undefined
  /** Filled in with how the call was served. */
  status?: CacheStatus | undefined
  /**
   * A Standard Schema (zod, valibot, arktype, …): a cached value that fails it is
   * a miss and is deleted; one that passes is returned as the schema outputs it.
   */
  schema?: StandardSchemaV1<unknown, T> | undefined
}

/** Options of calls that write. */
export interface WriteOptions {
  /** This entry's ttl; `null` for no expiry. @default the cache's `ttl` */
  ttl?: Duration | null | undefined
  /** Tags stored with the entry. */
  tags?: readonly string[] | undefined
}

/** Options of read-through calls (`getOrSet`, `refresh`, and their batch forms). */
export interface LoadOptions<T = unknown> extends ReadOptions<T>, WriteOptions {
  /** How long a "not found" result is remembered; `null` for not at all. @default the cache's `negativeTtl` */
  negativeTtl?: Duration | null | undefined
}

/** What a write needs, parsed once: ttls in ms (0 = none) and tags. */
export interface WritePlan {
  readonly ttl: number
  readonly negativeTtl: number
  readonly tags: readonly string[] | undefined
}

const KNOWN: ReadonlySet<string> = new Set([
  'tiers',
  'namespace',
  'ttl',
  'negativeTtl',
  'clock',
  'serializer',
  'compression',
  'encryption',
  'maxValueBytes',
])
// Options of the design that arrive with later work: refused loudly rather than ignored.
const NOT_YET: ReadonlySet<string> = new Set(['bus', 'grace', 'timeouts', 'refreshAhead'])

/**
 * Checks `createCache` options' names: a misspelt option is an error, not a
 * silent default.
 */
export function checkOptionNames(options: object): void {
  for (const name of Object.keys(options)) {
    if (KNOWN.has(name)) continue
    if (NOT_YET.has(name)) {
      throw new UnsupportedOperationError(
        `createCache: the '${name}' option is not supported by this version yet.`,
      )
    }
    throw new InvalidArgumentError(
      `createCache: unknown option '${name}'. Known options: ${[...KNOWN].join(', ')}.`,
    )
  }
}

/** A ttl option in ms, 0 for "no expiry" (`null` or unset). */
export function parseTtl(value: Duration | null | undefined, what: string): number {
  return value === undefined || value === null ? 0 : parseDuration(value, what)
}

/** Checks a tags option: an array of non-empty strings. */
export function parseTags(tags: unknown): readonly string[] | undefined {
  if (tags === undefined) return undefined
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && t.length !== 0)) {
    throw new InvalidArgumentError('tags must be an array of non-empty strings.')
  }
  return Object.freeze([...(tags as string[])])
}

/**
 * The write plan of one call: the cache's defaults, overridden by what the call's
 * options carry. Throws `InvalidArgumentError` for a bad ttl or tags.
 */
export function resolveWritePlan(
  defaults: WritePlan,
  options: WriteOptions & { negativeTtl?: Duration | null | undefined },
): WritePlan {
  const { ttl, negativeTtl, tags } = options
  if (ttl === undefined && negativeTtl === undefined && tags === undefined) return defaults
  return {
    ttl: ttl === undefined ? defaults.ttl : parseTtl(ttl, 'ttl'),
    negativeTtl:
      negativeTtl === undefined ? defaults.negativeTtl : parseTtl(negativeTtl, 'negativeTtl'),
    tags: tags === undefined ? defaults.tags : parseTags(tags),
  }
}
