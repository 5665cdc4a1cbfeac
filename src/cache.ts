import type { Clock } from './clock.js'
import {
  type BatchLoaderContext,
  type LoaderContext,
  LoadControls,
} from './engine/loader-context.js'
import { abortReason, Flight, joinFlights } from './engine/singleflight.js'
import { ClosedError, InvalidArgumentError } from './errors.js'
import { checkKey, namespacePrefix } from './keys.js'
import { MemoryStore, memoryStore } from './memory/memory-store.js'
import { type CacheEventName, type CacheListener, Emitter } from './observe/events.js'
import { type CacheStats, Counters } from './observe/stats.js'
import {
  type CacheOptions,
  type CacheStatus,
  checkOptionNames,
  type LoadOptions,
  parseTtl,
  type ReadOptions,
  resolveWritePlan,
  type WriteOptions,
  type WritePlan,
} from './options.js'
import { checkSchema } from './schema.js'

/** A loader of `getOrSet`: the value for `ctx.key`, or `undefined` for "not found". */
export type Loader<T> = (ctx: LoaderContext) => T | Promise<T>

/** What a batch loader may return: a `Map`, a plain record, or `[key, value]` entries. */
export type BatchResult<T> =
  ReadonlyMap<string, T> | Readonly<Record<string, T>> | Iterable<readonly [string, T]>

/** A batch loader of `getOrSetMany`: values for the missing keys; a key left out is "not found". */
export type BatchLoader<T> = (
  keys: string[],
  ctx: BatchLoaderContext,
) => BatchResult<T | undefined> | Promise<BatchResult<T | undefined>>

/** Entries for `setMany`: a `Map`, a plain record, or `[key, value]` entries. */
export type EntriesInput<T> =
  ReadonlyMap<string, T> | Readonly<Record<string, T>> | Iterable<readonly [string, T]>

/** Options of `keys()`. */
export interface KeysOptions {
  /** Only keys that start with this (after the namespace). @default '' */
  prefix?: string
  /** The `cursor` of the previous page. */
  cursor?: string
  /** Most entries in one page. @default 100 */
  limit?: number
}

/** One entry as listed by `keys()`. */
export interface CacheEntryInfo {
  /** The key, without this cache's namespace prefix. */
  readonly key: string
  /** Size in bytes (estimated for live values). */
  readonly size: number
  /** Absolute expiry in epoch ms; absent when the entry never expires. */
  readonly expiresAt?: number | undefined
  /** Name of the tier that holds it. */
  readonly tier: string
}

/** A page of `keys()`; iteration is complete when `cursor` is absent. */
export interface KeysPage {
  readonly entries: CacheEntryInfo[]
  readonly cursor?: string | undefined
}

/** Remembers a loader's "not found" for `negativeTtl`; never leaves the cache. */
const NOT_FOUND: unique symbol = Symbol('tiercache.notFound')
/** Returned by the hit path when a schema refused the cached value. */
const REFUSED: unique symbol = Symbol('tiercache.refused')
const MAX_LIST_LIMIT = 10_000

/** What every namespace of one cache shares: tiers, flights, counters, listeners, lifecycle. */
class CacheCore {
  readonly l1: MemoryStore
  readonly ownsL1: boolean
  readonly clock: Clock
  readonly defaults: WritePlan
  readonly flights = new Map<string, Flight<unknown>>()
  readonly counters = new Counters()
  readonly events = new Emitter()
  readonly stopEvictions: () => void
  closed = false
  closing: Promise<void> | undefined

  constructor(options: CacheOptions) {
    checkOptionNames(options)
    const { tiers, ttl, negativeTtl, clock } = options
    if (clock !== undefined && typeof clock?.now !== 'function') {
      throw new InvalidArgumentError('createCache: clock must have a now() method.')
    }
    this.defaults = Object.freeze({
      ttl: parseTtl(ttl, 'ttl'),
      negativeTtl: parseTtl(negativeTtl, 'negativeTtl'),
      tags: undefined,
    })
    if (tiers === undefined) {
      this.l1 = clock === undefined ? memoryStore() : memoryStore({ clock })
      this.ownsL1 = true
    } else {
      if (!Array.isArray(tiers) || tiers.length !== 1 || !(tiers[0] instanceof MemoryStore)) {
        throw new InvalidArgumentError(
          'createCache: tiers must be [memoryStore(...)]; remote tiers are not wired into the cache in this version.',
        )
      }
      this.l1 = tiers[0]
      this.ownsL1 = false
      if (clock !== undefined && clock !== this.l1.clock) {
        throw new InvalidArgumentError(
          'createCache: give the clock to memoryStore({ clock }) too, so that deadlines and reads use one time source.',
        )
      }
    }
    // Deadlines are computed with the memory tier's clock, the one its reads compare against.
    this.clock = this.l1.clock
    this.stopEvictions = this.l1.onEvict((key, _value, reason) => {
      this.counters.evictions++
      if (this.events.has('evict')) this.events.emit('evict', { key, reason, tier: this.l1.name })
    })
  }

