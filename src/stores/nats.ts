/**
 * `natsStore`: a `Store` on a NATS JetStream key-value bucket through nats.js (v2).
 *
 * NATS KV before server 2.11 has no per-key ttl, so expiry lives in the stored bytes:
 * every value is an 8-byte big-endian float64 `expiresAt` (epoch ms, 0 = never) followed
 * by the caller's bytes. Reads treat an expired entry as a miss and delete it lazily; a
 * background sweep (and every `clear`/`keys` walk) prunes the rest.
 *
 * KV keys allow only `[-/_=.a-zA-Z0-9]`, and `.` separates subject tokens, so a key is
 * stored as two tokens, `t<base64url(prefix)>.t<base64url(key)>`: reversible, free of
 * wildcards (`*`, `>`) and separators, and it lets the server filter one store's keys.
 *
 * The atomic primitives are compare-and-swap on the KV revision: `add` is `create`,
 * `increment` a read + `update(revision)` loop, `take` and `delete` a read + delete
 * with `previousSeq`.
 */
import { connect } from 'nats'
import type { KV, NatsConnection } from 'nats'
import {
  ClosedError,
  InvalidArgumentError,
  StoreUnavailableError,
  TierCacheError,
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

/** Options of {@link natsStore}. Give `url` or `connection`, not both. */
export interface NatsStoreOptions {
  /**
   * A `nats://` server URL (or a comma-separated list); the store opens its own
   * connection and drains it in `close()`.
   * @default 'nats://127.0.0.1:4222' when `connection` is absent too
   */
  url?: string | undefined
  /** An open nats.js connection to use instead. The store never closes it. */
  connection?: NatsConnection | undefined
  /**
   * The JetStream KV bucket; created (history 1) when missing.
   * @default 'tiercache'
   */
  bucket?: string | undefined
  /**
   * Scopes every key; `keys()` returns keys without it. Stores with different
   * prefixes never see each other's keys.
   * @default ''
   */
  prefix?: string | undefined
  /**
   * How long the store waits for its own connection to open, in milliseconds.
   * @default 5000
   */
  connectTimeout?: number | undefined
  /**
   * Milliseconds between background sweeps that delete this prefix's expired entries;
   * `0` turns the sweep off (expired entries are still never returned, and are deleted
   * when read or walked by `clear`/`keys`).
   * @default 60000
   */
  sweepInterval?: number | undefined
  /**
   * The store's name in stats, events and errors.
   * @default 'nats'
   */
  name?: string | undefined
}

const CAPABILITIES: StoreCapabilities = Object.freeze({
  list: true,
  ttlGranularity: 'ms',
  shared: true,
})

const DEFAULT_URL = 'nats://127.0.0.1:4222'
const DEFAULT_BUCKET = 'tiercache'
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000
const DEFAULT_SWEEP_INTERVAL_MS = 60_000
/** How long `close()` waits for `drain()` before closing the connection outright. */
const DRAIN_TIMEOUT_MS = 2_000
/** Bytes of the expiry header in front of every value. */
const HEADER_BYTES = 8
/** Compare-and-swap attempts before a contended call gives up. */
const MAX_CAS_ATTEMPTS = 1_000
/** Entries read at once while walking keys. */
const WALK_BATCH = 100
/** `limit` of `keys()` when the caller gives none. */
const DEFAULT_LIST_LIMIT = 1_000
/** JetStream's "wrong last sequence" API error: a compare-and-swap lost. */
const WRONG_LAST_SEQUENCE = 10071

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: false })

/** A live or expired entry as read from the bucket. */
interface Slot {
  readonly revision: number
  /** Epoch ms; 0 for never. */
  readonly expiresAt: number
  readonly value: Uint8Array
}

/**
 * A store on a NATS JetStream key-value bucket (nats-server ≥ 2.9 with JetStream).
 * Values carry their own expiry, so any server version works; `ttlGranularity` is
 * `'ms'`. Values are limited by the server's `max_payload` (1 MiB by default) minus
 * a few bytes of header.
 *
 * @example
 * ```ts
 * import { natsStore } from 'tiercache/nats'
 * const store = natsStore({ url: 'nats://127.0.0.1:4222', bucket: 'cache', prefix: 'app:' })
 * await store.set('k', new TextEncoder().encode('v'), 60_000)
 * await store.close()
 * ```
 */
export function natsStore(options: NatsStoreOptions = {}): NatsStore {
  return new NatsStore(options)
}

