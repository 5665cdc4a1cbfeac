import type { Clock } from '../clock.js'
import { InvalidArgumentError } from '../errors.js'
import { MemoryStore, memoryStore } from '../memory/memory-store.js'
import { Emitter } from '../observe/events.js'
import { Counters } from '../observe/stats.js'
import { type CacheOptions, checkOptionNames, parseTtl, type WritePlan } from '../options.js'
import type { Store } from '../stores/store.js'
import { type RemoteHit, RemoteTiers, type ValueCodec } from './remote-tiers.js'
import { Flight } from './singleflight.js'

/** Remembers a loader's "not found" for `negativeTtl` in L1; never leaves the process. */
export const NOT_FOUND: unique symbol = Symbol('tiercache.notFound')

/**
 * Makes the value codec of the remote tiers from the cache options (injected to
 * keep this module free of codecs); `report` turns the codec's own warnings into
 * `error` events.
 */
export type CodecFactory = (
  options: CacheOptions,
  report: (error: unknown, operation: string) => void,
) => ValueCodec

/**
 * What every namespace of one cache shares: the tiers, loads and remote reads
 * in flight, counters, listeners and the lifecycle. The facade (`cache.ts`)
 * holds one and a key prefix.
 */
export class CacheCore {
  readonly l1: MemoryStore
  readonly ownsL1: boolean
  /** The tiers below L1, or undefined for a memory-only cache (whose paths then never await). */
  readonly remote: RemoteTiers | undefined
  readonly clock: Clock
  readonly defaults: WritePlan
  readonly flights = new Map<string, Flight<unknown>>()
  /** Remote reads in flight for `get`, so concurrent misses of one key share one read. */
  readonly reads = new Map<string, Flight<RemoteHit | undefined>>()
  readonly counters: Counters
  readonly events = new Emitter()
  readonly stopEvictions: () => void
  closed = false
  closing: Promise<void> | undefined

  constructor(options: CacheOptions, createCodec: CodecFactory) {
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
    let below: Store[] = []
    if (tiers === undefined) {
      this.l1 = clock === undefined ? memoryStore() : memoryStore({ clock })
      this.ownsL1 = true
    } else {
      const list: readonly unknown[] = Array.isArray(tiers) ? tiers : []
      if (list.length === 0 || !(list[0] instanceof MemoryStore)) {
        throw new InvalidArgumentError(
          'createCache: tiers must start with a memoryStore(...), then the remote stores, top first.',
        )
      }
      this.l1 = tiers[0]
      this.ownsL1 = false
      below = tiers.slice(1)
      for (const store of below) {
        if (store === null || typeof store !== 'object' || typeof store.get !== 'function') {
          throw new InvalidArgumentError('createCache: every tier after the first must be a Store.')
        }
      }
      if (clock !== undefined && clock !== this.l1.clock) {
        throw new InvalidArgumentError(
          'createCache: give the clock to memoryStore({ clock }) too, so that deadlines and reads use one time source.',
        )
      }
    }
    // Deadlines are computed with the memory tier's clock, the one its reads compare against.
    this.clock = this.l1.clock
    this.counters = new Counters([this.l1.name, ...below.map((store) => store.name)])
    // Made (and so validated) whenever an option asks for it, even before a remote
    // tier exists: a bad encryption key is refused at createCache, not at first use.
    const wantsCodec =
      below.length !== 0 ||
      options.serializer !== undefined ||
      options.compression !== undefined ||
      options.encryption !== undefined ||
      options.maxValueBytes !== undefined
    const codec = wantsCodec
      ? createCodec(options, (error, operation) => this.report(error, undefined, operation))
      : undefined
    this.remote =
      below.length === 0 || codec === undefined
        ? undefined
        : new RemoteTiers(below, codec, this.clock, (error, key, operation) =>
            this.report(error, key, operation),
          )
    this.stopEvictions = this.l1.onEvict((key, _value, reason) => {
      this.counters.evictions++
      if (this.events.has('evict')) this.events.emit('evict', { key, reason, tier: this.l1.name })
    })
  }

  expiry(ttl: number): number {
    return ttl === 0 ? 0 : this.clock.now() + ttl
  }

  /** Reports a failure that did not fail the call: an `error` event and a count. */
  report(error: unknown, key: string | undefined, operation: string): void {
    this.counters.errors++
    if (this.events.has('error')) {
      this.events.emit(
        'error',
        key === undefined ? { error, operation } : { error, key, operation },
      )
    }
  }