  expiry(ttl: number): number {
    return ttl === 0 ? 0 : this.clock.now() + ttl
  }

  /** Stores a load's result, or forgets the key when the result is "not found". */
  store(key: string, value: unknown, plan: WritePlan): void {
    if (value !== undefined) this.l1.write(key, value, this.expiry(plan.ttl), plan.tags)
    else if (plan.negativeTtl !== 0) this.l1.write(key, NOT_FOUND, this.expiry(plan.negativeTtl))
    else this.l1.remove(key)
  }

  /** A write or delete of `key` makes a load in progress stale: its result is returned, not stored. */
  supersede(key: string): void {
    const flight = this.flights.get(key)
    if (flight === undefined) return
    flight.superseded = true
    this.flights.delete(key)
  }

  hit(key: string): void {
    this.counters.hits++
    if (this.events.has('hit')) this.events.emit('hit', { key, tier: this.l1.name })
  }

  miss(key: string): void {
    this.counters.misses++
    if (this.events.has('miss')) this.events.emit('miss', { key })
  }
}

/**
 * Creates a cache. With no options it runs on one in-process memory tier
 * (`memoryStore()`, 10 000 entries, LRU) with no expiry.
 *
 * @example
 * ```ts
 * import { createCache, memoryStore } from 'tiercache'
 *
 * const cache = createCache({ tiers: [memoryStore({ maxEntries: 50_000 })], ttl: '5m' })
 * const user = await cache.getOrSet(`user:${id}`, () => db.users.find(id))
 * ```
 */
export function createCache(options: CacheOptions = {}): Cache {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('createCache: options must be an object.')
  }
  const core = new CacheCore(options)
  const prefix =
    options.namespace === undefined || options.namespace === ''
      ? ''
      : namespacePrefix(options.namespace)
  return new Cache(core, prefix)
}

/**
 * The cache facade: one typed API over the tiers. Every method is async except
 * `namespace`, `stats`, `on` and `off`. Keys are non-empty strings of at most
 * 1024 UTF-8 bytes; bad input rejects with a typed error before anything changes.
 * Create one with {@link createCache}.
 */
export class Cache {
  readonly #core: CacheCore
  readonly #prefix: string

  /** @internal Use {@link createCache} or {@link Cache.namespace}. */
  constructor(core: CacheCore, prefix: string) {
    this.#core = core
    this.#prefix = prefix
  }

