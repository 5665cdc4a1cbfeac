import type { Clock } from '../clock.js'
import { StoreUnavailableError, TierCacheError } from '../errors.js'
import type { Store, StoreWrite } from '../stores/store.js'

/** What the envelope carries besides the value (see `src/codec/envelope.ts`). */
export interface EntryMeta {
  /** Absolute expiry in epoch ms; 0 when the entry never expires. */
  readonly expiresAt: number
  /** Until when an expired value may still be served as stale; 0 for none. */
  readonly graceUntil: number
  /** When the value was written, epoch ms. */
  readonly createdAt: number
  readonly tags?: readonly string[] | undefined
}

/** Turns values into envelope bytes and back; the engine's view of `src/codec/`. */
export interface ValueCodec {
  /** Throws `SerializationError` or `ValueTooLargeError`; nothing is written then. */
  encode(storageKey: string, value: unknown, meta: EntryMeta): Uint8Array
  /** Throws `SerializationError`, `DecryptionError` or `ValueTooLargeError` for bytes it cannot trust. */
  decode(storageKey: string, bytes: Uint8Array): { value: unknown; meta: EntryMeta }
}

/** A value found in a remote tier. */
export interface RemoteHit {
  readonly value: unknown
  readonly meta: EntryMeta
  /** Index of the remote tier that answered (0 = the first after L1). */
  readonly tier: number
  /** A counter kept as decimal text by `increment`: never copied into L1. */
  readonly counter: boolean
}

/** Reports a failure that did not fail the call (the cache turns it into an `error` event). */
export type FailureReporter = (error: unknown, key: string | undefined, operation: string) => void

const DECIMAL = /^(?:0|-?[1-9]\d{0,15})$/
const textDecoder = new TextDecoder()

/**
 * The remote tiers of a cache, top first: reads walk down and backfill the tiers
 * above the one that answered with the remaining ttl; writes go to the last
 * (authoritative) tier first, then upward. Bytes are envelopes made by the
 * codec, except counters, which `increment` keeps as decimal text so that the
 * store's atomic increment works on them.
 *
 * Failure rules: a tier that fails or holds bytes that cannot be trusted during
 * a read is reported and treated as a miss for that tier (a corrupt entry is
 * also deleted from it); a failed write to the authoritative tier rejects the
 * call, a failed write to an upper tier is reported.
 */
export class RemoteTiers {
  readonly stores: readonly Store[]
  readonly #codec: ValueCodec
  readonly #clock: Clock
  readonly #report: FailureReporter

  constructor(stores: readonly Store[], codec: ValueCodec, clock: Clock, report: FailureReporter) {
    this.stores = stores
    this.#codec = codec
    this.#clock = clock
    this.#report = report
  }

  /** The first live value down the tiers, backfilling the tiers above it. */
  async read(key: string): Promise<RemoteHit | undefined> {
    const stores = this.stores
    for (let tier = 0; tier < stores.length; tier++) {
      let bytes: Uint8Array | undefined
      try {
        bytes = await stores[tier]!.get(key)
      } catch (error) {
        this.#report(asStoreError(stores[tier]!, error), key, 'get')
        continue
      }
      if (bytes === undefined) continue
      const hit = this.#open(tier, key, bytes)
      if (hit === undefined) continue
      if (tier > 0 && !hit.counter) await this.#backfill(key, hit, tier)
      return hit
    }
    return undefined
  }

