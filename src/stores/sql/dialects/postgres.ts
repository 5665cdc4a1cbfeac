/**
 * The PostgreSQL dialect of `SqlStore`, on `pg`. The only file that imports `pg`.
 *
 * Table: `key bytea PRIMARY KEY, value bytea, expires_at bigint` (epoch ms, NULL for
 * never) with an index on `expires_at`. Every statement is one atomic round trip:
 * `ON CONFLICT` upserts for set/add/increment, `DELETE … RETURNING` for take.
 */
import pg from 'pg'
import type { Pool } from 'pg'
import { InvalidArgumentError } from '../../../errors.js'
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

/** Options of {@link postgresStore}. */
export interface PostgresStoreOptions {
  /** A connection string, such as `postgres://postgres@127.0.0.1:5432/test`. */
  url?: string | undefined
  /** A ready `pg.Pool`; the store uses it and never ends it. */
  client?: Pool | undefined
  /** The table, a plain identifier, created on first use. @default 'tiercache' */
  table?: string | undefined
  /** Scopes every key; `keys()` returns keys without it. @default '' */
  prefix?: string | undefined
  /** Creates the table `UNLOGGED`: faster writes, emptied after a crash. @default false */
  unlogged?: boolean | undefined
  /** How often expired rows are pruned, in milliseconds; 0 turns pruning off. @default 60000 */
  pruneInterval?: number | undefined
}

const NOW_MS = `floor(extract(epoch from clock_timestamp()) * 1000)::bigint`
/** A ttl parameter (`$n`, ms or NULL) as an absolute `expires_at`. */
const expiry = (param: string): string =>
  `CASE WHEN ${param}::bigint IS NULL THEN NULL ELSE ${NOW_MS} + ${param}::bigint END`

/** Owns the SQL text for one table. */
class PostgresDialect implements SqlDialect {
  readonly name = 'postgres'
  readonly maxBatch = 1000
  readonly maxKeyBytes = 2048
  readonly #pool: Pool
  readonly #owned: boolean
  readonly #table: string
  readonly #unlogged: boolean

  constructor(pool: Pool, owned: boolean, table: string, unlogged: boolean) {
    this.#pool = pool
    this.#owned = owned
    this.#table = table
    this.#unlogged = unlogged
  }

