/**
 * The SQLite dialect of `SqlStore`, on `better-sqlite3`. The only file that imports it.
 *
 * Table: `key BLOB PRIMARY KEY, value BLOB, expires_at INTEGER` (epoch ms, NULL for
 * never) with an index on `expires_at`. The file is opened in WAL mode with a busy
 * timeout, so several processes on one file wait for each other instead of failing;
 * writes that read first run in `BEGIN IMMEDIATE` transactions. Statements are prepared
 * once per store.
 */
import Database from 'better-sqlite3'
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3'
import { InvalidArgumentError, StoreUnavailableError } from '../../../errors.js'
import type { Store } from '../../store.js'
import type {
  SqlDialect,
  SqlIncrementResult,
  SqlListRow,
  SqlRange,
  SqlRow,
  SqlWrite,
} from '../dialect.js'
import { SqlStore, validateTableName } from '../sql-store.js'

/** Options of {@link sqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file, created when missing (`':memory:'` for a private, unshared one). */
  path: string
  /** The table, a plain identifier, created on first use. @default 'tiercache' */
  table?: string | undefined
  /** Scopes every key; `keys()` returns keys without it. @default '' */
  prefix?: string | undefined
  /** How long a call waits for another process's write lock, in milliseconds. @default 5000 */
  busyTimeout?: number | undefined
  /** How often expired rows are pruned, in milliseconds; 0 turns pruning off. @default 60000 */
  pruneInterval?: number | undefined
}

const NOW_MS = `CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)`
const EXPIRY = `CASE WHEN @ttl IS NULL THEN NULL ELSE ${NOW_MS} + @ttl END`
const INTEGER_TEXT = /^-?[0-9]{1,19}$/
const MIN = BigInt(Number.MIN_SAFE_INTEGER)
const MAX = BigInt(Number.MAX_SAFE_INTEGER)

interface Prepared {
  upsert: Statement<{ key: Buffer; value: Buffer; ttl: number | null }>
  add: Statement<{ key: Buffer; value: Buffer; ttl: number | null }>
  take: Statement<[Buffer], { value: Buffer; live: number }>
  read: Statement<[Buffer], { value: Buffer; live: number }>
  updateValue: Statement<[Buffer, Buffer]>
  prune: Statement<[number]>
}

/** Owns the SQL text and prepared statements for one table in one file. */
class SqliteDialect implements SqlDialect {
  readonly name = 'sqlite'
  readonly maxBatch = 500
  readonly maxKeyBytes = 1 << 20
  readonly #db: SqliteDatabase
  readonly #table: string
  readonly #live: string
  #prepared: Prepared | undefined
  readonly #byCount = new Map<string, Statement<Buffer[]>>()

  constructor(db: SqliteDatabase, table: string) {
    this.#db = db
    this.#table = table
    this.#live = `(expires_at IS NULL OR expires_at > ${NOW_MS})`
  }

  get #statements(): Prepared {
    if (this.#prepared === undefined) throw new Error('sqlite: the table is not created yet.')
    return this.#prepared
  }

