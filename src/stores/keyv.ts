/**
 * `keyvStore`: any Keyv (v5) instance as a tier, so every Keyv adapter (`@keyv/redis`,
 * `@keyv/postgres`, `@keyv/mongo`, …) can sit behind the L1.
 *
 * Keyv offers get/set/delete/clear and, for some adapters, an iterator. It has no atomic
 * add, increment or take, so this store implements them as read-then-write steps
 * serialized per key **within this process only**: two processes sharing one Keyv
 * backend can both win an `add`, lose an increment, or both `take` a value. The `Store`
 * contract asks for server-side atomicity and has no capability flag to declare its
 * absence; use a native driver (`redisStore`, the SQL stores) where that matters.
 */
import type { Keyv } from 'keyv'
import type { Clock } from '../clock.js'
import { systemClock } from '../clock.js'
import {
  ClosedError,
  InvalidArgumentError,
  StoreUnavailableError,
  TierCacheError,
  UnsupportedOperationError,
  WrongTypeError,
} from '../errors.js'
import type {
  Store,
  StoreCapabilities,
  StoreEntryInfo,
  StoreListOptions,
  StoreListPage,
  StoreWrite,
} from './store.js'

/** Options of {@link keyvStore}. */
export interface KeyvStoreOptions {
  /**
   * The Keyv instance to store in. The store never disconnects it. It turns on
   * `keyv.throwOnErrors`, since Keyv otherwise reports a failed read as a miss, and
   * listens to its `'error'` events so none goes unhandled.
   */
  keyv: Keyv
  /**
   * Prepended to every key inside Keyv's namespace; `keys()` returns keys without it.
   * With the default `''` the store owns the whole Keyv instance, and `clear('')` is
   * `keyv.clear()`; with a prefix, `clear` deletes key by key through `keyv.iterator`.
   * @default ''
   */
  prefix?: string | undefined
  /**
   * Whether other processes see the same data (`capabilities.shared`).
   * @default false when Keyv's store is an in-process `Map`, true otherwise
   */
  shared?: boolean | undefined
  /**
   * The store's name in stats, events and errors.
   * @default 'keyv'
   */
  name?: string | undefined
  /** Time source for expiry checks (a `ManualClock` in tests). @default the system clock */
  clock?: Clock | undefined
}

/**
 * What the store writes as the Keyv value: plain JSON, which every Keyv serializer
 * round-trips (the default JSON serializer mangles Buffers, so bytes go as base64).
 * `k` is the full key, so listing never depends on Keyv's namespace unprefixing.
 */
interface Envelope {
  /** The full key (store prefix included). */
  k: string
  /** The value, base64. */
  v: string
  /** Absolute expiry in epoch ms, absent for none. */
  x?: number
}

/** How many keys `keys()` returns per page when the caller gives no `limit`. */
const DEFAULT_LIST_LIMIT = 1_000
/** The probe key `ready()` reads. */
const READY_PROBE = '__tiercache_ready__'

/**
 * A store on a Keyv instance. Values are stored as `{ k, v: base64, x: expiresAt }`
 * objects with the ttl passed on to `keyv.set`; reads also check `x`, so an entry is
 * never returned after its ttl even on adapters that expire lazily. `add`, `increment`
 * and `take` are atomic only within this process (see the module comment). `keys()`
 * and prefixed `clear()` need `keyv.iterator`; without it `capabilities.list` is false
 * and both reject with `UnsupportedOperationError`.
 *
 * @example
 * ```ts
 * import { Keyv } from 'keyv'
 * import { keyvStore } from 'tiercache/keyv'
 *
 * const store = keyvStore({ keyv: new Keyv(), prefix: 'app:' })
 * await store.set('k', new TextEncoder().encode('v'), 60_000)
 * ```
 */
export function keyvStore(options: KeyvStoreOptions): KeyvStore {
  return new KeyvStore(options)
}

/**
 * The class behind {@link keyvStore}; see there.
 *
 * @example
 * ```ts
 * const keyv = new Keyv()
 * const store = new KeyvStore({ keyv, prefix: 'app:' })
 * await store.close() // keyv stays usable
 * ```
 */
