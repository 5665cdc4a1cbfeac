import { type Clock, CoarseClock } from '../clock.js'
import { ClosedError, InvalidArgumentError, WrongTypeError } from '../errors.js'
import type {
  Store,
  StoreCapabilities,
  StoreEntryInfo,
  StoreListOptions,
  StoreListPage,
  StoreWrite,
} from '../stores/store.js'
import { ArcPolicy } from './arc.js'
import { hashKey } from './hash.js'
import { LruPolicy } from './lru.js'
import type { EvictionPolicy, PolicyFactory, PolicyName } from './policy.js'
import { estimateSize } from './size.js'
import { TimerWheel } from './timer-wheel.js'
import { TinyLfuPolicy } from './tinylfu.js'

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most entries held; the least recently used is evicted past it.
   * @default 10_000 (unbounded when only `maxBytes` is given)
   */
  maxEntries?: number
  /** Most bytes held, as measured by `sizeOf`. @default unbounded */
  maxBytes?: number
  /**
   * Size of one entry in bytes, for `maxBytes`; called once per write.
   * @default a bounded walk of the value ({@link estimateSize}) plus the key
   */
  sizeOf?: (value: unknown, key: string) => number
  /** Eviction policy (see {@link PolicyName}). @default 'lru' */
  policy?: PolicyName
  /**
   * Time source for expiry, shared with the cache the store serves.
   * @default the system clock, read at most once per millisecond ({@link CoarseClock})
   */
  clock?: Clock
}

/**
 * Why an entry left the memory tier: `'size'` (a bound was reached), `'expired'`
 * (its ttl passed), `'policy'` (the policy refused to admit it).
 */
export type EvictionReason = 'size' | 'expired' | 'policy'

/** Called for each entry the memory tier evicts (not for deletes or overwrites). */
export type EvictionListener = (key: string, value: unknown, reason: EvictionReason) => void

/** One live entry as the L1 sees it. */
export interface MemoryEntry {
  readonly value: unknown
  /** Absolute expiry in epoch ms; 0 when the entry never expires. */
  readonly expiresAt: number
  readonly tags: readonly string[] | undefined
  readonly size: number
}

/** Every policy by name; `memoryStore({ policy })` picks one. */
const POLICIES: Record<PolicyName, PolicyFactory> = {
  lru: (_maxEntries, capacity) => new LruPolicy(capacity),
  arc: (maxEntries, capacity) => new ArcPolicy(maxEntries, capacity),
  tinylfu: (maxEntries, capacity) => new TinyLfuPolicy(maxEntries, capacity),
}

const DEFAULT_MAX_ENTRIES = 10_000
const UNBOUNDED_ENTRIES = 0xfffffffe
const INITIAL_CAPACITY = 64
const NO_TAGS: undefined = undefined
const CAPABILITIES: StoreCapabilities = Object.freeze({
  list: true,
  ttlGranularity: 'ms',
  shared: false,
})
// Canonical integers only, as Redis reads them: no sign on zero, no leading zeros, no '+'.
const DECIMAL = /^(?:0|-?[1-9]\d{0,15})$/

/**
 * The in-process memory tier (L1). It holds live values, not bytes, in parallel
 * slot arrays with the policy's links in typed arrays, so a hit allocates
 * nothing. A read checks its entry's deadline; entries nobody reads are
 * reclaimed by a timing wheel that writes advance: no timer per key, and none
 * at all.
 *
 * Used as the first tier of a cache, or alone as a byte `Store` (it passes the
 * store conformance suite), which is handy in tests.
 *
 * @example
 * ```ts
 * const cache = createCache({ tiers: [memoryStore({ maxEntries: 50_000 })] })
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options)
}

/** The class behind {@link memoryStore}; see there. */
export class MemoryStore implements Store {
  readonly name = 'memory'
  readonly capabilities = CAPABILITIES
  readonly maxEntries: number
  readonly maxBytes: number

  /** The store's time source; the cache computes deadlines with it too, so they compare. */
  readonly clock: Clock
  readonly #clock: Clock
  readonly #sizeOf: ((value: unknown, key: string) => number) | undefined
  readonly #policy: EvictionPolicy
  readonly #index = new Map<string, number>()
  #keys: Array<string | undefined> = []
  #values: unknown[] = []
  #expires: Float64Array
  #sizes: Float64Array | undefined
  #tags: Array<readonly string[] | undefined> = []
  #free: number[] = []
  #capacity: number
  #used = 0
  #bytes = 0
  #withTtl = 0
  readonly #wheel: TimerWheel
  #closed = false
  #evictionListeners: EvictionListener[] = []