/**
 * The class behind {@link natsStore}; see there.
 *
 * @example
 * ```ts
 * import { connect } from 'nats'
 * const nc = await connect({ servers: 'nats://127.0.0.1:4222' })
 * const store = new NatsStore({ connection: nc, prefix: 'app:' })
 * await store.close() // nc stays open
 * ```
 */
export class NatsStore implements Store {
  readonly name: string
  readonly capabilities = CAPABILITIES
  /** The KV bucket's name. */
  readonly bucket: string
  /** The first token of every subject this store writes: `t<base64url(prefix)>`. */
  readonly #prefixToken: string
  readonly #url: string
  readonly #given: NatsConnection | undefined
  readonly #connectTimeout: number
  #own: NatsConnection | undefined
  #opening: Promise<{ nc: NatsConnection; kv: KV }> | undefined
  #closing: Promise<void> | undefined
  #sweepTimer: NodeJS.Timeout | undefined
  #sweeping = false

  constructor(options: NatsStoreOptions = {}) {
    const {
      url,
      connection,
      bucket = DEFAULT_BUCKET,
      prefix = '',
      connectTimeout = DEFAULT_CONNECT_TIMEOUT_MS,
      sweepInterval = DEFAULT_SWEEP_INTERVAL_MS,
      name = 'nats',
    } = options
    if (url !== undefined && connection !== undefined) {
      throw new InvalidArgumentError('natsStore: give either url or connection, not both.')
    }
    if (typeof prefix !== 'string') {
      throw new InvalidArgumentError(`natsStore: prefix must be a string, not ${typeof prefix}.`)
    }
    if (typeof bucket !== 'string' || !/^[-\w]+$/.test(bucket)) {
      throw new InvalidArgumentError(
        `natsStore: bucket must be a non-empty name of letters, digits, '-' and '_', not ${JSON.stringify(bucket)}.`,
      )
    }
    if (typeof name !== 'string' || name === '') {
      throw new InvalidArgumentError('natsStore: name must be a non-empty string.')
    }
    if (!(typeof connectTimeout === 'number' && connectTimeout > 0)) {
      throw new InvalidArgumentError(
        `natsStore: connectTimeout must be a positive number of milliseconds, not ${String(connectTimeout)}.`,
      )
    }
    if (!(typeof sweepInterval === 'number' && sweepInterval >= 0)) {
      throw new InvalidArgumentError(
        `natsStore: sweepInterval must be 0 or a positive number of milliseconds, not ${String(sweepInterval)}.`,
      )
    }
    this.name = name
    this.bucket = bucket
    this.#prefixToken = encodeToken(prefix)
    this.#url = url ?? DEFAULT_URL
    this.#given = connection
    this.#connectTimeout = connectTimeout
    if (sweepInterval > 0) {
      this.#sweepTimer = setInterval(() => void this.#sweep(), sweepInterval)
      this.#sweepTimer.unref()
    }
  }