  /**
   * Writes a value to every tier, the authoritative one first, L1 last. Rejects
   * when the authoritative tier fails or the value cannot be encoded; L1 is then
   * left as it was.
   */
  async persist(key: string, value: unknown, plan: WritePlan): Promise<void> {
    const expiresAt = this.expiry(plan.ttl)
    if (this.remote !== undefined) {
      await this.remote.write(key, value, {
        expiresAt,
        graceUntil: 0,
        createdAt: this.clock.now(),
        tags: plan.tags,
      })
    }
    this.l1.write(key, value, expiresAt, plan.tags)
  }

  /**
   * Stores a load's result: the value in every tier, or a "not found" in L1 for
   * `negativeTtl`. A remote failure is reported, not thrown: the callers get the
   * value they asked for, and L1 keeps it.
   */
  async storeLoaded(key: string, value: unknown, plan: WritePlan): Promise<void> {
    if (value === undefined) {
      if (plan.negativeTtl !== 0) this.l1.write(key, NOT_FOUND, this.expiry(plan.negativeTtl))
      else this.l1.remove(key)
      return
    }
    try {
      await this.persist(key, value, plan)
    } catch (error) {
      this.report(error, key, 'set')
      this.l1.write(key, value, this.expiry(plan.ttl), plan.tags)
    }
  }

  /** Copies a remote hit into L1 with its remaining ttl (counters stay remote: other instances change them). */
  keepLocally(key: string, hit: RemoteHit): void {
    if (!hit.counter) this.l1.write(key, hit.value, hit.meta.expiresAt, hit.meta.tags)
  }

  /**
   * A remote read of `key` for `get`, shared by concurrent callers; the hit is
   * copied into L1 unless a write or delete of the key overtook the read.
   */
  readShared(key: string): Flight<RemoteHit | undefined> {
    let flight = this.reads.get(key)
    if (flight !== undefined) return flight
    const started = new Flight<RemoteHit | undefined>()
    flight = started
    this.reads.set(key, started)
    started.start(async () => {
      try {
        const hit = await this.remote!.read(key)
        if (hit !== undefined && !started.superseded) this.keepLocally(key, hit)
        return hit
      } finally {
        if (this.reads.get(key) === started) this.reads.delete(key)
      }
    })
    return started
  }

  /** A write or delete of `key` makes a load or read in progress stale: its result is returned, not stored. */
  supersede(key: string): void {
    const flight = this.flights.get(key)
    if (flight !== undefined) {
      flight.superseded = true
      this.flights.delete(key)
    }
    const read = this.reads.get(key)
    if (read !== undefined) {
      read.superseded = true
      this.reads.delete(key)
    }
  }

  /** A read answered by tier `tier` (0 = L1). The L1 case is the hot path: one increment and one flag. */
  hit(key: string, tier = 0): void {
    this.counters.hits++
    // L1's own hit count is derived (hits minus the remote tiers' hits): one increment less per hit.
    if (tier !== 0) this.counters.tierHits[tier]!++
    if (this.listening.hit) this.events.emit('hit', { key, tier: this.counters.tierNames[tier]! })
  }

  /** Which events have listeners, kept current by {@link CacheCore.listen}; read on every hit and miss. */
  readonly listening = { hit: false, miss: false }

  /** Refreshes {@link CacheCore.listening} after a listener was added or removed. */
  listen(): void {
    this.listening.hit = this.events.has('hit')
    this.listening.miss = this.events.has('miss')
  }

  /** A read that no tier could answer (L1 included). */
  miss(key: string): void {
    this.counters.tierMisses[0]!++
    this.missBelow(key)
  }

  /** A read that L1 could not answer, and that the remote tiers will decide. */
  localMiss(): void {
    this.counters.tierMisses[0]!++
  }

  /** After {@link CacheCore.localMiss}: no remote tier had the key either. */
  missBelow(key: string): void {
    this.remoteMisses(this.counters.tierNames.length)
    this.counters.misses++
    if (this.listening.miss) this.events.emit('miss', { key })
  }

  /** After {@link CacheCore.localMiss}: remote tier `tier` (1 = the first after L1) answered. */
  remoteHit(key: string, tier: number): void {
    this.remoteMisses(tier)
    this.hit(key, tier)
  }

  /** Remote tiers that missed before tier `tier` answered (or all of them, for `tier` = their count + 1). */
  remoteMisses(until: number): void {
    for (let tier = 1; tier < until; tier++) this.counters.tierMisses[tier]!++
  }
}