export class KeyvStore implements Store {
  readonly name: string
  readonly capabilities: StoreCapabilities
  /** The Keyv instance, for calls the `Store` contract does not cover. */
  readonly keyv: Keyv
  readonly #prefix: string
  readonly #clock: Clock
  readonly #locks = new Map<string, Promise<unknown>>()
  readonly #onError = (error: unknown): void => {
    this.#lastError = error
  }
  #lastError: unknown
  #closed = false

  constructor(options: KeyvStoreOptions) {
    const { keyv, prefix = '', name = 'keyv', clock = systemClock } = options ?? {}
    if (keyv === undefined || keyv === null || typeof keyv.get !== 'function') {
      throw new InvalidArgumentError('keyvStore: options.keyv must be a Keyv instance.')
    }
    if (typeof prefix !== 'string') {
      throw new InvalidArgumentError(`keyvStore: prefix must be a string, not ${typeof prefix}.`)
    }
    if (typeof name !== 'string' || name === '') {
      throw new InvalidArgumentError('keyvStore: name must be a non-empty string.')
    }
    this.keyv = keyv
    this.name = name
    this.#prefix = prefix
    this.#clock = clock
    const inProcess = keyv.store instanceof Map
    this.capabilities = Object.freeze({
      list: typeof keyv.iterator === 'function',
      ttlGranularity: 'ms',
      shared: options.shared ?? !inProcess,
    })
    // Without throwOnErrors Keyv turns a failed get into a miss and a failed set into `false`.
    keyv.throwOnErrors = true
    keyv.on('error', this.#onError)
  }

  /** {@inheritDoc Store.get} */
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.#run('get', async () => {
      const found = await this.#read(this.#key(key))
      return found === undefined ? undefined : decode(found.v)
    })
  }

  /** {@inheritDoc Store.getMany} */
  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    return this.#run('getMany', async () =>
      Promise.all(
        keys.map(async (key) => {
          const found = await this.#read(this.#key(key))
          return found === undefined ? undefined : decode(found.v)
        }),
      ),
    )
  }

  /** {@inheritDoc Store.set} */
  async set(key: string, value: Uint8Array, ttl?: number): Promise<void> {
    checkTtl(ttl)
    await this.#run('set', async () => {
      const k = this.#key(key)
      await this.#locked(k, () => this.#write(k, value, ttl))
    })
  }

  /** {@inheritDoc Store.setMany} */
  async setMany(entries: readonly StoreWrite[]): Promise<void> {
    for (const { ttl } of entries) checkTtl(ttl)
    await this.#run('setMany', async () => {
      await Promise.all(
        entries.map(({ key, value, ttl }) => {
          const k = this.#key(key)
          return this.#locked(k, () => this.#write(k, value, ttl))
        }),
      )
    })
  }

  /** {@inheritDoc Store.add} Atomic within this process only. */
  async add(key: string, value: Uint8Array, ttl?: number): Promise<boolean> {
    checkTtl(ttl)
    return this.#run('add', async () => {
      const k = this.#key(key)
      return this.#locked(k, async () => {
        if ((await this.#read(k)) !== undefined) return false
        await this.#write(k, value, ttl)
        return true
      })
    })
  }

  /** {@inheritDoc Store.delete} */
  async delete(key: string): Promise<boolean> {
    return this.#run('delete', async () => this.#deleteLive(this.#key(key)))
  }

  /** {@inheritDoc Store.deleteMany} */
  async deleteMany(keys: readonly string[]): Promise<number> {
    return this.#run('deleteMany', async () => {
      const unique = [...new Set(keys.map((key) => this.#key(key)))]
      const deleted = await Promise.all(unique.map((k) => this.#deleteLive(k)))
      return deleted.filter(Boolean).length
    })
  }

  /** {@inheritDoc Store.take} Atomic within this process only. */
  async take(key: string): Promise<Uint8Array | undefined> {
    return this.#run('take', async () => {
      const k = this.#key(key)
      return this.#locked(k, async () => {
        const found = await this.#read(k)
        if (found === undefined) return undefined
        await this.keyv.delete(k)
        return decode(found.v)
      })
    })
  }

  /** {@inheritDoc Store.increment} Atomic within this process only. */
  async increment(key: string, delta: number, ttl?: number): Promise<number> {
    if (!Number.isSafeInteger(delta)) {
      throw new InvalidArgumentError(
        `increment: delta must be a safe integer, not ${String(delta)}.`,
      )
    }
    checkTtl(ttl)
    return this.#run('increment', async () => {
      const k = this.#key(key)
      return this.#locked(k, async () => {
        const found = await this.#read(k)
        let current = 0
        if (found !== undefined) {
          const text = Buffer.from(found.v, 'base64').toString('latin1')
          if (!/^-?\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
            throw new WrongTypeError('increment: the value stored at the key is not an integer.')
          }
          current = Number(text)
        }
        const next = current + delta
        if (!Number.isSafeInteger(next)) {
          throw new InvalidArgumentError('increment: the result would overflow a safe integer.')
        }
        const bytes = new TextEncoder().encode(String(next))
        if (found === undefined) {
          await this.#write(k, bytes, ttl)
        } else if (found.x === undefined) {
          await this.#write(k, bytes, undefined)
        } else {
          // Keep the existing expiry: the ttl applies only when the call creates the key.
          await this.#write(k, bytes, Math.max(1, found.x - this.#clock.now()), found.x)
        }
        return next
      })
    })
  }

  /**
   * {@inheritDoc Store.clear} With no store prefix and `prefix` empty this is
   * `keyv.clear()`; otherwise it needs `keyv.iterator` and rejects with
   * `UnsupportedOperationError` without one.
   */
  async clear(prefix: string): Promise<void> {
    await this.#run('clear', async () => {
      const full = this.#prefix + prefix
      if (full === '') {
        await this.keyv.clear()
        return
      }
      const found = await this.#scan(full, false)
      await Promise.all(found.map(({ k }) => this.#locked(k, () => this.keyv.delete(k))))
    })
  }

  /**
   * {@inheritDoc Store.keys} Pages through the keys in sorted order; the cursor is the
   * last key of the previous page. Each page walks `keyv.iterator` in full.
   */
  async keys(options: StoreListOptions = {}): Promise<StoreListPage> {
    const { prefix = '', cursor, limit = DEFAULT_LIST_LIMIT } = options
    if (!(Number.isInteger(limit) && limit > 0)) {
      throw new InvalidArgumentError(
        `keys: limit must be a positive integer, not ${String(limit)}.`,
      )
    }
    let after: string | undefined
    if (cursor !== undefined) {
      after = decodeCursor(cursor)
    }
    return this.#run('keys', async () => {
      const found = (await this.#scan(this.#prefix + prefix, true))
        .filter((e) => after === undefined || e.k > after)
        .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
      const page = found.slice(0, limit)
      const entries: StoreEntryInfo[] = page.map((envelope) => ({
        key: envelope.k.slice(this.#prefix.length),
        size: Buffer.byteLength(envelope.v, 'base64'),
        ...(envelope.x === undefined ? {} : { expiresAt: envelope.x }),
      }))
      const pageKeys = page.map((e) => e.k)
      const last = pageKeys.at(-1)
      return found.length > limit && last !== undefined
        ? { entries, cursor: Buffer.from(last, 'utf8').toString('base64url') }
        : { entries }
    })
  }

  /** {@inheritDoc Store.ready} Reads a probe key, so a failing backend rejects here. */
  async ready(): Promise<void> {
    await this.#run('ready', async () => {
      await this.keyv.get(this.#prefix + READY_PROBE)
    })
  }

  /** {@inheritDoc Store.close} Leaves the Keyv instance open. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.keyv.off('error', this.#onError)
  }

  // ---------------------------------------------------------------------------

  /** Every live entry whose full key starts with `full`, through `keyv.iterator`. */
  async #scan(full: string, forList: boolean): Promise<Envelope[]> {
    const iterator = this.keyv.iterator
    if (typeof iterator !== 'function') {
      throw new UnsupportedOperationError(
        forList
          ? `keyvStore: keys() needs a Keyv adapter with an iterator (capabilities.list is false).`
          : `keyvStore: clear('${full}') needs a Keyv adapter with an iterator; without one only clear('') on a store with no prefix (keyv.clear()) is supported.`,
      )
    }
    const now = this.#clock.now()
    const found: Envelope[] = []
    const generator = iterator.call(this.keyv, undefined) as AsyncIterable<unknown>
    for await (const item of generator) {
      if (!Array.isArray(item)) continue
      const envelope: unknown = item[1]
      if (!isEnvelope(envelope) || !envelope.k.startsWith(full)) continue
      if (!envelope.k.startsWith(this.#prefix)) continue
      if (envelope.x !== undefined && envelope.x <= now) continue
      found.push(envelope)
    }
    return found
  }

  /** The live envelope at full key `k`, or `undefined`. */
  async #read(k: string): Promise<Envelope | undefined> {
    const raw: unknown = await this.keyv.get(k)
    if (!isEnvelope(raw) || raw.k !== k) return undefined
    if (raw.x !== undefined && raw.x <= this.#clock.now()) return undefined
    return raw
  }

  async #write(k: string, value: Uint8Array, ttl: number | undefined, x?: number): Promise<void> {
    const ms = ttl === undefined ? undefined : Math.max(1, Math.ceil(ttl))
    const envelope: Envelope = { k, v: encode(value) }
    if (ms !== undefined) envelope.x = x ?? this.#clock.now() + ms
    const ok = await this.keyv.set(k, envelope, ms)
    if (!ok) throw new Error(`keyv.set('${k}') returned false`)
  }

  async #deleteLive(k: string): Promise<boolean> {
    return this.#locked(k, async () => {
      const live = (await this.#read(k)) !== undefined
      if (live) await this.keyv.delete(k)
      return live
    })
  }

  /** Runs `fn` after every earlier call on the same key in this process has settled. */
  async #locked<T>(k: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(k) ?? Promise.resolve()
    const result = previous.then(fn, fn)
    const tail = result.then(
      () => undefined,
      () => undefined,
    )
    this.#locks.set(k, tail)
    void tail.then(() => {
      if (this.#locks.get(k) === tail) this.#locks.delete(k)
    })
    return result
  }

  async #run<T>(op: string, call: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new ClosedError(`${this.name} store`)
    this.#lastError = undefined
    try {
      return await call()
    } catch (error) {
      if (error instanceof TierCacheError) throw error
      const message = describe(error)
      const last = this.#lastError
      const extra =
        last !== undefined && last !== error ? ` (Keyv error event: ${describe(last)})` : ''
      throw new StoreUnavailableError(
        this.name,
        `Keyv ${op} failed: ${message}${extra}. Check the Keyv adapter's backend.`,
        { cause: error },
      )
    }
  }

  #key(key: string): string {
    return this.#prefix + key
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? typeof error)
}

function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false
  const { k, v, x } = value as { k?: unknown; v?: unknown; x?: unknown }
  return (
    typeof k === 'string' && typeof v === 'string' && (x === undefined || typeof x === 'number')
  )
}

function encode(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
}

function decode(base64: string): Uint8Array {
  return new Uint8Array(Buffer.from(base64, 'base64'))
}

function checkTtl(ttl: number | undefined): void {
  if (ttl === undefined) return
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) {
    throw new InvalidArgumentError(
      `ttl must be a positive number of milliseconds, not ${String(ttl)}.`,
    )
  }
}

function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(cursor)) {
    throw new InvalidArgumentError(
      `keys: cursor must be one returned by a previous keys() page, not ${JSON.stringify(cursor)}.`,
    )
  }
  return Buffer.from(cursor, 'base64url').toString('utf8')
}