  constructor(options: MemoryStoreOptions = {}) {
    const { maxEntries, maxBytes, sizeOf, policy = 'lru', clock = new CoarseClock() } = options
    if (maxEntries !== undefined && !(Number.isInteger(maxEntries) && maxEntries > 0)) {
      throw new InvalidArgumentError(
        `memoryStore: maxEntries must be a positive integer, not ${String(maxEntries)}.`,
      )
    }
    if (maxEntries !== undefined && maxEntries > UNBOUNDED_ENTRIES) {
      throw new InvalidArgumentError(
        `memoryStore: maxEntries must be at most ${UNBOUNDED_ENTRIES}.`,
      )
    }
    if (maxBytes !== undefined && !(Number.isFinite(maxBytes) && maxBytes > 0)) {
      throw new InvalidArgumentError(
        `memoryStore: maxBytes must be a positive finite number, not ${String(maxBytes)}.`,
      )
    }
    if (sizeOf !== undefined && typeof sizeOf !== 'function') {
      throw new InvalidArgumentError('memoryStore: sizeOf must be a function.')
    }
    const createPolicy = Object.hasOwn(POLICIES, policy) ? POLICIES[policy] : undefined
    if (createPolicy === undefined) {
      throw new InvalidArgumentError(
        `memoryStore: unknown policy '${String(policy)}'; use one of ${Object.keys(POLICIES).join(', ')}.`,
      )
    }
    if (typeof clock?.now !== 'function') {
      throw new InvalidArgumentError('memoryStore: clock must have a now() method.')
    }
    this.maxEntries =
      maxEntries ?? (maxBytes === undefined ? DEFAULT_MAX_ENTRIES : UNBOUNDED_ENTRIES)
    this.maxBytes = maxBytes ?? Infinity
    this.clock = clock
    this.#clock = clock
    // One slot past the bound: a new entry is inserted first, then the policy picks
    // a victim among all of them (admission policies may refuse the newcomer).
    this.#capacity = Math.min(this.maxEntries + 1, INITIAL_CAPACITY)
    this.#expires = new Float64Array(this.#capacity)
    if (maxBytes !== undefined) {
      this.#sizeOf = sizeOf ?? defaultSizeOf
      this.#sizes = new Float64Array(this.#capacity)
    }
    this.#policy = createPolicy(this.maxEntries, this.#capacity)
    this.#wheel = new TimerWheel(this.#capacity, clock.now(), (slot) =>
      this.#evict(slot, 'expired'),
    )
  }

  /** Live entries, counting expired ones not yet swept. */
  get size(): number {
    return this.#used
  }

  /** Bytes held as measured by `sizeOf` (0 when `maxBytes` is not set). */
  get bytes(): number {
    return this.#bytes
  }

  // ---------------------------------------------------------------------------
  // The L1 face: synchronous, live values. The cache's hot path calls `read`.
  // ---------------------------------------------------------------------------

  /**
   * The live value at `key`, or `undefined`; marks it recently used.
   * This is the hit path: a map lookup, one compare when the entry has a ttl, one policy touch.
   */
  read(key: string): unknown {
    const slot = this.#index.get(key)
    if (slot === undefined) return undefined
    const expiresAt = this.#expires[slot]!
    if (expiresAt !== 0 && expiresAt <= this.#clock.now()) {
      this.#evict(slot, 'expired')
      return undefined
    }
    this.#policy.touch(slot)
    return this.#values[slot]
  }

  /** The live value at `key` without marking it used, or `undefined`. */
  peek(key: string): unknown {
    const slot = this.#liveSlot(key)
    return slot === -1 ? undefined : this.#values[slot]
  }

  /** The live entry at `key` without marking it used, or `undefined`. */
  entry(key: string): MemoryEntry | undefined {
    const slot = this.#liveSlot(key)
    if (slot === -1) return undefined
    return {
      value: this.#values[slot],
      expiresAt: this.#expires[slot]!,
      tags: this.#tags[slot],
      size: this.#sizes?.[slot] ?? 0,
    }
  }

  /** Whether a live entry exists at `key`; does not mark it used. */
  contains(key: string): boolean {
    return this.#liveSlot(key) !== -1
  }

  /**
   * Stores `value` at `key`, replacing what was there.
   * @param expiresAt absolute epoch ms, 0 for never
   */
  write(key: string, value: unknown, expiresAt: number, tags?: readonly string[]): void {
    let size = 0
    if (this.#sizeOf !== undefined) {
      size = this.#sizeOf(value, key)
      if (!(size >= 0)) {
        throw new InvalidArgumentError(`memoryStore: sizeOf returned ${size} for key '${key}'.`)
      }
    }
    // Writes drive expiry: entries nobody reads are reclaimed as time passes.
    if (this.#withTtl !== 0) this.#wheel.advance(this.#clock.now())
    let slot = this.#index.get(key)
    if (slot !== undefined) {
      if (size > this.maxBytes) {
        this.#evict(slot, 'size')
        return
      }
      this.#setExpiry(slot, expiresAt)
      this.#values[slot] = value
      this.#tags[slot] = tags ?? NO_TAGS
      if (this.#sizes !== undefined) {
        this.#bytes += size - this.#sizes[slot]!
        this.#sizes[slot] = size
      }
      this.#policy.touch(slot)
    } else {
      if (size > this.maxBytes) {
        this.#emitEviction(key, value, 'size')
        return
      }
      slot = this.#allocate()
      this.#keys[slot] = key
      this.#values[slot] = value
      this.#tags[slot] = tags ?? NO_TAGS
      this.#expires[slot] = 0
      this.#setExpiry(slot, expiresAt)
      if (this.#sizes !== undefined) {
        this.#sizes[slot] = size
        this.#bytes += size
      }
      this.#index.set(key, slot)
      this.#used++
      this.#policy.insert(slot, hashKey(key))
    }
    this.#enforceBounds()
  }

  /** Deletes `key`; `true` when a live entry was removed. */
  remove(key: string): boolean {
    const slot = this.#index.get(key)
    if (slot === undefined) return false
    const expiresAt = this.#expires[slot]!
    const live = expiresAt === 0 || expiresAt > this.#clock.now()
    this.#release(slot)
    return live
  }

  /** Deletes every entry whose key starts with `prefix` (every entry for `''`). */
  removePrefix(prefix: string): void {
    if (prefix === '') {
      this.#reset()
      return
    }
    for (const [key, slot] of this.#index) {
      if (key.startsWith(prefix)) this.#release(slot)
    }
  }

  /**
   * Lists live entries whose key starts with `prefix` and whose value passes
   * `accept`, a page at a time (cursor = next slot, -1 at the end).
   */
  list(
    prefix: string,
    cursor: number,
    limit: number,
    accept?: (value: unknown) => boolean,
  ): { entries: StoreEntryInfo[]; next: number } {
    const entries: StoreEntryInfo[] = []
    const now = this.#clock.now()
    let slot = cursor
    for (; slot < this.#capacity && entries.length < limit; slot++) {
      const key = this.#keys[slot]
      if (key === undefined || !key.startsWith(prefix)) continue
      const expiresAt = this.#expires[slot]!
      if (expiresAt !== 0 && expiresAt <= now) continue
      if (accept !== undefined && !accept(this.#values[slot])) continue
      entries.push({
        key,
        size: this.#entrySize(slot),
        expiresAt: expiresAt === 0 ? undefined : expiresAt,
      })
    }
    return { entries, next: slot < this.#capacity ? slot : -1 }
  }

  /**
   * Evicts every expired entry now, including those the timing wheel would reclaim
   * only at its next tick; returns how many. Not needed for correctness: reads
   * never return an expired entry.
   */
  purgeExpired(): number {
    if (this.#withTtl === 0) return 0
    const now = this.#clock.now()
    let purged = 0
    for (let slot = 0; slot < this.#capacity; slot++) {
      const expiresAt = this.#expires[slot]!
      if (this.#keys[slot] !== undefined && expiresAt !== 0 && expiresAt <= now) {
        this.#evict(slot, 'expired')
        purged++
      }
    }
    return purged
  }

  /**
   * Calls `listener` for each eviction; returns a function that removes it.
   *
   * @example
   * ```ts
   * const stop = store.onEvict((key, _value, reason) => console.log(key, reason))
   * ```
   */
  onEvict(listener: EvictionListener): () => void {
    this.#evictionListeners = [...this.#evictionListeners, listener]
    return () => {
      this.#evictionListeners = this.#evictionListeners.filter((l) => l !== listener)
    }
  }

  // ---------------------------------------------------------------------------
  // The Store face: bytes, async, as every remote tier.
  // ---------------------------------------------------------------------------

  /** {@inheritDoc Store.get} */
  async get(key: string): Promise<Uint8Array | undefined> {
    this.#checkOpen()
    return asBytes(key, this.read(key))
  }

  /** {@inheritDoc Store.getMany} */
  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    this.#checkOpen()
    return keys.map((key) => asBytes(key, this.read(key)))
  }

  /** {@inheritDoc Store.set} */
  async set(key: string, value: Uint8Array, ttl?: number): Promise<void> {
    this.#checkOpen()
    this.write(key, new Uint8Array(value), this.#deadline(ttl))
  }

  /** {@inheritDoc Store.setMany} */
  async setMany(entries: readonly StoreWrite[]): Promise<void> {
    this.#checkOpen()
    for (const { key, value, ttl } of entries) {
      this.write(key, new Uint8Array(value), this.#deadline(ttl))
    }
  }

  /** {@inheritDoc Store.add} */
  async add(key: string, value: Uint8Array, ttl?: number): Promise<boolean> {
    this.#checkOpen()
    if (this.contains(key)) return false
    this.write(key, new Uint8Array(value), this.#deadline(ttl))
    return true
  }

  /** {@inheritDoc Store.delete} */
  async delete(key: string): Promise<boolean> {
    this.#checkOpen()
    return this.remove(key)
  }

  /** {@inheritDoc Store.deleteMany} */
  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#checkOpen()
    let deleted = 0
    for (const key of keys) if (this.remove(key)) deleted++
    return deleted
  }

  /** {@inheritDoc Store.take} */
  async take(key: string): Promise<Uint8Array | undefined> {
    this.#checkOpen()
    const value = asBytes(key, this.read(key))
    if (value !== undefined) this.remove(key)
    return value
  }

  /** {@inheritDoc Store.increment} */
  async increment(key: string, delta: number, ttl?: number): Promise<number> {
    this.#checkOpen()
    return this.incrementLive(key, delta, this.#deadline(ttl))
  }

  /**
   * Adds `delta` to the integer at `key` (0 when missing) and returns the result.
   * A counter set through the Store face as decimal bytes counts too. The expiry
   * applies only when the key is created; an existing key keeps its own.
   */
  incrementLive(key: string, delta: number, expiresAt: number): number {
    const slot = this.#liveSlot(key)
    if (slot === -1) {
      this.write(key, delta, expiresAt)
      return delta
    }
    const current = toCounter(this.#values[slot])
    if (current === undefined) {
      throw new WrongTypeError(`increment: the value at '${key}' is not an integer.`)
    }
    const next = current + delta
    if (!Number.isSafeInteger(next)) {
      throw new WrongTypeError(
        `increment: the counter at '${key}' would leave the safe integer range.`,
      )
    }
    this.#values[slot] = next
    this.#policy.touch(slot)
    return next
  }

  /** {@inheritDoc Store.clear} */
  async clear(prefix: string): Promise<void> {
    this.#checkOpen()
    this.removePrefix(prefix)
  }

  /** {@inheritDoc Store.keys} */
  async keys(options: StoreListOptions = {}): Promise<StoreListPage> {
    this.#checkOpen()
    const { prefix = '', cursor, limit = 100 } = options
    let start = 0
    if (cursor !== undefined) {
      start = Number(cursor)
      if (!Number.isInteger(start) || start < 0) {
        throw new InvalidArgumentError(`keys: invalid cursor '${cursor}'.`)
      }
    }
    if (!(Number.isInteger(limit) && limit > 0)) {
      throw new InvalidArgumentError(
        `keys: limit must be a positive integer, not ${String(limit)}.`,
      )
    }
    const { entries, next } = this.list(prefix, start, limit)
    return next === -1 ? { entries } : { entries, cursor: String(next) }
  }

  /** {@inheritDoc Store.ready} */
  async ready(): Promise<void> {
    this.#checkOpen()
  }

  /** Drops every entry; later Store calls reject with `ClosedError`. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#reset()
    if (this.#clock instanceof CoarseClock) this.#clock.stop()
  }

  // ---------------------------------------------------------------------------

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError('memory store')
  }

  #deadline(ttl: number | undefined): number {
    return ttl === undefined ? 0 : this.#clock.now() + ttl
  }

  #liveSlot(key: string): number {
    const slot = this.#index.get(key)
    if (slot === undefined) return -1
    const expiresAt = this.#expires[slot]!
    if (expiresAt !== 0 && expiresAt <= this.#clock.now()) {
      this.#evict(slot, 'expired')
      return -1
    }
    return slot
  }

  #entrySize(slot: number): number {
    if (this.#sizes !== undefined) return this.#sizes[slot]!
    const value = this.#values[slot]
    return value instanceof Uint8Array ? value.byteLength : estimateSize(value)
  }

  #setExpiry(slot: number, expiresAt: number): void {
    const had = this.#expires[slot] !== 0
    const has = expiresAt !== 0
    if (had !== has) this.#withTtl += has ? 1 : -1
    this.#expires[slot] = expiresAt
    if (has) this.#wheel.schedule(slot, expiresAt)
    else if (had) this.#wheel.unschedule(slot)
  }

  #allocate(): number {
    const reused = this.#free.pop()
    if (reused !== undefined) return reused
    // Bounds are enforced after each insert, so at most maxEntries + 1 slots are ever in use.
    if (this.#used === this.#capacity) this.#grow()
    // No free slot: slots below #used are all taken, and #used is the next never-used one.
    return this.#used
  }

  #grow(): void {
    const capacity = Math.min(this.maxEntries + 1, this.#capacity * 2)
    const expires = new Float64Array(capacity)
    expires.set(this.#expires)
    this.#expires = expires
    if (this.#sizes !== undefined) {
      const sizes = new Float64Array(capacity)
      sizes.set(this.#sizes)
      this.#sizes = sizes
    }
    this.#policy.grow(capacity)
    this.#wheel.grow(capacity)
    this.#capacity = capacity
  }

  /** Evicts the policy's victims until both bounds hold. */
  #enforceBounds(): void {
    while (this.#used > this.maxEntries || this.#bytes > this.maxBytes) {
      const victim = this.#policy.victim()
      if (victim === -1) break
      this.#evict(victim, this.#policy.lastVictimRefused ? 'policy' : 'size')
    }
  }

  #evict(slot: number, reason: EvictionReason): void {
    const key = this.#keys[slot]!
    const value = this.#values[slot]
    this.#release(slot)
    this.#emitEviction(key, value, reason)
  }

  #emitEviction(key: string, value: unknown, reason: EvictionReason): void {
    const listeners = this.#evictionListeners
    for (let i = 0; i < listeners.length; i++) listeners[i]!(key, value, reason)
  }

  #release(slot: number): void {
    this.#index.delete(this.#keys[slot]!)
    this.#policy.remove(slot)
    this.#setExpiry(slot, 0)
    if (this.#sizes !== undefined) {
      this.#bytes -= this.#sizes[slot]!
      this.#sizes[slot] = 0
    }
    this.#keys[slot] = undefined
    this.#values[slot] = undefined
    this.#tags[slot] = NO_TAGS
    this.#free.push(slot)
    this.#used--
  }

  #reset(): void {
    this.#index.clear()
    this.#keys = []
    this.#values = []
    this.#tags = []
    this.#free = []
    this.#expires.fill(0)
    this.#sizes?.fill(0)
    this.#used = 0
    this.#bytes = 0
    this.#withTtl = 0
    this.#wheel.clear(this.#clock.now())
    this.#policy.clear()
  }
}

function defaultSizeOf(value: unknown, key: string): number {
  return estimateSize(value) + 48 + key.length * 2
}

function toCounter(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined
  if (value instanceof Uint8Array && value.byteLength <= 17) {
    const text = String.fromCharCode(...value)
    if (DECIMAL.test(text)) {
      const n = Number(text)
      return Number.isSafeInteger(n) ? n : undefined
    }
  }
  return undefined
}

function asBytes(key: string, value: unknown): Uint8Array | undefined {
  if (value === undefined || value instanceof Uint8Array) return value
  if (typeof value === 'number') return new TextEncoder().encode(String(value))
  throw new WrongTypeError(`The memory store holds a live value at '${key}', not bytes.`)
}