  /** {@link RemoteTiers.read} for many keys: one `getMany` per tier, for the keys still missing. */
  async readMany(keys: readonly string[]): Promise<Array<RemoteHit | undefined>> {
    const hits = new Array<RemoteHit | undefined>(keys.length).fill(undefined)
    let missing = keys.map((_, i) => i)
    for (let tier = 0; tier < this.stores.length && missing.length !== 0; tier++) {
      const store = this.stores[tier]!
      let found: Array<Uint8Array | undefined>
      try {
        found = await store.getMany(missing.map((i) => keys[i]!))
      } catch (error) {
        this.#report(asStoreError(store, error), undefined, 'getMany')
        continue
      }
      const still: number[] = []
      const backfills: Array<Promise<void>> = []
      for (let j = 0; j < missing.length; j++) {
        const i = missing[j]!
        const bytes = found[j]
        const hit = bytes === undefined ? undefined : this.#open(tier, keys[i]!, bytes)
        if (hit === undefined) {
          still.push(i)
          continue
        }
        hits[i] = hit
        if (tier > 0 && !hit.counter) backfills.push(this.#backfill(keys[i]!, hit, tier))
      }
      await Promise.all(backfills)
      missing = still
    }
    return hits
  }

  /**
   * Writes `value` to every tier, the authoritative one first. Encoding errors
   * (`SerializationError`, `ValueTooLargeError`) throw before any tier is touched.
   */
  async write(key: string, value: unknown, meta: EntryMeta): Promise<void> {
    const bytes = this.#codec.encode(key, value, meta)
    const ttl = this.#storeTtl(meta)
    if (ttl === -1) {
      await this.delete(key)
      return
    }
    await this.#writeDown(key, bytes, ttl)
  }

  /** Writes many entries: every one is encoded before any tier is touched, then one `setMany` per tier. */
  async writeMany(
    entries: ReadonlyArray<{ key: string; value: unknown; meta: EntryMeta }>,
  ): Promise<void> {
    const writes: StoreWrite[] = []
    for (const { key, value, meta } of entries) {
      const ttl = this.#storeTtl(meta)
      if (ttl === -1) continue
      writes.push({
        key,
        value: this.#codec.encode(key, value, meta),
        ttl: ttl === 0 ? undefined : ttl,
      })
    }
    if (writes.length === 0) return
    const last = this.stores.length - 1
    await this.#call(last, 'setMany', undefined, (store) => store.setMany(writes))
    await Promise.all(
      this.stores
        .slice(0, last)
        .map((store, tier) =>
          this.#call(tier, 'setMany', undefined, (s) => s.setMany(writes)).catch((error: unknown) =>
            this.#report(error, undefined, 'setMany'),
          ),
        ),
    )
  }