  #live(alias = ''): string {
    const col = `${alias}expires_at`
    return `(${col} IS NULL OR ${col} > ${NOW_MS})`
  }

  async createTable(): Promise<void> {
    const t = this.#table
    try {
      await this.#pool.query(
        `CREATE ${this.#unlogged ? 'UNLOGGED ' : ''}TABLE IF NOT EXISTS ${t} (key bytea PRIMARY KEY, value bytea NOT NULL, expires_at bigint)`,
      )
      await this.#pool.query(`CREATE INDEX IF NOT EXISTS ${t}_expires_at ON ${t} (expires_at)`)
    } catch (error) {
      // Two processes creating the table at once: the loser sees a duplicate, which is fine.
      const code = (error as { code?: unknown }).code
      if (code !== '23505' && code !== '42P07') throw error
    }
  }

  async get(keys: readonly Buffer[]): Promise<SqlRow[]> {
    const result = await this.#pool.query<{ key: Buffer; value: Buffer }>(
      `SELECT key, value FROM ${this.#table} WHERE key = ANY($1::bytea[]) AND ${this.#live()}`,
      [keys],
    )
    return result.rows
  }

  async set(writes: readonly SqlWrite[]): Promise<void> {
    if (writes.length === 1 && writes[0] !== undefined) {
      const { key, value, ttl } = writes[0]
      await this.#pool.query(
        `INSERT INTO ${this.#table} (key, value, expires_at) VALUES ($1, $2, ${expiry('$3')})
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
        [key, value, ttl],
      )
      return
    }
    await this.#pool.query(
      `INSERT INTO ${this.#table} (key, value, expires_at)
       SELECT k, v, ${expiry('u.ttl')} FROM unnest($1::bytea[], $2::bytea[], $3::bigint[]) AS u(k, v, ttl)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
      [writes.map((w) => w.key), writes.map((w) => w.value), writes.map((w) => w.ttl)],
    )
  }

  async add({ key, value, ttl }: SqlWrite): Promise<boolean> {
    const result = await this.#pool.query(
      `INSERT INTO ${this.#table} AS t (key, value, expires_at) VALUES ($1, $2, ${expiry('$3')})
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
       WHERE NOT ${this.#live('t.')}
       RETURNING 1`,
      [key, value, ttl],
    )
    return result.rowCount === 1
  }

  async take(key: Buffer): Promise<Buffer | undefined> {
    const result = await this.#pool.query<{ value: Buffer; live: boolean }>(
      `DELETE FROM ${this.#table} WHERE key = $1 RETURNING value, ${this.#live()} AS live`,
      [key],
    )
    const row = result.rows[0]
    return row !== undefined && row.live ? row.value : undefined
  }

  async increment(key: Buffer, delta: number, ttl: number | null): Promise<SqlIncrementResult> {
    const expired = `NOT ${this.#live('t.')}`
    const result = await this.#pool.query<{ value: string }>(
      `INSERT INTO ${this.#table} AS t (key, value, expires_at)
       VALUES ($1, convert_to($2::bigint::text, 'UTF8'), ${expiry('$3')})
       ON CONFLICT (key) DO UPDATE SET
         value = CASE WHEN ${expired} THEN EXCLUDED.value
           ELSE convert_to((encode(t.value, 'escape')::bigint + $2::bigint)::text, 'UTF8') END,
         expires_at = CASE WHEN ${expired} THEN EXCLUDED.expires_at ELSE t.expires_at END
       WHERE ${expired}
         OR (octet_length(t.value) BETWEEN 1 AND 20 AND encode(t.value, 'escape') ~ '^-?[0-9]{1,19}$')
       RETURNING encode(value, 'escape') AS value`,
      [key, delta, ttl],
    )
    const row = result.rows[0]
    return row === undefined ? 'wrong-type' : { value: row.value }
  }

  async delete(keys: readonly Buffer[]): Promise<number> {
    const result = await this.#pool.query(
      `DELETE FROM ${this.#table} WHERE key = ANY($1::bytea[]) AND ${this.#live()}`,
      [keys],
    )
    return result.rowCount ?? 0
  }

  async deleteRange({ from, after, to }: SqlRange): Promise<void> {
    await this.#pool.query(
      `DELETE FROM ${this.#table} WHERE key ${after ? '>' : '>='} $1 AND ($2::bytea IS NULL OR key < $2)`,
      [from, to],
    )
  }

  async list({ from, after, to }: SqlRange, limit: number): Promise<SqlListRow[]> {
    const result = await this.#pool.query<{ key: Buffer; size: number; expires_at: string | null }>(
      `SELECT key, octet_length(value) AS size, expires_at FROM ${this.#table}
       WHERE key ${after ? '>' : '>='} $1 AND ($2::bytea IS NULL OR key < $2) AND ${this.#live()}
       ORDER BY key LIMIT $3`,
      [from, to, limit],
    )
    return result.rows.map((row) => ({
      key: row.key,
      size: row.size,
      expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    }))
  }

  async prune(limit: number): Promise<number> {
    const t = this.#table
    const result = await this.#pool.query(
      `DELETE FROM ${t} WHERE key IN (SELECT key FROM ${t} WHERE expires_at <= ${NOW_MS} LIMIT $1)`,
      [limit],
    )
    return result.rowCount ?? 0
  }

  isWrongType(error: unknown): boolean {
    // numeric_value_out_of_range: the counter left bigint.
    return (error as { code?: unknown } | null)?.code === '22003'
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#pool.end()
  }
}

/**
 * A `Store` on a PostgreSQL table, from a connection string or a `pg.Pool` you own.
 * The table (default `tiercache`) is created on first use; `unlogged: true` trades
 * crash durability for write speed, which suits a cache.
 *
 * @example
 * ```ts
 * import { postgresStore } from 'tiercache/postgres'
 * const store = postgresStore({ url: 'postgres://postgres@127.0.0.1:5432/test', prefix: 'app:' })
 * await store.set('user:1', new TextEncoder().encode('{"name":"Ada"}'), 60_000)
 * await store.close()
 * ```
 */
export function postgresStore(options: PostgresStoreOptions): Store {
  const table = validateTableName(options.table)
  let pool = options.client
  const owned = pool === undefined
  if (pool === undefined) {
    if (typeof options.url !== 'string' || options.url === '') {
      throw new InvalidArgumentError('postgresStore needs a "url" or a "client" (a pg.Pool).')
    }
    pool = new pg.Pool({ connectionString: options.url, connectionTimeoutMillis: 5000 })
    // An idle client losing its connection must not crash the process; the next query reports it.
    pool.on('error', () => {})
  }
  const dialect = new PostgresDialect(pool, owned, table, options.unlogged === true)
  return new SqlStore(dialect, { prefix: options.prefix, pruneInterval: options.pruneInterval })
}