  /** A statement with `count` placeholders, prepared once per shape. */
  #withKeys(shape: string, count: number, sql: (marks: string) => string): Statement<Buffer[]> {
    const id = `${shape}:${count}`
    let statement = this.#byCount.get(id)
    if (statement === undefined) {
      statement = this.#db.prepare<Buffer[]>(
        sql(Array.from({ length: count }, () => '?').join(', ')),
      )
      this.#byCount.set(id, statement)
    }
    return statement
  }

  async createTable(): Promise<void> {
    const t = this.#table
    this.#db.exec(
      `CREATE TABLE IF NOT EXISTS ${t} (key BLOB PRIMARY KEY, value BLOB NOT NULL, expires_at INTEGER);
       CREATE INDEX IF NOT EXISTS ${t}_expires_at ON ${t} (expires_at);`,
    )
    const expired = `${t}.expires_at IS NOT NULL AND ${t}.expires_at <= ${NOW_MS}`
    this.#prepared = {
      upsert: this.#db.prepare(
        `INSERT INTO ${t} (key, value, expires_at) VALUES (@key, @value, ${EXPIRY})
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      ),
      add: this.#db.prepare(
        `INSERT INTO ${t} (key, value, expires_at) VALUES (@key, @value, ${EXPIRY})
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
         WHERE ${expired}`,
      ),
      take: this.#db.prepare(
        `DELETE FROM ${t} WHERE key = ? RETURNING value, ${this.#live} AS live`,
      ),
      read: this.#db.prepare(`SELECT value, ${this.#live} AS live FROM ${t} WHERE key = ?`),
      updateValue: this.#db.prepare(`UPDATE ${t} SET value = ? WHERE key = ?`),
      prune: this.#db.prepare(
        `DELETE FROM ${t} WHERE key IN (SELECT key FROM ${t} WHERE expires_at <= ${NOW_MS} LIMIT ?)`,
      ),
    }
  }

  async get(keys: readonly Buffer[]): Promise<SqlRow[]> {
    const statement = this.#withKeys(
      'get',
      keys.length,
      (marks) => `SELECT key, value FROM ${this.#table} WHERE key IN (${marks}) AND ${this.#live}`,
    )
    return statement.all(...keys) as SqlRow[]
  }

  async set(writes: readonly SqlWrite[]): Promise<void> {
    const { upsert } = this.#statements
    this.#db
      .transaction(() => {
        for (const write of writes) upsert.run(write)
      })
      .immediate()
  }

  async add(write: SqlWrite): Promise<boolean> {
    return this.#statements.add.run(write).changes === 1
  }

  async take(key: Buffer): Promise<Buffer | undefined> {
    const row = this.#statements.take.get(key)
    return row !== undefined && row.live === 1 ? row.value : undefined
  }

  async increment(key: Buffer, delta: number, ttl: number | null): Promise<SqlIncrementResult> {
    const { read, upsert, updateValue } = this.#statements
    return this.#db
      .transaction((): SqlIncrementResult => {
        const row = read.get(key)
        if (row === undefined || row.live !== 1) {
          const value = String(delta)
          upsert.run({ key, value: Buffer.from(value), ttl })
          return { value }
        }
        const current = row.value.toString('latin1')
        if (!INTEGER_TEXT.test(current)) return 'wrong-type'
        const next = BigInt(current) + BigInt(delta)
        if (next < MIN || next > MAX) return 'wrong-type'
        const value = next.toString()
        updateValue.run(Buffer.from(value), key)
        return { value }
      })
      .immediate()
  }

  async delete(keys: readonly Buffer[]): Promise<number> {
    const statement = this.#withKeys(
      'delete',
      keys.length,
      (marks) => `DELETE FROM ${this.#table} WHERE key IN (${marks}) AND ${this.#live}`,
    )
    return statement.run(...keys).changes
  }

  #where({ after, to }: SqlRange): string {
    return `key ${after ? '>' : '>='} ?${to === null ? '' : ' AND key < ?'}`
  }

  #bounds({ from, to }: SqlRange): Buffer[] {
    return to === null ? [from] : [from, to]
  }

  async deleteRange(range: SqlRange): Promise<void> {
    const sql = `DELETE FROM ${this.#table} WHERE ${this.#where(range)}`
    this.#db.prepare<Buffer[]>(sql).run(...this.#bounds(range))
  }

  async list(range: SqlRange, limit: number): Promise<SqlListRow[]> {
    const sql = `SELECT key, length(value) AS size, expires_at AS expiresAt FROM ${this.#table}
      WHERE ${this.#where(range)} AND ${this.#live} ORDER BY key LIMIT ?`
    return this.#db
      .prepare<Array<Buffer | number>, SqlListRow>(sql)
      .all(...this.#bounds(range), limit)
  }

  async prune(limit: number): Promise<number> {
    return this.#statements.prune.run(limit).changes
  }

  isWrongType(): boolean {
    return false
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close()
  }
}

/**
 * A `Store` in a SQLite file. Several processes may open the same file: it runs in WAL
 * mode, and a process that finds the file locked waits up to `busyTimeout` for its turn.
 *
 * @example
 * ```ts
 * import { sqliteStore } from 'tiercache/sqlite'
 * const store = sqliteStore({ path: '/var/cache/app/tiercache.db', prefix: 'app:' })
 * await store.set('user:1', new TextEncoder().encode('{"name":"Ada"}'), 60_000)
 * await store.close()
 * ```
 */
export function sqliteStore(options: SqliteStoreOptions): Store {
  const table = validateTableName(options.table)
  if (typeof options.path !== 'string' || options.path === '') {
    throw new InvalidArgumentError('sqliteStore needs a "path" to the database file.')
  }
  const busyTimeout = options.busyTimeout ?? 5000
  if (!(Number.isInteger(busyTimeout) && busyTimeout >= 0)) {
    throw new InvalidArgumentError('busyTimeout must be a non-negative integer of milliseconds.')
  }
  let db: SqliteDatabase | undefined
  try {
    db = new Database(options.path, { timeout: busyTimeout })
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
  } catch (error) {
    db?.close()
    const detail = error instanceof Error ? error.message : String(error)
    throw new StoreUnavailableError('sqlite', `sqlite: cannot open '${options.path}': ${detail}`, {
      cause: error,
    })
  }
  return new SqlStore(new SqliteDialect(db, table), {
    prefix: options.prefix,
    pruneInterval: options.pruneInterval,
  })
}