  /** {@inheritDoc Store.get} */
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.#run('get', async (kv) => (await this.#read(kv, key))?.value)
  }

  /** {@inheritDoc Store.getMany} */
  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    return this.#run('getMany', async (kv) =>
      Promise.all(keys.map(async (key) => (await this.#read(kv, key))?.value)),
    )
  }

  /** {@inheritDoc Store.set} */
  async set(key: string, value: Uint8Array, ttl?: number): Promise<void> {
    const expiresAt = toExpiresAt(ttl)
    await this.#run('set', async (kv) => {
      await kv.put(this.#subjectKey(key), pack(expiresAt, value))
    })
  }

  /** {@inheritDoc Store.setMany} */
  async setMany(entries: readonly StoreWrite[]): Promise<void> {
    const writes = entries.map(({ key, value, ttl }) => ({
      key: this.#subjectKey(key),
      data: pack(toExpiresAt(ttl), value),
    }))
    await this.#run('setMany', async (kv) => {
      await Promise.all(writes.map(({ key, data }) => kv.put(key, data)))
    })
  }

  /** {@inheritDoc Store.add} */
  async add(key: string, value: Uint8Array, ttl?: number): Promise<boolean> {
    const expiresAt = toExpiresAt(ttl)
    return this.#run('add', async (kv) => {
      const k = this.#subjectKey(key)
      const data = pack(expiresAt, value)
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        try {
          // create() also takes over a key whose last record is a delete marker.
          await kv.create(k, data)
          return true
        } catch (error) {
          if (!lostRace(error)) throw error
        }
        const slot = await readSlot(kv, k)
        if (slot === undefined) continue // deleted meanwhile: create again
        if (!isExpired(slot)) return false
        try {
          // Only the adder that saw this very revision of the expired entry can win.
          await kv.update(k, data, slot.revision)
          return true
        } catch (error) {
          if (!lostRace(error)) throw error
        }
      }
      throw contended('add', key)
    })
  }

  /** {@inheritDoc Store.delete} */
  async delete(key: string): Promise<boolean> {
    return this.#run('delete', async (kv) => (await this.#take(kv, key)) !== undefined)
  }

  /** {@inheritDoc Store.deleteMany} */
  async deleteMany(keys: readonly string[]): Promise<number> {
    return this.#run('deleteMany', async (kv) => {
      const taken = await Promise.all(keys.map((key) => this.#take(kv, key)))
      return taken.filter((value) => value !== undefined).length
    })
  }

  /** {@inheritDoc Store.take} */
  async take(key: string): Promise<Uint8Array | undefined> {
    return this.#run('take', async (kv) => this.#take(kv, key))
  }

  /** {@inheritDoc Store.increment} */
  async increment(key: string, delta: number, ttl?: number): Promise<number> {
    if (!Number.isSafeInteger(delta)) {
      throw new InvalidArgumentError(
        `increment: delta must be a safe integer, not ${String(delta)}.`,
      )
    }
    const expiresAt = toExpiresAt(ttl)
    return this.#run('increment', async (kv) => {
      const k = this.#subjectKey(key)
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        const slot = await readSlot(kv, k)
        try {
          if (slot === undefined) {
            await kv.create(k, pack(expiresAt, counterBytes(delta)))
            return delta
          }
          if (isExpired(slot)) {
            await kv.update(k, pack(expiresAt, counterBytes(delta)), slot.revision)
            return delta
          }
          const current = parseCounter(slot.value)
          const next = current + delta
          if (!Number.isSafeInteger(next)) {
            throw new InvalidArgumentError(
              'increment: the result would leave the safe integer range (±2^53).',
            )
          }
          await kv.update(k, pack(slot.expiresAt, counterBytes(next)), slot.revision)
          return next
        } catch (error) {
          if (!lostRace(error)) throw error
        }
      }
      throw contended('increment', key)
    })
  }

  /** {@inheritDoc Store.clear} */
  async clear(prefix: string): Promise<void> {
    if (typeof prefix !== 'string') {
      throw new InvalidArgumentError(`clear: prefix must be a string, not ${typeof prefix}.`)
    }
    await this.#run('clear', async (kv, nc) => {
      if (prefix === '') {
        // The whole store: one purge of its subjects, which leaves no delete markers behind.
        const jsm = await nc.jetstreamManager()
        await jsm.streams.purge(`KV_${this.bucket}`, {
          filter: `$KV.${this.bucket}.${this.#prefixToken}.*`,
        })
        return
      }
      const keys = (await this.#listKeys(kv)).filter((key) => key.startsWith(prefix))
      for (let i = 0; i < keys.length; i += WALK_BATCH) {
        await Promise.all(
          keys.slice(i, i + WALK_BATCH).map((key) => kv.delete(this.#subjectKey(key))),
        )
      }
    })
  }

  /**
   * {@inheritDoc Store.keys}
   *
   * NATS lists keys in no useful order, so every page walks this store's key names
   * (names only, not values), sorts them, and reads the values of the page's keys; the
   * cursor is the last key returned. A page costs one walk of the store's names.
   */
  async keys(options: StoreListOptions = {}): Promise<StoreListPage> {
    const { prefix = '', cursor, limit } = options
    if (typeof prefix !== 'string') {
      throw new InvalidArgumentError(`keys: prefix must be a string, not ${typeof prefix}.`)
    }
    if (cursor !== undefined && typeof cursor !== 'string') {
      throw new InvalidArgumentError('keys: cursor must be one returned by a previous keys() page.')
    }
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      throw new InvalidArgumentError(
        `keys: limit must be a positive integer, not ${String(limit)}.`,
      )
    }
    return this.#run('keys', async (kv) => {
      // The cursor is the last key of the previous page: keys sort the same way on every
      // call, so an entry present for the whole iteration comes up exactly once.
      const all = (await this.#listKeys(kv))
        .filter((key) => key.startsWith(prefix) && (cursor === undefined || key > cursor))
        .sort(compareCodeUnits)
      const page = all.slice(0, limit ?? DEFAULT_LIST_LIMIT)
      const slots = await Promise.all(page.map((key) => this.#read(kv, key)))
      const entries: StoreEntryInfo[] = []
      for (const [i, slot] of slots.entries()) {
        if (slot === undefined) continue // deleted or expired since the listing
        entries.push({
          key: page[i]!,
          size: slot.value.length,
          ...(slot.expiresAt > 0 ? { expiresAt: slot.expiresAt } : {}),
        })
      }
      return page.length < all.length ? { entries, cursor: page[page.length - 1]! } : { entries }
    })
  }

  /** {@inheritDoc Store.ready} */
  async ready(): Promise<void> {
    await this.#run('ready', async () => {})
  }

  /** {@inheritDoc Store.close} */
  async close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  // ---------------------------------------------------------------------------

  async #shutdown(): Promise<void> {
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer)
    this.#sweepTimer = undefined
    if (this.#given !== undefined) return
    // A connect still under way ends by itself (bounded by connectTimeout); wait for it
    // so that a connection opened just now is drained too.
    await this.#opening?.catch(() => undefined)
    const nc = this.#own
    if (nc === undefined || nc.isClosed()) return
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), DRAIN_TIMEOUT_MS)
    })
    try {
      const outcome = await Promise.race([nc.drain().then(() => 'drained' as const), timedOut])
      if (outcome === 'drained') return
    } catch {
      // Draining failed (connection already broken): closing below is all that is left.
    } finally {
      clearTimeout(timer)
    }
    await nc.close().catch(() => undefined)
  }

  async #run<T>(op: string, call: (kv: KV, nc: NatsConnection) => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) throw new ClosedError(`${this.name} store`)
    try {
      const { kv, nc } = await this.#open()
      return await call(kv, nc)
    } catch (error) {
      throw this.#translate(op, error)
    }
  }

  /** The connection and bucket, opened once; a failed attempt is retried by the next call. */
  async #open(): Promise<{ nc: NatsConnection; kv: KV }> {
    this.#opening ??= this.#connect()
    const opening = this.#opening
    try {
      return await opening
    } catch (error) {
      if (this.#opening === opening) this.#opening = undefined
      throw error
    }
  }

  async #connect(): Promise<{ nc: NatsConnection; kv: KV }> {
    let nc = this.#given
    if (nc === undefined) {
      const connecting = connect({
        servers: this.#url.split(','),
        timeout: this.#connectTimeout,
      })
      // Given up on below, a connection that opens late must not stay open unowned.
      nc = await withTimeout(
        connecting,
        this.#connectTimeout + 1_000,
        `no connection to ${this.#url} within ${this.#connectTimeout} ms`,
        (late) => void late.close().catch(() => undefined),
      )
      this.#own = nc
      if (this.#closing !== undefined) {
        // close() was called while connecting: it awaits this attempt, then drains nc.
        throw new ClosedError(`${this.name} store`)
      }
    }
    const js = nc.jetstream()
    let kv: KV
    try {
      kv = await js.views.kv(this.bucket, { history: 1 })
    } catch (error) {
      // A bucket created elsewhere with other settings (a size limit, replicas) is used as is.
      if (!(error instanceof Error && /already in use/i.test(error.message))) throw error
      kv = await js.views.kv(this.bucket, { bindOnly: true })
    }
    return { nc, kv }
  }

  #translate(op: string, error: unknown): Error {
    if (error instanceof TierCacheError) return error
    const message = error instanceof Error ? error.message : String(error)
    return new StoreUnavailableError(
      this.name,
      `NATS ${op} failed: ${message}. Check that nats-server (with JetStream) is up and reachable at ${this.#given === undefined ? this.#url : 'the connection passed in'}.`,
      { cause: error },
    )
  }

  /** The KV key of `key`: two tokens, both base64url behind a `t` so neither is empty. */
  #subjectKey(key: string): string {
    return `${this.#prefixToken}.${encodeToken(key)}`
  }

  /** A live entry, or `undefined`; an expired one is deleted on the way (if unchanged). */
  async #read(kv: KV, key: string): Promise<Slot | undefined> {
    const k = this.#subjectKey(key)
    const slot = await readSlot(kv, k)
    if (slot === undefined) return undefined
    if (isExpired(slot)) {
      void kv.delete(k, { previousSeq: slot.revision }).catch(() => undefined)
      return undefined
    }
    return slot
  }

  /** Gets and deletes one live entry; of concurrent takers exactly one gets it. */
  async #take(kv: KV, key: string): Promise<Uint8Array | undefined> {
    const k = this.#subjectKey(key)
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const slot = await readSlot(kv, k)
      if (slot === undefined) return undefined
      try {
        await kv.delete(k, { previousSeq: slot.revision })
        return isExpired(slot) ? undefined : slot.value
      } catch (error) {
        if (!lostRace(error)) throw error
      }
    }
    throw contended('take', key)
  }

  /** Every key of this store (decoded, without the store prefix), unsorted. */
  async #listKeys(kv: KV): Promise<string[]> {
    const names: string[] = []
    const iterator = await kv.keys(`${this.#prefixToken}.*`)
    for await (const name of iterator) {
      const dot = name.indexOf('.')
      const key = dot === -1 ? undefined : decodeToken(name.slice(dot + 1))
      if (key !== undefined) names.push(key)
    }
    return names
  }

  /** Deletes this prefix's expired entries; never throws, never overlaps itself. */
  async #sweep(): Promise<void> {
    if (this.#sweeping || this.#closing !== undefined) return
    this.#sweeping = true
    try {
      const { kv } = await this.#open()
      const keys = await this.#listKeys(kv)
      for (let i = 0; i < keys.length && this.#closing === undefined; i += WALK_BATCH) {
        await Promise.all(keys.slice(i, i + WALK_BATCH).map((key) => this.#read(kv, key)))
      }
    } catch {
      // Best effort: the next sweep, read or walk prunes what this one could not.
    } finally {
      this.#sweeping = false
    }
  }
}

/** The entry stored under `k` (live or expired), or `undefined` when absent or deleted. */
async function readSlot(kv: KV, k: string): Promise<Slot | undefined> {
  const entry = await kv.get(k)
  if (entry === null || entry.operation !== 'PUT') return undefined
  const data = entry.value
  // Not written by this store (no header): not an entry of ours.
  if (data.length < HEADER_BYTES) return undefined
  const view = new DataView(data.buffer, data.byteOffset, HEADER_BYTES)
  return {
    revision: entry.revision,
    expiresAt: view.getFloat64(0, false),
    value: data.subarray(HEADER_BYTES),
  }
}

function isExpired(slot: Slot): boolean {
  return slot.expiresAt > 0 && slot.expiresAt <= Date.now()
}

/** The header and the bytes in one buffer. */
function pack(expiresAt: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + value.length)
  new DataView(out.buffer).setFloat64(0, expiresAt, false)
  out.set(value, HEADER_BYTES)
  return out
}

