/**
 * `SqlStore`: the one `Store` over SQL databases. The logic lives here once; each
 * database contributes a {@link SqlDialect} with its SQL text and client calls
 * (`dialects/postgres.ts`, `dialects/mysql.ts`, `dialects/sqlite.ts`).
 *
 * Keys are stored as the UTF-8 bytes of `prefix + key` in a binary column, so case,
 * accents and trailing spaces all stay distinct, and `clear(prefix)` / `keys({ prefix })`
 * are byte ranges (`key >= p AND key < successor(p)`): no LIKE wildcard can reach
 * another namespace. Expiry is measured on the database clock; expired rows are
 * ignored by every read and pruned in bounded batches on an unref'd timer.
 */
import {
  ClosedError,
  InvalidArgumentError,
  StoreUnavailableError,
  TierCacheError,
  WrongTypeError,
} from '../../errors.js'
import type {
  Store,
  StoreCapabilities,
  StoreListOptions,
  StoreListPage,
  StoreWrite,
} from '../store.js'
import type { SqlDialect, SqlRange, SqlWrite } from './dialect.js'

/** Options `SqlStore` shares across dialects. */
export interface SqlStoreOptions {
  /** Scopes every key; `keys()` returns keys without it. @default '' */
  prefix?: string | undefined
  /** How often expired rows are pruned, in milliseconds; 0 turns pruning off. @default 60000 */
  pruneInterval?: number | undefined
  /** Most expired rows one prune deletes. @default 1000 */
  pruneBatch?: number | undefined
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const DECIMAL = /^-?[0-9]+$/
const DEFAULT_LIMIT = 100
const MAX_LIMIT = 10_000

/**
 * Checks a table name: a plain identifier (`[A-Za-z_][A-Za-z0-9_]{0,62}`), so it can be
 * written into SQL text without quoting rules of its own.
 *
 * @example
 * ```ts
 * validateTableName('tiercache') // 'tiercache'
 * validateTableName('drop table;') // throws InvalidArgumentError
 * ```
 */
export function validateTableName(table: string | undefined): string {
  const name = table ?? 'tiercache'
  if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
    throw new InvalidArgumentError(
      `table must be a plain identifier matching [A-Za-z_][A-Za-z0-9_]{0,62}, not ${JSON.stringify(name)}.`,
    )
  }
  return name
}

/**
 * The smallest byte string above every string that starts with `bytes`, or `null`
 * when there is none (empty, or all 0xff).
 *
 * @example
 * ```ts
 * successor(Buffer.from('a:')) // Buffer 'a;'
 * ```
 */
export function successor(bytes: Buffer): Buffer | null {
  let end = bytes.length
  while (end > 0 && bytes[end - 1] === 0xff) end--
  if (end === 0) return null
  const next = Buffer.from(bytes.subarray(0, end))
  next[end - 1] = (next[end - 1] ?? 0) + 1
  return next
}

function toBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value)
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

function toTtl(ttl: number | undefined): number | null {
  if (ttl === undefined) return null
  if (typeof ttl !== 'number' || Number.isNaN(ttl)) {
    throw new InvalidArgumentError(`ttl must be a number of milliseconds, not ${String(ttl)}.`)
  }
  if (ttl === Infinity) return null
  return Math.max(0, Math.ceil(ttl))
}

/**
 * A `Store` over one SQL table through a {@link SqlDialect}. Use the factories
 * (`postgresStore`, `mysqlStore`, `sqliteStore`) rather than this class.
 *
 * @example
 * ```ts
 * import { postgresStore } from 'tiercache/postgres'
 * const store = postgresStore({ url: 'postgres://postgres@127.0.0.1:5432/test' })
 * await store.set('k', new TextEncoder().encode('v'), 60_000)
 * ```
 */
export class SqlStore implements Store {
  readonly name: string
  readonly capabilities: StoreCapabilities = { list: true, ttlGranularity: 'ms', shared: true }
  readonly #dialect: SqlDialect
  readonly #prefix: string
  readonly #prefixBytes: Buffer
  readonly #pruneInterval: number
  readonly #pruneBatch: number
  #table: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #closed = false
  #closing: Promise<void> | undefined
  readonly #inFlight = new Set<Promise<unknown>>()

