import { createValueCodec } from './codec/value-codec.js'
import { CacheCore, NOT_FOUND } from './engine/core.js'
import {
  type BatchLoaderContext,
  type LoaderContext,
  LoadControls,
} from './engine/loader-context.js'
import { abortReason, Flight, joinFlights } from './engine/singleflight.js'
import { ClosedError, InvalidArgumentError } from './errors.js'
import { checkKey, namespacePrefix } from './keys.js'
import type { CacheEventName, CacheListener } from './observe/events.js'
import type { CacheStats } from './observe/stats.js'
import {
  type CacheOptions,
  type CacheStatus,
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

/** Returned by the hit path when a schema refused the cached value. */
const REFUSED: unique symbol = Symbol('tiercache.refused')
const MAX_LIST_LIMIT = 10_000

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
  const core = new CacheCore(options, (o, report) =>
    createValueCodec({
      serializer: o.serializer,
      compression: o.compression,
      encryption:
        o.encryption === undefined
          ? undefined
          : {
              ...o.encryption,
              onKeyWearing:
                o.encryption.onKeyWearing ??
                ((info) =>
                  report(
                    new Error(
                      `The encryption key '${info.keyId}' has encrypted ${info.encryptions} values in this process: rotate it (encryption.key, with the old one in previousKeys).`,
                    ),
                    'encrypt',
                  )),
            },
      maxValueBytes: o.maxValueBytes,
    }),
  )
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
      if (core.remote !== undefined) return this.#getRemote(storageKey, options)
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
    const values = new Map<string, unknown>()
    const missing: string[] = []
    for (const key of unique) {
      const storageKey = this.#storageKey(key)
      const value = core.l1.read(storageKey)
      if (value === undefined) {
        core.localMiss()
        missing.push(key)
        continue
      }
      core.hit(storageKey)
      values.set(key, value)
    }
    if (core.remote !== undefined && missing.length !== 0) {
      const storageKeys = missing.map((key) => this.#storageKey(key))
      const hits = await core.remote.readMany(storageKeys)
      for (let i = 0; i < missing.length; i++) {
        const hit = hits[i]
        if (hit === undefined) {
          core.missBelow(storageKeys[i]!)
          continue
        }
        core.remoteHit(storageKeys[i]!, hit.tier + 1)
        core.keepLocally(storageKeys[i]!, hit)
        values.set(missing[i]!, hit.value)
      }
    }
    const found = new Map<string, T>()
    for (const key of unique) {
      const value = values.get(key)
      if (value === undefined || value === NOT_FOUND) continue
      const served =
        options?.schema === undefined
          ? value
          : await this.#checkHit(this.#storageKey(key), value, options.schema)
      if (served !== REFUSED) found.set(key, served as T)
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
    if (core.remote === undefined) this.#write(this.#storageKey(key), value, plan)
    else await this.#writeThrough(this.#storageKey(key), value, plan)
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
    if (core.remote !== undefined) {
      const expiresAt = core.expiry(plan.ttl)
      const createdAt = core.clock.now()
      await core.remote.writeMany(
        list.map(([key, value]) => ({
          key: this.#storageKey(key),
          value,
          meta: { expiresAt, graceUntil: 0, createdAt, tags: plan.tags },
        })),
      )
    }
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
    if (core.remote !== undefined) {
      // Atomic where it counts: in the authoritative tier, across instances.
      const expiresAt = core.expiry(plan.ttl)
      const meta = { expiresAt, graceUntil: 0, createdAt: core.clock.now(), tags: plan.tags }
      if (!(await core.remote.add(storageKey, value, meta))) return false
      this.#write(storageKey, value, plan)
      return true
    }
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
    const storageKey = this.#storageKey(key)
    const value = core.l1.peek(storageKey)
    if (value !== undefined) return value !== NOT_FOUND
    return core.remote !== undefined && (await core.remote.read(storageKey)) !== undefined
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
    const unknown: string[] = []
    for (const key of unique) {
      const value = core.l1.peek(this.#storageKey(key))
      present.set(key, value !== undefined && value !== NOT_FOUND)
      if (value === undefined) unknown.push(key)
    }
    if (core.remote !== undefined && unknown.length !== 0) {
      const hits = await core.remote.readMany(unknown.map((key) => this.#storageKey(key)))
      unknown.forEach((key, i) => present.set(key, hits[i] !== undefined))
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
    const storageKey = this.#storageKey(key)
    const held = this.#remove(storageKey)
    if (core.remote === undefined) return held
    const remoteHeld = await core.remote.delete(storageKey)
    if (remoteHeld && !held) this.#countDelete(storageKey)
    return held || remoteHeld
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
    if (core.remote === undefined) return deleted
    // The authoritative tier knows best what was stored; L1 may hold only some of it.
    const remoteDeleted = await core.remote.deleteMany(unique.map((key) => this.#storageKey(key)))
    return Math.max(deleted, remoteDeleted)
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
    if (core.remote !== undefined) {
      // Only the authoritative tier's take is atomic across instances; L1's copy just goes.
      this.#remove(storageKey)
      const hit = await core.remote.take(storageKey)
      if (hit === undefined) {
        core.miss(storageKey)
        return undefined
      }
      core.hit(storageKey, core.counters.tierNames.length - 1)
      return hit.value as T
    }
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
    for (const key of [...core.flights.keys(), ...core.reads.keys()]) {
      if (key.startsWith(this.#prefix)) core.supersede(key)
    }
    if (core.remote !== undefined) await core.remote.clear(this.#prefix)
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
    const cut = this.#prefix.length
    const listing = core.remote?.stores.at(-1)
    if (listing?.capabilities.list === true) {
      // The authoritative tier holds everything; L1 holds a subset.
      if (cursor !== undefined && typeof cursor !== 'string') {
        throw new InvalidArgumentError('keys: cursor must be the string of the previous page.')
      }
      const page = await listing.keys({ prefix: this.#prefix + prefix, cursor, limit })
      return {
        entries: page.entries.map((e) => ({
          key: e.key.slice(cut),
          size: e.size,
          expiresAt: e.expiresAt,
          tier: listing.name,
        })),
        cursor: page.cursor,
      }
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
    return this.#core.counters.snapshot(this.#core.flights.size)
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
    this.#core.listen()
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
    this.#core.listen()
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
    await this.#core.remote?.ready()
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
      await Promise.allSettled(
        [...core.flights.values(), ...core.reads.values()].map((flight) => flight.promise),
      )
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
    if (core.remote === undefined) core.miss(storageKey)
    else core.localMiss() // the remote tiers' answer is counted when the load settles
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

  /** `get` past an L1 miss: the remote tiers, one shared read per key. */
  async #getRemote<T>(
    storageKey: string,
    options: ReadOptions<T> | undefined,
  ): Promise<T | undefined> {
    const core = this.#core
    core.localMiss()
    checkSignal(options?.signal)
    const [hit] = await joinFlights([core.readShared(storageKey)], options?.signal)
    if (hit === undefined) {
      core.missBelow(storageKey)
      if (options?.status !== undefined) fillMiss(options.status)
      return undefined
    }
    core.remoteHit(storageKey, hit.tier + 1)
    let served: unknown = hit.value
    if (options?.schema !== undefined)
      served = await this.#checkHit(storageKey, hit.value, options.schema)
    if (served === REFUSED) {
      if (options?.status !== undefined) fillMiss(options.status)
      return undefined
    }
    if (options?.status !== undefined) {
      options.status.source = 'remote'
      options.status.stale = false
      options.status.tier = core.counters.tierNames[hit.tier + 1]
    }
    return served as T
  }

  /** A write through every tier, the authoritative one first; rejects if it fails, leaving L1 as it was. */
  async #writeThrough(storageKey: string, value: unknown, plan: WritePlan): Promise<void> {
    const core = this.#core
    core.supersede(storageKey)
    await core.persist(storageKey, value, plan)
    core.supersede(storageKey)
    core.counters.sets++
    if (core.events.has('set')) core.events.emit('set', { key: storageKey })
  }

  #countDelete(storageKey: string): void {
    const core = this.#core
    core.counters.deletes++
    if (core.events.has('delete')) core.events.emit('delete', { key: storageKey })
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

  #increment(
    key: string,
    delta: number,
    options: Pick<WriteOptions, 'ttl'> | undefined,
  ): number | Promise<number> {
    const core = this.#core
    const ttl = options?.ttl === undefined ? core.defaults.ttl : parseTtl(options.ttl, 'ttl')
    const storageKey = this.#storageKey(key)
    if (core.remote !== undefined) return this.#incrementRemote(storageKey, delta, ttl)
    if (core.l1.peek(storageKey) === NOT_FOUND) core.l1.remove(storageKey)
    const value = core.l1.incrementLive(storageKey, delta, core.expiry(ttl))
    core.supersede(storageKey)
    core.counters.sets++
    if (core.events.has('set')) core.events.emit('set', { key: storageKey })
    return value
  }

  /**
   * Counters live in the authoritative tier, whose increment is atomic across
   * instances; L1 drops its copy, since other instances change the value.
   */
  async #incrementRemote(storageKey: string, delta: number, ttl: number): Promise<number> {
    const core = this.#core
    core.l1.remove(storageKey)
    core.supersede(storageKey)
    const value = await core.remote!.increment(storageKey, delta, ttl)
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
    const remoteTier = flight.remoteTier
    if (core.remote !== undefined && !forced) {
      if (remoteTier !== 0) core.remoteHit(storageKey, remoteTier)
      else core.missBelow(storageKey)
    }
    if (options?.status !== undefined) {
      options.status.source = remoteTier === 0 ? 'loader' : 'remote'
      options.status.stale = false
      options.status.tier = remoteTier === 0 ? undefined : core.counters.tierNames[remoteTier]
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
    // A remote tier may hold what L1 lacks: check it before loading (unless forced).
    if (core.remote !== undefined && !flight.forced) {
      const hit = await core.remote.read(storageKey)
      if (hit !== undefined) {
        flight.remoteTier = hit.tier + 1
        if (!flight.superseded) core.keepLocally(storageKey, hit)
        if (core.flights.get(storageKey) === flight) core.flights.delete(storageKey)
        return hit.value as T
      }
    }
    const controls = new LoadControls([key], signal, plan)
    const started = performance.now()
    core.counters.loads++
    try {
      const value = await loader(controls)
      // Stored before the flight ends, so a caller arriving after it finds the value in L1.
      if (!flight.superseded && !controls.skipped) {
        await core.storeLoaded(storageKey, value, controls.plan)
      }
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
        } else if (core.remote === undefined) core.miss(storageKey)
        else core.localMiss() // counted below, once the remote tiers answered
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
    for (let i = 0; i < waitingKeys.length; i++) {
      byKey.set(waitingKeys[i]!, loaded[i])
      if (core.remote !== undefined && !forced) {
        const storageKey = this.#storageKey(waitingKeys[i]!)
        const remoteTier = waiting[i]!.remoteTier
        if (remoteTier !== 0) core.remoteHit(storageKey, remoteTier)
        else core.missBelow(storageKey)
      }
    }
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
    const values = new Map<string, T | undefined>()
    let started = 0
    let asked: number[] = keys.map((_, i) => i)
    try {
      // Let the caller register every flight before anything runs.
      await Promise.resolve()
      // A remote tier may hold some of the keys: only the rest go to the loader (unless forced).
      if (core.remote !== undefined && !flights[0]!.forced) {
        const hits = await core.remote.readMany(storageKeys)
        asked = []
        for (let i = 0; i < keys.length; i++) {
          const hit = hits[i]
          if (hit === undefined) asked.push(i)
          else {
            flights[i]!.remoteTier = hit.tier + 1
            values.set(keys[i]!, hit.value as T)
            if (!flights[i]!.superseded) core.keepLocally(storageKeys[i]!, hit)
          }
        }
        if (asked.length === 0) return values
      }
      const askedKeys = asked.map((i) => keys[i]!)
      const controls = new LoadControls(askedKeys, signal, plan)
      started = performance.now()
      core.counters.loads++
      // Handed a copy: a loader that mutates its argument cannot change what is stored.
      const loaded = readBatchResult<T>(await loader(askedKeys.slice(), controls), askedKeys)
      for (const key of askedKeys) values.set(key, loaded.get(key))
      if (!controls.skipped) {
        const kept = asked.filter((i) => !flights[i]!.superseded)
        await this.#storeBatch(
          kept.map((i) => storageKeys[i]!),
          kept.map((i) => loaded.get(keys[i]!)),
          controls.plan,
        )
      }
      if (core.events.has('load')) {
        const duration = performance.now() - started
        for (const i of asked) core.events.emit('load', { key: storageKeys[i]!, duration })
      }
      return values
    } catch (error) {
      if (started !== 0) {
        core.counters.loadErrors++
        if (core.events.has('load')) {
          const duration = performance.now() - started
          for (const i of asked) core.events.emit('load', { key: storageKeys[i]!, duration, error })
        }
      }
      throw error
    } finally {
      for (let i = 0; i < keys.length; i++) {
        if (core.flights.get(storageKeys[i]!) === flights[i]) core.flights.delete(storageKeys[i]!)
      }
    }
  }

  /** Stores a batch load's results: one remote write for the values, L1 for all (a remote failure is reported). */
  async #storeBatch(storageKeys: string[], loaded: unknown[], plan: WritePlan): Promise<void> {
    const core = this.#core
    if (core.remote !== undefined) {
      const expiresAt = core.expiry(plan.ttl)
      const createdAt = core.clock.now()
      const entries = []
      for (let i = 0; i < storageKeys.length; i++) {
        if (loaded[i] === undefined) continue
        entries.push({
          key: storageKeys[i]!,
          value: loaded[i],
          meta: { expiresAt, graceUntil: 0, createdAt, tags: plan.tags },
        })
      }
      try {
        await core.remote.writeMany(entries)
      } catch (error) {
        core.report(error, undefined, 'setMany')
      }
    }
    for (let i = 0; i < storageKeys.length; i++) {
      const value = loaded[i]
      if (value !== undefined)
        core.l1.write(storageKeys[i]!, value, core.expiry(plan.ttl), plan.tags)
      else if (plan.negativeTtl !== 0)
        core.l1.write(storageKeys[i]!, NOT_FOUND, core.expiry(plan.negativeTtl))
      else core.l1.remove(storageKeys[i]!)
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
