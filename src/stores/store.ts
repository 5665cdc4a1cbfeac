/**
 * The Store contract: what every tier behind the L1 implements (Redis, SQL,
 * memcached, NATS KV, files, …). Bytes in, bytes out; the cache's engine owns
 * envelopes, namespaces, grace and tags, so a store owns only its connection,
 * its commands and its atomic primitives.
 *
 * Every store passes `describeStoreConformance` from `tiercache/testing`.
 */

/** What a store can do, declared as data and checked by the conformance suite. */
export interface StoreCapabilities {
  /** `keys()` lists entries. When false, `keys()` throws `UnsupportedOperationError`. */
  readonly list: boolean
  /** Smallest ttl step the server honours; `'s'` stores round ttls up to whole seconds. */
  readonly ttlGranularity: 'ms' | 's'
  /** Other processes see the same data (a server or a shared file), so L1 copies need a bus to stay coherent. */
  readonly shared: boolean
}

/** One write of a batch: `ttl` in milliseconds, absent for no expiry. */
export interface StoreWrite {
  readonly key: string
  readonly value: Uint8Array
  readonly ttl?: number | undefined
}

/** One entry as listed by `keys()`. */
export interface StoreEntryInfo {
  /** The key, without the store's own prefix. */
  readonly key: string
  /** Stored size in bytes. */
  readonly size: number
  /** Absolute expiry in epoch milliseconds; absent when the entry never expires. */
  readonly expiresAt?: number | undefined
}

/** Options of `keys()`: entries whose key starts with `prefix`, a page at a time. */
export interface StoreListOptions {
  readonly prefix?: string | undefined
  /** The `cursor` of the previous page; absent for the first page. */
  readonly cursor?: string | undefined
  /** Most entries wanted in this page (a hint: a store may return fewer). */
  readonly limit?: number | undefined
}

/**
 * A page of `keys()`. Iteration is complete when `cursor` is absent. As with Redis
 * `SCAN`, an entry present for the whole iteration is returned at least once;
 * entries added or removed meanwhile may or may not be.
 */
export interface StoreListPage {
  readonly entries: StoreEntryInfo[]
  readonly cursor?: string | undefined
}

/**
 * A tier that stores bytes under string keys with optional expiry.
 *
 * Rules every implementation follows (the conformance suite checks them):
 * - `ttl` arguments are milliseconds, `undefined` for no expiry; a store with
 *   `ttlGranularity: 's'` rounds up. An expired entry is never returned.
 * - A missing key is `undefined`, never an error; a stored empty value is a hit.
 * - `add`, `increment` and `take` are atomic on the server: under any concurrency
 *   exactly one `add` of a key wins, no increment is lost, one `take` gets the value.
 * - Counters are integers kept as their decimal ASCII text, so `get` after
 *   `increment(k, 5)` returns the bytes of `"5"` (as Redis `INCRBY` does). `ttl` of
 *   `increment` applies only when the call creates the key. `increment` of a
 *   value that is not such an integer rejects with `WrongTypeError`.
 * - `clear(prefix)` deletes exactly the keys that start with `prefix` as a plain
 *   string: no glob or LIKE metacharacters, no other key.
 * - Server failures reject with `StoreUnavailableError`; unsupported calls with
 *   `UnsupportedOperationError`; calls after `close()` with `ClosedError`.
 * - `close()` ends only what the store created: a client passed in stays open.
 *
 * @example
 * ```ts
 * const store: Store = memoryStore()
 * await store.set('k', new TextEncoder().encode('v'), 1000)
 * const bytes = await store.get('k') // Uint8Array [0x76]
 * ```
 */
export interface Store {
  /** A short name for stats, events and errors (`'memory'`, `'redis'`). */
  readonly name: string
  readonly capabilities: StoreCapabilities
  /** The stored bytes, or `undefined` when the key is missing or expired. */
  get(key: string): Promise<Uint8Array | undefined>
  /** One round trip; the result has one slot per key, in the same order. */
  getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>>
  /** Stores `value`, replacing any previous value and ttl. */
  set(key: string, value: Uint8Array, ttl?: number): Promise<void>
  /** One round trip for many writes. */
  setMany(entries: readonly StoreWrite[]): Promise<void>
  /** Stores only if the key is absent (or expired); `true` when it stored. */
  add(key: string, value: Uint8Array, ttl?: number): Promise<boolean>
  /** `true` when a live entry was deleted. */
  delete(key: string): Promise<boolean>
  /** How many live entries were deleted. */
  deleteMany(keys: readonly string[]): Promise<number>
  /** Gets and deletes in one atomic step. */
  take(key: string): Promise<Uint8Array | undefined>
  /** Adds `delta` (an integer) to the counter at `key`, starting from 0; returns the new value. */
  increment(key: string, delta: number, ttl?: number): Promise<number>
  /** Deletes every key that starts with `prefix`; everything when `prefix` is empty. */
  clear(prefix: string): Promise<void>
  /** Lists entries a page at a time (see {@link StoreListPage}). */
  keys(options?: StoreListOptions): Promise<StoreListPage>
  /** Resolves when the store can serve; rejects with `StoreUnavailableError` when it cannot. */
  ready(): Promise<void>
  /** Releases what the store created. Idempotent. */
  close(): Promise<void>
}