  constructor(dialect: SqlDialect, options: SqlStoreOptions = {}) {
    const prefix = options.prefix ?? ''
    if (typeof prefix !== 'string') {
      throw new InvalidArgumentError('prefix must be a string.')
    }
    const interval = options.pruneInterval ?? 60_000
    const batch = options.pruneBatch ?? 1000
    if (!(Number.isFinite(interval) && interval >= 0)) {
      throw new InvalidArgumentError(`pruneInterval must be a non-negative number of milliseconds.`)
    }
    if (!(Number.isInteger(batch) && batch > 0)) {
      throw new InvalidArgumentError(`pruneBatch must be a positive integer.`)
    }
    this.#dialect = dialect
    this.name = dialect.name
    this.#prefix = prefix
    this.#prefixBytes = Buffer.from(prefix, 'utf8')
    this.#pruneInterval = interval
    this.#pruneBatch = batch
  }

  /** {@inheritDoc Store.get} */
  async get(key: string): Promise<Uint8Array | undefined> {
    const [value] = await this.getMany([key])
    return value
  }

  /** {@inheritDoc Store.getMany} */
  getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    return this.#run(async (d) => {
      const distinct = [...new Set(keys)]
      const found = new Map<string, Uint8Array>()
      for (let i = 0; i < distinct.length; i += d.maxBatch) {
        const chunk = distinct.slice(i, i + d.maxBatch).map((k) => this.#key(k))
        for (const row of await d.get(chunk)) found.set(row.key.toString('hex'), row.value)
      }
      return keys.map((k) => found.get(this.#key(k).toString('hex')))
    })
  }

  /** {@inheritDoc Store.set} */
  set(key: string, value: Uint8Array, ttl?: number): Promise<void> {
    return this.setMany([{ key, value, ttl }])
  }

  /** {@inheritDoc Store.setMany} */
  setMany(entries: readonly StoreWrite[]): Promise<void> {
    return this.#run(async (d) => {
      // The last write of a key wins, as if the writes ran in order.
      const byKey = new Map<string, SqlWrite>()
      for (const { key, value, ttl } of entries) {
        byKey.delete(key)
        byKey.set(key, { key: this.#key(key), value: toBuffer(value), ttl: toTtl(ttl) })
      }
      const writes = [...byKey.values()]
      for (let i = 0; i < writes.length; i += d.maxBatch) {
        await d.set(writes.slice(i, i + d.maxBatch))
      }
    })
  }

  /** {@inheritDoc Store.add} */
  add(key: string, value: Uint8Array, ttl?: number): Promise<boolean> {
    return this.#run((d) => d.add({ key: this.#key(key), value: toBuffer(value), ttl: toTtl(ttl) }))
  }

  /** {@inheritDoc Store.delete} */
  async delete(key: string): Promise<boolean> {
    return (await this.deleteMany([key])) > 0
  }

  /** {@inheritDoc Store.deleteMany} */
  deleteMany(keys: readonly string[]): Promise<number> {
    return this.#run(async (d) => {
      const distinct = [...new Set(keys)]
      let deleted = 0
      for (let i = 0; i < distinct.length; i += d.maxBatch) {
        deleted += await d.delete(distinct.slice(i, i + d.maxBatch).map((k) => this.#key(k)))
      }
      return deleted
    })
  }

  /** {@inheritDoc Store.take} */
  take(key: string): Promise<Uint8Array | undefined> {
    return this.#run((d) => d.take(this.#key(key)))
  }