/** Absolute expiry in epoch ms for a ttl in ms; 0 for none. */
function toExpiresAt(ttl: number | undefined): number {
  if (ttl === undefined) return 0
  if (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl === Infinity) {
    throw new InvalidArgumentError(
      `ttl must be a finite number of milliseconds, not ${String(ttl)}.`,
    )
  }
  return Date.now() + Math.max(1, Math.ceil(ttl))
}

function counterBytes(value: number): Uint8Array {
  return encoder.encode(String(value))
}

function parseCounter(value: Uint8Array): number {
  const text = decoder.decode(value)
  const number = Number(text)
  if (!/^-?\d{1,16}$/.test(text) || !Number.isSafeInteger(number)) {
    throw new WrongTypeError('increment: the value stored at the key is not an integer.')
  }
  return number
}

/** `t` + base64url of the UTF-8: only `[A-Za-z0-9_-]`, never empty, never a wildcard. */
function encodeToken(text: string): string {
  return `t${Buffer.from(text, 'utf8').toString('base64url')}`
}

/** The inverse of {@link encodeToken}; `undefined` for a token this store did not write. */
function decodeToken(token: string): string | undefined {
  if (!/^t[A-Za-z0-9_-]*$/.test(token)) return undefined
  return Buffer.from(token.slice(1), 'base64url').toString('utf8')
}

/** Plain UTF-16 code unit order, the same on every call (no locale). */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Whether a JetStream write lost a compare-and-swap ("wrong last sequence"). */
function lostRace(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const api = (error as { api_error?: { err_code?: number } }).api_error
  if (api?.err_code === WRONG_LAST_SEQUENCE) return true
  return error instanceof Error && /wrong last sequence/i.test(error.message)
}

function contended(op: string, key: string): StoreUnavailableError {
  return new StoreUnavailableError(
    'nats',
    `NATS ${op} of ${JSON.stringify(key)} lost ${MAX_CAS_ATTEMPTS} compare-and-swap rounds in a row; the key is too contended.`,
  )
}

/** `promise`, or a rejection after `ms`; a value that arrives later goes to `onLate`. */
async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  message: string,
  onLate: (value: T) => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      promise.then(onLate, () => undefined)
      reject(new Error(message))
    }, ms)
  })
  try {
    return await Promise.race([promise, timedOut])
  } finally {
    clearTimeout(timer)
  }
}
