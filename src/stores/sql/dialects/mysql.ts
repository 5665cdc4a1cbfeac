/**
 * The MySQL / MariaDB dialect of `SqlStore`, on `mysql2`. The only file that imports it.
 *
 * Table: `` `key` VARBINARY(2048) PRIMARY KEY, `value` LONGBLOB, expires_at BIGINT ``
 * (epoch ms, NULL for never) with an index on `expires_at`. Binary columns compare
 * byte by byte, so the case- and accent-insensitive default collations never merge
 * keys. `take` and `increment` run in short `READ COMMITTED` transactions with a row
 * lock, retried on a deadlock; `add` is a delete of an expired row and an insert whose
 * duplicate-key error means "a live row wins".
 */
import mysql from 'mysql2/promise'
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise'
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

/** Options of {@link mysqlStore}. */
export interface MysqlStoreOptions {
  /** A connection string, such as `mysql://root@127.0.0.1:3306/test`. */
  url?: string | undefined
  /** A ready pool from `mysql2/promise`; the store uses it and never ends it. */
  client?: Pool | undefined
  /** The table, a plain identifier, created on first use. @default 'tiercache' */
  table?: string | undefined
  /** Scopes every key; `keys()` returns keys without it. @default '' */
  prefix?: string | undefined
  /** How often expired rows are pruned, in milliseconds; 0 turns pruning off. @default 60000 */
  pruneInterval?: number | undefined
}

const NOW_MS = 'CAST(UNIX_TIMESTAMP(CURRENT_TIMESTAMP(3)) * 1000 AS SIGNED)'
const LIVE = `(expires_at IS NULL OR expires_at > ${NOW_MS})`
const EXPIRED = `(expires_at IS NOT NULL AND expires_at <= ${NOW_MS})`
/** Two parameters: the ttl twice. */
const EXPIRY = `IF(? IS NULL, NULL, ${NOW_MS} + ?)`
const INTEGER_TEXT = /^-?[0-9]+$/
/** Bytes of values per multi-row insert, well below the default max_allowed_packet. */
const MAX_INSERT_BYTES = 4 * 1024 * 1024
const ER_DUP_ENTRY = 1062
const ER_LOCK_DEADLOCK = 1213
const ER_LOCK_WAIT_TIMEOUT = 1205
const ER_DATA_OUT_OF_RANGE = 1690

function errno(error: unknown): unknown {
  return (error as { errno?: unknown } | null)?.errno
}

/** Owns the SQL text for one table. */
class MysqlDialect implements SqlDialect {
  readonly name = 'mysql'
  readonly maxBatch = 500
  readonly maxKeyBytes = 2048
  readonly #pool: Pool
  readonly #owned: boolean
  readonly #table: string

  constructor(pool: Pool, owned: boolean, table: string) {
    this.#pool = pool
    this.#owned = owned
    this.#table = table
  }