  /** {@inheritDoc Store.increment} */
  increment(key: string, delta: number, ttl?: number): Promise<number> {
    return this.#run(async (d) => {
      if (!Number.isSafeInteger(delta)) {
        throw new InvalidArgumentError(`increment: delta must be a safe integer, not ${delta}.`)
      }
      const result = await d.increment(this.#key(key), delta, toTtl(ttl))
      const value = result === 'wrong-type' ? undefined : Number(result.value)
      if (result === 'wrong-type' || !DECIMAL.test(result.value) || !Number.isSafeInteger(value)) {
        throw new WrongTypeError(`increment: the value at '${key}' is not an integer.`)
      }
      return value as number
    })
  }

  /** {@inheritDoc Store.clear} */
  clear(prefix: string): Promise<void> {
    return this.#run((d) => d.deleteRange(this.#range(prefix, undefined)))
  }

  /** {@inheritDoc Store.keys} */
  keys(options: StoreListOptions = {}): Promise<StoreListPage> {
    return this.#run(async (d) => {
      const { prefix = '', cursor, limit = DEFAULT_LIMIT } = options
      if (!(Number.isInteger(limit) && limit > 0)) {
        throw new InvalidArgumentError(
          `keys: limit must be a positive integer, not ${String(limit)}.`,
        )
      }
      const wanted = Math.min(limit, MAX_LIMIT)
      const rows = await d.list(this.#range(prefix, cursor), wanted)
      const skip = this.#prefixBytes.length
      const entries = rows.map((row) => {
        const key = row.key.subarray(skip).toString('utf8')
        return row.expiresAt === null
          ? { key, size: row.size }
          : { key, size: row.size, expiresAt: row.expiresAt }
      })
      const last = entries[entries.length - 1]
      return rows.length === wanted && last !== undefined
        ? { entries, cursor: last.key }
        : { entries }
    })
  }

  /** {@inheritDoc Store.ready} */
  ready(): Promise<void> {
    return this.#run(async () => {})
  }

  /** Stops pruning, waits for calls in flight, then releases what the store created. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    await Promise.allSettled([...this.#inFlight])
    try {
      await this.#dialect.close()
    } catch (error) {
      throw new StoreUnavailableError(this.name, `${this.name}: close failed.`, { cause: error })
    }
  }

  #key(key: string): Buffer {
    const bytes = Buffer.from(this.#prefix + key, 'utf8')
    if (bytes.length > this.#dialect.maxKeyBytes) {
      throw new InvalidArgumentError(
        `The key '${key}' with the store prefix is ${bytes.length} bytes, above the ${this.#dialect.maxKeyBytes} the ${this.name} table holds.`,
      )
    }
    return bytes
  }

  /** The byte range of keys starting with `prefix`, resuming after `cursor` when given. */
  #range(prefix: string, cursor: string | undefined): SqlRange {
    const from = Buffer.from(this.#prefix + prefix, 'utf8')
    const to = successor(from)
    if (cursor !== undefined) {
      const after = Buffer.from(this.#prefix + cursor, 'utf8')
      if (Buffer.compare(after, from) >= 0) return { from: after, after: true, to }
    }
    return { from, after: false, to }
  }

  /** Runs one call: closed check, table creation, error mapping, in-flight tracking. */
  #run<T>(call: (dialect: SqlDialect) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError(`${this.name} store`))
    const promise = this.#call(call)
    this.#inFlight.add(promise)
    const forget = (): void => {
      this.#inFlight.delete(promise)
    }
    promise.then(forget, forget)
    return promise
  }

  async #call<T>(call: (dialect: SqlDialect) => Promise<T>): Promise<T> {
    try {
      await this.#ensureTable()
      return await call(this.#dialect)
    } catch (error) {
      if (error instanceof TierCacheError) throw error
      if (this.#dialect.isWrongType(error)) {
        throw new WrongTypeError('increment: the counter would leave the integer range.')
      }
      const detail = error instanceof Error ? error.message : String(error)
      throw new StoreUnavailableError(this.name, `${this.name}: ${detail}`, { cause: error })
    }
  }

  #ensureTable(): Promise<void> {
    if (this.#table === undefined) {
      const creating = this.#dialect.createTable().then(() => this.#startPruning())
      // A failed creation is retried by the next call instead of failing forever.
      creating.catch(() => {
        if (this.#table === creating) this.#table = undefined
      })
      this.#table = creating
    }
    return this.#table
  }

  #startPruning(): void {
    if (this.#pruneInterval === 0 || this.#closed || this.#timer !== undefined) return
    this.#timer = setInterval(() => {
      if (this.#closed) return
      const pruning = this.#dialect.prune(this.#pruneBatch).catch(() => 0)
      this.#inFlight.add(pruning)
      void pruning.finally(() => this.#inFlight.delete(pruning))
    }, this.#pruneInterval)
    this.#timer.unref()
  }
}