  /** Stores only if the authoritative tier has no value; then copies upward. */
  async add(key: string, value: unknown, meta: EntryMeta): Promise<boolean> {
    const bytes = this.#codec.encode(key, value, meta)
    const ttl = this.#storeTtl(meta)
    if (ttl === -1) return false
    const last = this.stores.length - 1
    const added = await this.#call(last, 'add', key, (store) =>
      store.add(key, bytes, ttl === 0 ? undefined : ttl),
    )
    if (added) await this.#copyUp(key, bytes, ttl, last)
    return added
  }

  /** Deletes from every tier; `true` when any held the key. */
  async delete(key: string): Promise<boolean> {
    const results = await Promise.all(
      this.stores.map((store, tier) => this.#call(tier, 'delete', key, (s) => s.delete(key))),
    )
    return results.includes(true)
  }

  /** Deletes many keys from every tier; the count is the authoritative tier's. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    const counts = await Promise.all(
      this.stores.map((_, tier) =>
        this.#call(tier, 'deleteMany', undefined, (s) => s.deleteMany(keys)),
      ),
    )
    return counts[counts.length - 1]!
  }

  /** Takes the value from the authoritative tier atomically and deletes the copies above. */
  async take(key: string): Promise<RemoteHit | undefined> {
    const last = this.stores.length - 1
    const bytes = await this.#call(last, 'take', key, (store) => store.take(key))
    await Promise.all(
      this.stores
        .slice(0, last)
        .map((_, tier) => this.#call(tier, 'delete', key, (s) => s.delete(key))),
    )
    return bytes === undefined ? undefined : this.#open(last, key, bytes)
  }

  /** Increments the counter in the authoritative tier; the tiers above drop their copy. */
  async increment(key: string, delta: number, ttl: number): Promise<number> {
    const last = this.stores.length - 1
    const value = await this.#call(last, 'increment', key, (store) =>
      store.increment(key, delta, ttl === 0 ? undefined : ttl),
    )
    await Promise.all(
      this.stores
        .slice(0, last)
        .map((_, tier) => this.#call(tier, 'delete', key, (s) => s.delete(key))),
    )
    return value
  }

  /** Deletes every key with `prefix` in every tier. */
  async clear(prefix: string): Promise<void> {
    await Promise.all(
      this.stores.map((_, tier) => this.#call(tier, 'clear', undefined, (s) => s.clear(prefix))),
    )
  }

  /** Resolves when every tier is ready. */
  async ready(): Promise<void> {
    await Promise.all(
      this.stores.map((_, tier) => this.#call(tier, 'ready', undefined, (s) => s.ready())),
    )
  }

  // ---------------------------------------------------------------------------

  /** Decodes a tier's bytes; a corrupt entry is reported, deleted from that tier, and a miss. */
  #open(tier: number, key: string, bytes: Uint8Array): RemoteHit | undefined {
    if (bytes.byteLength <= 17 && bytes.byteLength > 0 && bytes[0]! <= 0x39) {
      const text = textDecoder.decode(bytes)
      if (DECIMAL.test(text)) {
        return { value: Number(text), meta: NO_META, tier, counter: true }
      }
    }
    let opened: { value: unknown; meta: EntryMeta }
    try {
      opened = this.#codec.decode(key, bytes)
    } catch (error) {
      this.#report(error, key, 'decode')
      const store = this.stores[tier]!
      store
        .delete(key)
        .catch((deleteError: unknown) =>
          this.#report(asStoreError(store, deleteError), key, 'delete'),
        )
      return undefined
    }
    const { expiresAt } = opened.meta
    if (expiresAt !== 0 && expiresAt <= this.#clock.now()) return undefined
    return { value: opened.value, meta: opened.meta, tier, counter: false }
  }

  /** Copies a hit into the tiers above the one that answered, with the remaining ttl. */
  async #backfill(key: string, hit: RemoteHit, tier: number): Promise<void> {
    const ttl = this.#storeTtl(hit.meta)
    if (ttl === -1) return
    let bytes: Uint8Array
    try {
      bytes = this.#codec.encode(key, hit.value, hit.meta)
    } catch (error) {
      this.#report(error, key, 'backfill')
      return
    }
    await this.#copyUp(key, bytes, ttl, tier)
  }

  async #copyUp(key: string, bytes: Uint8Array, ttl: number, below: number): Promise<void> {
    await Promise.all(
      this.stores
        .slice(0, below)
        .map((store, tier) =>
          this.#call(tier, 'set', key, (s) => s.set(key, bytes, ttl === 0 ? undefined : ttl)).catch(
            (error: unknown) => this.#report(error, key, 'set'),
          ),
        ),
    )
  }

  async #writeDown(key: string, bytes: Uint8Array, ttl: number): Promise<void> {
    const last = this.stores.length - 1
    await this.#call(last, 'set', key, (store) =>
      store.set(key, bytes, ttl === 0 ? undefined : ttl),
    )
    await this.#copyUp(key, bytes, ttl, last)
  }

  /**
   * How long a store keeps an entry: until its grace deadline, else its expiry;
   * 0 for no expiry, -1 when the entry is already gone.
   */
  #storeTtl(meta: EntryMeta): number {
    const until = Math.max(meta.expiresAt, meta.graceUntil)
    if (until === 0) return 0
    const ttl = until - this.#clock.now()
    return ttl > 0 ? ttl : -1
  }

  /** Runs one store call, turning a raw client failure into `StoreUnavailableError`. */
  async #call<R>(
    tier: number,
    operation: string,
    key: string | undefined,
    run: (store: Store) => Promise<R>,
  ): Promise<R> {
    const store = this.stores[tier]!
    try {
      return await run(store)
    } catch (error) {
      throw asStoreError(store, error, operation, key)
    }
  }
}

const NO_META: EntryMeta = Object.freeze({ expiresAt: 0, graceUntil: 0, createdAt: 0 })

function asStoreError(store: Store, error: unknown, operation = 'get', key?: string): unknown {
  if (error instanceof TierCacheError) return error
  return new StoreUnavailableError(
    store.name,
    `The ${store.name} tier failed during ${operation}${key === undefined ? '' : ` of '${key}'`}: ${
      error instanceof Error ? error.message : String(error)
    }`,
    { cause: error },
  )
}