  /**
   * The value at `key`, or `undefined`.
   *
   * @example
   * ```ts
   * const user = await cache.get<User>('user:1')
   * ```
   */
  async get<T = unknown>(key: string, options?: ReadOptions<T>): Promise<T | undefined> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    checkKey(key)
    const storageKey = this.#prefix === '' ? key : this.#prefix + key
    const value = core.l1.read(storageKey)
    if (value === undefined) {
      core.miss(storageKey)
      if (options?.status !== undefined) fillMiss(options.status)
      return undefined
    }
    core.hit(storageKey)
    if (options === undefined) return value === NOT_FOUND ? undefined : (value as T)
    // No `await` in this method: the hit path stays a plain async call.
    return this.#getHitWithOptions(storageKey, value, options)
  }

  /**
   * The value at `key`; on a miss, runs `loader` once (however many callers ask
   * meanwhile), stores its result and returns it. A loader result of `undefined`
   * means "not found": it is returned, and remembered for `negativeTtl` when set.
   * A loader error reaches every waiting caller and is not cached.
   *
   * @example
   * ```ts
   * const user = await cache.getOrSet(`user:${id}`, (ctx) => db.users.find(id, { signal: ctx.signal }), { ttl: '10m' })
   * ```
   */
  async getOrSet<T>(key: string, loader: Loader<T>, options?: LoadOptions<T>): Promise<T> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    checkKey(key)
    if (typeof loader !== 'function')
      throw new InvalidArgumentError('The loader must be a function.')
    const storageKey = this.#prefix === '' ? key : this.#prefix + key
    const value = core.l1.read(storageKey)
    if (value !== undefined && options === undefined) {
      core.hit(storageKey)
      return (value === NOT_FOUND ? undefined : value) as T
    }
    // No `await` in this method: the hit path stays a plain async call.
    return this.#getOrSetSlow(storageKey, key, value, loader, options)
  }

  /**
   * Batch read-through: the values of `keys`, calling `loader` once with only the
   * keys that are neither cached nor already loading. Keys the loader leaves out
   * are "not found" and absent from the result.
   *
   * @example
   * ```ts
   * const users = await cache.getOrSetMany(['user:1', 'user:2'], async (missing) => {
   *   const rows = await db.users.findMany(missing.map(idOf))
   *   return new Map(rows.map((u) => [`user:${u.id}`, u]))
   * })
   * ```
   */
  async getOrSetMany<T>(
    keys: readonly string[],
    loader: BatchLoader<T>,
    options?: LoadOptions<T>,
  ): Promise<Map<string, T>> {
    return this.#loadMany(keys, loader, options, false)
  }

  /**
   * The values found for `keys`, in the order asked; missing keys are left out.
   *
   * @example
   * ```ts
   * const found = await cache.getMany<User>(['user:1', 'user:2'])
   * found.get('user:1')
   * ```
   */
  async getMany<T = unknown>(
    keys: readonly string[],
    options?: ReadOptions<T>,
  ): Promise<Map<string, T>> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    const unique = this.#checkKeys(keys)
    checkSignal(options?.signal)
    const found = new Map<string, T>()
    for (const key of unique) {
      const storageKey = this.#storageKey(key)
      const value = core.l1.read(storageKey)
      if (value === undefined) {
        core.miss(storageKey)
        continue
      }
      core.hit(storageKey)
      const served =
        options?.schema === undefined
          ? value
          : await this.#checkHit(storageKey, value, options.schema)
      if (served !== NOT_FOUND && served !== REFUSED) found.set(key, served as T)
    }
    return found
  }

  /**
   * Stores `value` at `key` (any value but `undefined`).
   *
   * @example
   * ```ts
   * await cache.set('user:1', user, { ttl: '1h', tags: ['users'] })
   * ```
   */
  async set<T>(key: string, value: T, options?: WriteOptions): Promise<void> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    checkKey(key)
    checkValue(key, value)
    const plan = options === undefined ? core.defaults : resolveWritePlan(core.defaults, options)
    this.#write(this.#storageKey(key), value, plan)
  }

  /**
   * Stores many values at once. Every key and value is checked before the first
   * is written, so a bad entry leaves the cache unchanged.
   *
   * @example
   * ```ts
   * await cache.setMany({ 'user:1': alice, 'user:2': bob }, { ttl: '1h' })
   * await cache.setMany(new Map([['a', 1], ['b', 2]]))
   * ```
   */
  async setMany<T>(entries: EntriesInput<T>, options?: WriteOptions): Promise<void> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    const list = toEntries(entries, 'setMany')
    for (const [key, value] of list) {
      checkKey(key)
      checkValue(key, value)
    }
    const plan = options === undefined ? core.defaults : resolveWritePlan(core.defaults, options)
    for (const [key, value] of list) this.#write(this.#storageKey(key), value, plan)
  }

  /**
   * Stores `value` only if `key` holds nothing; `true` when it stored.
   *
   * @example
   * ```ts
   * if (await cache.add('job:42:owner', workerId, { ttl: '30s' })) runJob()
   * ```
   */
  async add<T>(key: string, value: T, options?: WriteOptions): Promise<boolean> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    checkKey(key)
    checkValue(key, value)
    const plan = options === undefined ? core.defaults : resolveWritePlan(core.defaults, options)
    const storageKey = this.#storageKey(key)
    const current = core.l1.peek(storageKey)
    if (current !== undefined && current !== NOT_FOUND) return false
    this.#write(storageKey, value, plan)
    return true
  }

  /**
   * Whether `key` holds a value (a remembered "not found" does not count).
   * Does not count as a use of the entry.
   *
   * @example
   * ```ts
   * if (!(await cache.has('config'))) await cache.set('config', await loadConfig())
   * ```
   */
  async has(key: string): Promise<boolean> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    checkKey(key)
    const value = core.l1.peek(this.#storageKey(key))
    return value !== undefined && value !== NOT_FOUND
  }

  /**
   * {@link Cache.has} for many keys at once.
   *
   * @example
   * ```ts
   * const present = await cache.hasMany(['a', 'b']) // Map { 'a' => true, 'b' => false }
   * ```
   */
  async hasMany(keys: readonly string[]): Promise<Map<string, boolean>> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    const unique = this.#checkKeys(keys)
    const present = new Map<string, boolean>()
    for (const key of unique) {
      const value = core.l1.peek(this.#storageKey(key))
      present.set(key, value !== undefined && value !== NOT_FOUND)
    }
    return present
  }

  /**
   * Deletes `key`; `true` when it held a value.
   *
   * @example
   * ```ts
   * await cache.delete('user:1')
   * ```
   */
  async delete(key: string): Promise<boolean> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    checkKey(key)
    return this.#remove(this.#storageKey(key))
  }

  /**
   * Deletes `keys`; returns how many held a value.
   *
   * @example
   * ```ts
   * await cache.deleteMany(['user:1', 'user:2']) // 2
   * ```
   */
  async deleteMany(keys: readonly string[]): Promise<number> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    const unique = this.#checkKeys(keys)
    let deleted = 0
    for (const key of unique) if (this.#remove(this.#storageKey(key))) deleted++
    return deleted
  }

  /**
   * Gets and deletes `key` in one step: of many concurrent pulls, one gets the value.
   *
   * @example
   * ```ts
   * const token = await cache.pull<string>('reset-token:alice')
   * ```
   */
  async pull<T = unknown>(key: string): Promise<T | undefined> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    checkKey(key)
    const storageKey = this.#storageKey(key)
    const value = core.l1.read(storageKey)
    if (value === undefined) {
      core.miss(storageKey)
      return undefined
    }
    core.hit(storageKey)
    this.#remove(storageKey)
    return value === NOT_FOUND ? undefined : (value as T)
  }

  /**
   * Runs `loader` now, whatever is cached, stores and returns its result. Callers
   * of `getOrSet` that arrive meanwhile share this load; concurrent refreshes of
   * one key share one load too.
   *
   * @example
   * ```ts
   * await cache.refresh('prices', () => fetchPrices())
   * ```
   */
  async refresh<T>(key: string, loader: Loader<T>, options?: LoadOptions<T>): Promise<T> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    checkKey(key)
    checkLoader(loader)
    const plan = options === undefined ? core.defaults : resolveWritePlan(core.defaults, options)
    return this.#loadOne(this.#storageKey(key), key, loader, plan, options, true)
  }

  /**
   * {@link Cache.refresh} for many keys with one batch loader call.
   *
   * @example
   * ```ts
   * await cache.refreshMany(['fx:EUR', 'fx:USD'], (keys) => fetchRates(keys))
   * ```
   */
  async refreshMany<T>(
    keys: readonly string[],
    loader: BatchLoader<T>,
    options?: LoadOptions<T>,
  ): Promise<Map<string, T>> {
    return this.#loadMany(keys, loader, options, true)
  }

  /**
   * Adds `delta` (an integer, default 1) to the counter at `key` and returns the
   * new value. A missing key starts at 0 and gets the call's ttl; an existing
   * counter keeps its expiry. A key holding something else than an integer
   * rejects with `WrongTypeError` and keeps its value.
   *
   * @example
   * ```ts
   * const views = await cache.increment(`views:${page}`)
   * await cache.increment('quota:alice', 10, { ttl: '1h' })
   * ```
   */
  async increment(key: string, delta = 1, options?: Pick<WriteOptions, 'ttl'>): Promise<number> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    checkKey(key)
    checkDelta(delta)
    return this.#increment(key, delta, options)
  }

  /**
   * Subtracts `delta` (default 1) from the counter at `key`; see {@link Cache.increment}.
   *
   * @example
   * ```ts
   * const left = await cache.decrement('stock:sku-1')
   * ```
   */
  async decrement(key: string, delta = 1, options?: Pick<WriteOptions, 'ttl'>): Promise<number> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    checkKey(key)
    checkDelta(delta)
    return this.#increment(key, -delta, options)
  }

  /**
   * Deletes every entry of this namespace (every entry, on a cache without one).
   * Other namespaces keep theirs: `namespace('foo').clear()` leaves `foobar` alone.
   *
   * @example
   * ```ts
   * await cache.namespace('sessions').clear()
   * ```
   */
  async clear(): Promise<void> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    core.l1.removePrefix(this.#prefix)
    for (const key of [...core.flights.keys()]) {
      if (key.startsWith(this.#prefix)) core.supersede(key)
    }
  }

  /**
   * A child cache whose keys live under `name:` inside this one's namespace. It
   * shares this cache's tiers, counters, listeners and lifecycle.
   *
   * @example
   * ```ts
   * const users = cache.namespace('users')
   * await users.set('1', alice) // stored as 'users:1'
   * await users.clear()         // only users
   * ```
   */
  namespace(name: string): Cache {
    return new Cache(this.#core, this.#prefix + namespacePrefix(name))
  }

  /**
   * Lists this namespace's entries a page at a time. Keys come back without the
   * namespace prefix. As with Redis `SCAN`, an entry present for the whole walk
   * is listed at least once.
   *
   * @example
   * ```ts
   * let cursor: string | undefined
   * do {
   *   const page = await cache.keys({ prefix: 'user:', cursor, limit: 500 })
   *   for (const { key, expiresAt } of page.entries) console.log(key, expiresAt)
   *   cursor = page.cursor
   * } while (cursor !== undefined)
   * ```
   */
  async keys(options: KeysOptions = {}): Promise<KeysPage> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    const { prefix = '', cursor, limit = 100 } = options
    if (typeof prefix !== 'string') throw new InvalidArgumentError('keys: prefix must be a string.')
    if (!(Number.isInteger(limit) && limit > 0 && limit <= MAX_LIST_LIMIT)) {
      throw new InvalidArgumentError(
        `keys: limit must be an integer from 1 to ${MAX_LIST_LIMIT}, not ${String(limit)}.`,
      )
    }
    let start = 0
    if (cursor !== undefined) {
      start = typeof cursor === 'string' && /^\d+$/.test(cursor) ? Number(cursor) : -1
      if (!Number.isSafeInteger(start) || start < 0) {
        throw new InvalidArgumentError(
          `keys: invalid cursor '${String(cursor)}'; pass the cursor of the previous page.`,
        )
      }
    }
    const { entries, next } = core.l1.list(this.#prefix + prefix, start, limit, isRealValue)
    const cut = this.#prefix.length
    const tier = core.l1.name
    return {
      entries: entries.map((e) => ({
        key: e.key.slice(cut),
        size: e.size,
        expiresAt: e.expiresAt,
        tier,
      })),
      cursor: next === -1 ? undefined : String(next),
    }
  }

  /**
   * Counters since the cache was created (shared by its namespaces).
   *
   * @example
   * ```ts
   * const { hits, misses, hitRatio, loads } = cache.stats()
   * ```
   */
  stats(): CacheStats {
    return this.#core.counters.snapshot(this.#core.l1.name, this.#core.flights.size)
  }

  /**
   * Listens to an event (see `CacheEvents`). Listeners are shared by all
   * namespaces of a cache; payload keys carry the namespace prefix.
   *
   * @example
   * ```ts
   * cache.on('evict', ({ key, reason }) => log.debug({ key, reason }, 'evicted'))
   * ```
   */
  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): this {
    this.#core.events.on(event, listener)
    return this
  }

  /**
   * Stops a listener added with {@link Cache.on}.
   *
   * @example
   * ```ts
   * cache.off('hit', onHit)
   * ```
   */
  off<E extends CacheEventName>(event: E, listener: CacheListener<E>): this {
    this.#core.events.off(event, listener)
    return this
  }

  /**
   * Resolves when every tier can serve; rejects with `ClosedError` after `close()`.
   * A readiness probe.
   *
   * @example
   * ```ts
   * app.get('/readyz', async (_req, res) => { await cache.ready(); res.end('ok') })
   * ```
   */
  async ready(): Promise<void> {
    if (this.#core.closed) throw new ClosedError('cache')
    await this.#core.l1.ready()
  }

  /**
   * Shuts the cache down: new calls reject with `ClosedError` at once, loads in
   * progress finish (and their callers get their results), then what the cache
   * created is closed. A memory store passed in `tiers` is left open. Closing any
   * namespace closes the whole cache. Idempotent.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', () => void cache.close())
   * ```
   */
  close(): Promise<void> {
    const core = this.#core
    if (core.closing !== undefined) return core.closing
    core.closed = true
    core.closing = (async () => {
      await Promise.allSettled([...core.flights.values()].map((flight) => flight.promise))
      core.stopEvictions()
      if (core.ownsL1) await core.l1.close()
    })()
    return core.closing
  }

  // ---------------------------------------------------------------------------

  async #getHitWithOptions<T>(
    storageKey: string,
    value: unknown,
    options: ReadOptions<T>,
  ): Promise<T | undefined> {
    const served = await this.#serveHit(storageKey, value, options)
    return served === REFUSED || served === NOT_FOUND ? undefined : (served as T)
  }

  /** `getOrSet` past the plain hit: a hit with options, or a miss. */
  async #getOrSetSlow<T>(
    storageKey: string,
    key: string,
    value: unknown,
    loader: Loader<T>,
    options: LoadOptions<T> | undefined,
  ): Promise<T> {
    const core = this.#core
    if (value !== undefined) {
      core.hit(storageKey)
      const plan = resolveWritePlan(core.defaults, options!)
      const served = await this.#serveHit(storageKey, value, options!)
      if (served !== REFUSED) return (served === NOT_FOUND ? undefined : served) as T
      return this.#loadOne(storageKey, key, loader, plan, options, false)
    }
    core.miss(storageKey)
    const plan = options === undefined ? core.defaults : resolveWritePlan(core.defaults, options)
    return this.#loadOne(storageKey, key, loader, plan, options, false)
  }

  #storageKey(key: string): string {
    return this.#prefix === '' ? key : this.#prefix + key
  }

  /** Checks every key before anything runs; returns them without repeats, in order. */
  #checkKeys(keys: readonly string[]): string[] {
    if (!Array.isArray(keys)) throw new InvalidArgumentError('keys must be an array of strings.')
    const list: readonly unknown[] = keys
    for (const key of list) checkKey(key)
    return [...new Set<string>(keys as readonly string[])]
  }

  /** The hit path with per-call options: signal, status and schema. */
  async #serveHit(
    storageKey: string,
    value: unknown,
    options: ReadOptions<unknown>,
  ): Promise<unknown> {
    checkSignal(options.signal)
    let served = value
    if (options.schema !== undefined)
      served = await this.#checkHit(storageKey, value, options.schema)
    const status = options.status
    if (status !== undefined) {
      if (served === REFUSED) fillMiss(status)
      else {
        status.source = 'local'
        status.stale = false
        status.tier = this.#core.l1.name
      }
    }
    return served
  }

  /** A cached value that fails the schema is deleted and counts as a miss. */
  async #checkHit(
    storageKey: string,
    value: unknown,
    schema: NonNullable<ReadOptions<unknown>['schema']>,
  ): Promise<unknown> {
    if (value === NOT_FOUND) return value
    const outcome = await checkSchema(schema, value)
    if (outcome.ok) return outcome.value
    const core = this.#core
    if (core.l1.peek(storageKey) === value) core.l1.remove(storageKey)
    core.counters.hits--
    core.counters.misses++
    return REFUSED
  }

  #write(storageKey: string, value: unknown, plan: WritePlan): void {
    const core = this.#core
    core.l1.write(storageKey, value, core.expiry(plan.ttl), plan.tags)
    core.supersede(storageKey)
    core.counters.sets++
    if (core.events.has('set')) core.events.emit('set', { key: storageKey })
  }

  #remove(storageKey: string): boolean {
    const core = this.#core
    const value = core.l1.peek(storageKey)
    core.l1.remove(storageKey)
    core.supersede(storageKey)
    const held = value !== undefined && value !== NOT_FOUND
    if (held) {
      core.counters.deletes++
      if (core.events.has('delete')) core.events.emit('delete', { key: storageKey })
    }
    return held
  }

  #increment(key: string, delta: number, options: Pick<WriteOptions, 'ttl'> | undefined): number {
    const core = this.#core
    const ttl = options?.ttl === undefined ? core.defaults.ttl : parseTtl(options.ttl, 'ttl')
    const storageKey = this.#storageKey(key)
    if (core.l1.peek(storageKey) === NOT_FOUND) core.l1.remove(storageKey)
    const value = core.l1.incrementLive(storageKey, delta, core.expiry(ttl))
    core.supersede(storageKey)
    core.counters.sets++
    if (core.events.has('set')) core.events.emit('set', { key: storageKey })
    return value
  }

  /** One key's load: joins the flight in progress or starts one, then waits with the caller's signal. */
  async #loadOne<T>(
    storageKey: string,
    key: string,
    loader: Loader<T>,
    plan: WritePlan,
    options: ReadOptions<T> | undefined,
    forced: boolean,
  ): Promise<T> {
    const core = this.#core
    const signal = options?.signal
    checkSignal(signal)
    let flight = core.flights.get(storageKey) as Flight<T> | undefined
    if (flight === undefined || (forced && !flight.forced)) {
      if (flight !== undefined) core.supersede(storageKey)
      const started = new Flight<T>(forced)
      flight = started
      core.flights.set(storageKey, started)
      started.start((loadSignal) =>
        this.#runLoader(started, storageKey, key, loader, plan, loadSignal),
      )
    }
    const [value] = await joinFlights([flight], signal)
    if (options?.status !== undefined) {
      options.status.source = 'loader'
      options.status.stale = false
      options.status.tier = undefined
    }
    return value as T
  }

  async #runLoader<T>(
    flight: Flight<T>,
    storageKey: string,
    key: string,
    loader: Loader<T>,
    plan: WritePlan,
    signal: AbortSignal,
  ): Promise<T> {
    const core = this.#core
    const controls = new LoadControls([key], signal, plan)
    const started = performance.now()
    core.counters.loads++
    try {
      const value = await loader(controls)
      // Stored before the flight ends, so a caller arriving after it finds the value in L1.
      if (!flight.superseded && !controls.skipped) core.store(storageKey, value, controls.plan)
      if (core.events.has('load')) {
        core.events.emit('load', { key: storageKey, duration: performance.now() - started })
      }
      return value
    } catch (error) {
      core.counters.loadErrors++
      if (core.events.has('load')) {
        core.events.emit('load', { key: storageKey, duration: performance.now() - started, error })
      }
      throw error
    } finally {
      if (core.flights.get(storageKey) === flight) core.flights.delete(storageKey)
    }
  }

  /**
   * The batch path of `getOrSetMany` and `refreshMany`: cached keys are served,
   * keys loading already are joined, and the rest go to one loader call whose
   * per-key flights other callers can join.
   */
  async #loadMany<T>(
    keys: readonly string[],
    loader: BatchLoader<T>,
    options: LoadOptions<T> | undefined,
    forced: boolean,
  ): Promise<Map<string, T>> {
    const core = this.#core
    if (core.closed) throw new ClosedError('cache')
    const unique = this.#checkKeys(keys)
    checkLoader(loader)
    const plan = options === undefined ? core.defaults : resolveWritePlan(core.defaults, options)
    const signal = options?.signal
    checkSignal(signal)

    const cached = new Map<string, unknown>()
    const waiting: Array<Flight<T | undefined>> = []
    const waitingKeys: string[] = []
    const missing: string[] = []
    for (const key of unique) {
      const storageKey = this.#storageKey(key)
      if (!forced) {
        const value = core.l1.read(storageKey)
        if (value !== undefined) {
          core.hit(storageKey)
          const served =
            options?.schema === undefined
              ? value
              : await this.#checkHit(storageKey, value, options.schema)
          if (served !== REFUSED) {
            cached.set(key, served)
            continue
          }
        } else core.miss(storageKey)
      }
      const flight = core.flights.get(storageKey) as Flight<T | undefined> | undefined
      if (flight !== undefined && (!forced || flight.forced)) {
        waiting.push(flight)
        waitingKeys.push(key)
      } else {
        if (flight !== undefined) core.supersede(storageKey)
        missing.push(key)
      }
    }
    if (missing.length !== 0) {
      for (const flight of this.#startBatch(missing, loader, plan, forced)) waiting.push(flight)
      for (const key of missing) waitingKeys.push(key)
    }
    const loaded = waiting.length === 0 ? [] : await joinFlights(waiting, signal)

    const byKey = new Map<string, unknown>(cached)
    for (let i = 0; i < waitingKeys.length; i++) byKey.set(waitingKeys[i]!, loaded[i])
    const result = new Map<string, T>()
    for (const key of unique) {
      const value = byKey.get(key)
      if (value !== undefined && value !== NOT_FOUND) result.set(key, value as T)
    }
    return result
  }

  /** Starts one loader call for `keys` and returns one flight per key, in order. */
  #startBatch<T>(
    keys: string[],
    loader: BatchLoader<T>,
    plan: WritePlan,
    forced: boolean,
  ): Array<Flight<T | undefined>> {
    const core = this.#core
    const controller = new AbortController()
    let live = keys.length
    // The shared load aborts only when every key's flight has lost all its callers.
    const onIdle = (): void => {
      if (--live === 0) controller.abort(new DOMException('Every caller aborted', 'AbortError'))
    }
    const storageKeys = keys.map((key) => this.#storageKey(key))
    const flights = keys.map(() => new Flight<T | undefined>(forced, onIdle))
    const shared = this.#runBatchLoader(keys, storageKeys, flights, loader, plan, controller.signal)
    shared.catch(noop)
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      core.flights.set(storageKeys[i]!, flights[i] as Flight<unknown>)
      flights[i]!.start(() => shared.then((values) => values.get(key)))
    }
    return flights
  }

  async #runBatchLoader<T>(
    keys: string[],
    storageKeys: string[],
    flights: Array<Flight<T | undefined>>,
    loader: BatchLoader<T>,
    plan: WritePlan,
    signal: AbortSignal,
  ): Promise<Map<string, T | undefined>> {
    const core = this.#core
    const controls = new LoadControls(keys, signal, plan)
    const started = performance.now()
    core.counters.loads++
    // Handed a copy: a loader that mutates its argument cannot change what is stored.
    const asked = keys.slice()
    try {
      // Let the caller register every flight before the loader runs.
      await Promise.resolve()
      const values = readBatchResult<T>(await loader(asked, controls), keys)
      for (let i = 0; i < keys.length; i++) {
        if (!flights[i]!.superseded && !controls.skipped) {
          core.store(storageKeys[i]!, values.get(keys[i]!), controls.plan)
        }
      }
      if (core.events.has('load')) {
        const duration = performance.now() - started
        for (const key of storageKeys) core.events.emit('load', { key, duration })
      }
      return values
    } catch (error) {
      core.counters.loadErrors++
      if (core.events.has('load')) {
        const duration = performance.now() - started
        for (const key of storageKeys) core.events.emit('load', { key, duration, error })
      }
      throw error
    } finally {
      for (let i = 0; i < keys.length; i++) {
        if (core.flights.get(storageKeys[i]!) === flights[i]) core.flights.delete(storageKeys[i]!)
      }
    }
  }
}