  async #exec(sql: string, params: unknown[] = []): Promise<ResultSetHeader> {
    const [result] = await this.#pool.query<ResultSetHeader>(sql, params)
    return result
  }

  /** Runs `body` in a READ COMMITTED transaction on one connection, retried on a deadlock. */
  async #transaction<T>(body: (conn: PoolConnection) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const conn = await this.#pool.getConnection()
      try {
        await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED')
        await conn.beginTransaction()
        const result = await body(conn)
        await conn.commit()
        return result
      } catch (error) {
        await conn.rollback().catch(() => {})
        const code = errno(error)
        if (attempt < 10 && (code === ER_LOCK_DEADLOCK || code === ER_LOCK_WAIT_TIMEOUT)) continue
        throw error
      } finally {
        conn.release()
      }
    }
  }

  async createTable(): Promise<void> {
    const t = this.#table
    await this.#exec(
      `CREATE TABLE IF NOT EXISTS ${t} (
         \`key\` VARBINARY(2048) NOT NULL PRIMARY KEY,
         \`value\` LONGBLOB NOT NULL,
         expires_at BIGINT NULL,
         INDEX ${t}_expires_at (expires_at)
       ) ENGINE=InnoDB`,
    )
  }

  async get(keys: readonly Buffer[]): Promise<SqlRow[]> {
    const [rows] = await this.#pool.query<RowDataPacket[]>(
      `SELECT \`key\`, \`value\` FROM ${this.#table} WHERE \`key\` IN (?) AND ${LIVE}`,
      [keys],
    )
    return rows.map((row) => ({ key: row.key as Buffer, value: row.value as Buffer }))
  }

  async set(writes: readonly SqlWrite[]): Promise<void> {
    let start = 0
    while (start < writes.length) {
      let end = start
      let bytes = 0
      while (end < writes.length && (end === start || bytes < MAX_INSERT_BYTES)) {
        bytes += writes[end]?.value.length ?? 0
        end++
      }
      const chunk = writes.slice(start, end)
      await this.#exec(
        `INSERT INTO ${this.#table} (\`key\`, \`value\`, expires_at)
         VALUES ${chunk.map(() => `(?, ?, ${EXPIRY})`).join(', ')}
         ON DUPLICATE KEY UPDATE \`value\` = VALUES(\`value\`), expires_at = VALUES(expires_at)`,
        chunk.flatMap((w) => [w.key, w.value, w.ttl, w.ttl]),
      )
      start = end
    }
  }

  async add({ key, value, ttl }: SqlWrite): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        // An expired row is absent: remove it, then an insert wins exactly when no live row exists.
        await this.#exec(`DELETE FROM ${this.#table} WHERE \`key\` = ? AND ${EXPIRED}`, [key])
        await this.#exec(
          `INSERT INTO ${this.#table} (\`key\`, \`value\`, expires_at) VALUES (?, ?, ${EXPIRY})`,
          [key, value, ttl, ttl],
        )
        return true
      } catch (error) {
        const code = errno(error)
        if (code === ER_DUP_ENTRY) return false
        if (attempt < 10 && (code === ER_LOCK_DEADLOCK || code === ER_LOCK_WAIT_TIMEOUT)) continue
        throw error
      }
    }
  }

  async take(key: Buffer): Promise<Buffer | undefined> {
    return this.#transaction(async (conn) => {
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT \`value\`, ${LIVE} AS live FROM ${this.#table} WHERE \`key\` = ? FOR UPDATE`,
        [key],
      )
      const row = rows[0]
      if (row === undefined) return undefined
      await conn.query(`DELETE FROM ${this.#table} WHERE \`key\` = ?`, [key])
      return Number(row.live) === 1 ? (row.value as Buffer) : undefined
    })
  }

  async increment(key: Buffer, delta: number, ttl: number | null): Promise<SqlIncrementResult> {
    return this.#transaction(async (conn): Promise<SqlIncrementResult> => {
      // `value` is assigned before `expires_at`, so both IFs still see the old expiry.
      await conn.query(
        `INSERT INTO ${this.#table} (\`key\`, \`value\`, expires_at) VALUES (?, ?, ${EXPIRY})
         ON DUPLICATE KEY UPDATE
           \`value\` = IF(${EXPIRED}, VALUES(\`value\`),
             IF(\`value\` REGEXP '^-?[0-9]{1,19}$', CAST(CAST(\`value\` AS SIGNED) + ? AS CHAR), \`value\`)),
           expires_at = IF(${EXPIRED}, VALUES(expires_at), expires_at)`,
        [key, Buffer.from(String(delta)), ttl, ttl, delta],
      )
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT \`value\` FROM ${this.#table} WHERE \`key\` = ?`,
        [key],
      )
      const text = (rows[0]?.value as Buffer | undefined)?.toString('latin1') ?? ''
      if (!INTEGER_TEXT.test(text) || !Number.isSafeInteger(Number(text))) {
        // The row is locked by this transaction; rolling back leaves it exactly as it was.
        await conn.rollback()
        return 'wrong-type'
      }
      return { value: text }
    })
  }

  async delete(keys: readonly Buffer[]): Promise<number> {
    const result = await this.#exec(`DELETE FROM ${this.#table} WHERE \`key\` IN (?) AND ${LIVE}`, [
      keys,
    ])
    return result.affectedRows
  }

  #where({ after, to }: SqlRange): string {
    return `\`key\` ${after ? '>' : '>='} ?${to === null ? '' : ' AND `key` < ?'}`
  }

  #bounds({ from, to }: SqlRange): Buffer[] {
    return to === null ? [from] : [from, to]
  }

  async deleteRange(range: SqlRange): Promise<void> {
    await this.#exec(`DELETE FROM ${this.#table} WHERE ${this.#where(range)}`, this.#bounds(range))
  }

  async list(range: SqlRange, limit: number): Promise<SqlListRow[]> {
    const [rows] = await this.#pool.query<RowDataPacket[]>(
      `SELECT \`key\`, LENGTH(\`value\`) AS size, expires_at FROM ${this.#table}
       WHERE ${this.#where(range)} AND ${LIVE} ORDER BY \`key\` LIMIT ?`,
      [...this.#bounds(range), limit],
    )
    return rows.map((row) => ({
      key: row.key as Buffer,
      size: Number(row.size),
      expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    }))
  }

  async prune(limit: number): Promise<number> {
    const result = await this.#exec(
      `DELETE FROM ${this.#table} WHERE expires_at <= ${NOW_MS} LIMIT ?`,
      [limit],
    )
    return result.affectedRows
  }

  isWrongType(error: unknown): boolean {
    return errno(error) === ER_DATA_OUT_OF_RANGE
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#pool.end()
  }
}

/**
 * A `Store` on a MySQL or MariaDB table, from a connection string or a `mysql2/promise`
 * pool you own. The table (default `tiercache`) is created on first use.
 *
 * @example
 * ```ts
 * import { mysqlStore } from 'tiercache/mysql'
 * const store = mysqlStore({ url: 'mysql://root@127.0.0.1:3306/test', prefix: 'app:' })
 * await store.set('user:1', new TextEncoder().encode('{"name":"Ada"}'), 60_000)
 * await store.close()
 * ```
 */
export function mysqlStore(options: MysqlStoreOptions): Store {
  const table = validateTableName(options.table)
  let pool = options.client
  const owned = pool === undefined
  if (pool === undefined) {
    if (typeof options.url !== 'string' || options.url === '') {
      throw new InvalidArgumentError(
        'mysqlStore needs a "url" or a "client" (a mysql2/promise pool).',
      )
    }
    pool = mysql.createPool({ uri: options.url, connectTimeout: 5000 })
  }
  return new SqlStore(new MysqlDialect(pool, owned, table), {
    prefix: options.prefix,
    pruneInterval: options.pruneInterval,
  })
}