function isRealValue(value: unknown): boolean {
  return value !== NOT_FOUND
}

function fillMiss(status: CacheStatus): void {
  status.source = undefined
  status.stale = false
  status.tier = undefined
}

function checkLoader(loader: unknown): void {
  if (typeof loader !== 'function') throw new InvalidArgumentError('The loader must be a function.')
}

function checkValue(key: string, value: unknown): void {
  if (value === undefined) {
    throw new InvalidArgumentError(
      `The value for '${key}' is undefined; delete the key instead, or store null.`,
    )
  }
}

function checkDelta(delta: unknown): void {
  if (typeof delta !== 'number' || !Number.isSafeInteger(delta)) {
    throw new InvalidArgumentError(`delta must be a safe integer, not ${String(delta)}.`)
  }
}

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortReason(signal)
}

/** Reads what a batch loader returned into values for the asked keys only. */
function readBatchResult<T>(result: unknown, keys: readonly string[]): Map<string, T | undefined> {
  const values = new Map<string, T | undefined>()
  if (result instanceof Map) {
    for (const key of keys) values.set(key, result.get(key) as T | undefined)
    return values
  }
  if (result !== null && typeof result === 'object') {
    if (Symbol.iterator in result) {
      const entries = new Map<unknown, unknown>(result as Iterable<readonly [unknown, unknown]>)
      for (const key of keys) values.set(key, entries.get(key) as T | undefined)
      return values
    }
    // A plain record: own properties only, so '__proto__' or 'toString' keys never read the prototype.
    const record = result as Record<string, unknown>
    for (const key of keys)
      values.set(key, Object.hasOwn(record, key) ? (record[key] as T) : undefined)
    return values
  }
  throw new InvalidArgumentError(
    'A batch loader must return a Map, a record or [key, value] entries.',
  )
}

function toEntries<T>(entries: EntriesInput<T>, what: string): Array<readonly [string, T]> {
  if (entries instanceof Map) return [...(entries as Map<string, T>)]
  if (entries !== null && typeof entries === 'object') {
    if (Symbol.iterator in entries) {
      const list = [...(entries as Iterable<readonly [string, T]>)]
      for (const entry of list) {
        if (!Array.isArray(entry) || entry.length !== 2) {
          throw new InvalidArgumentError(`${what}: each entry must be a [key, value] pair.`)
        }
      }
      return list
    }
    return Object.entries(entries as Record<string, T>)
  }
  throw new InvalidArgumentError(
    `${what}: entries must be a Map, a record or [key, value] entries.`,
  )
}

function noop(): void {}
