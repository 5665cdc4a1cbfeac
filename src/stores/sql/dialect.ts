/**
 * The small interface between `SqlStore` and one database. A dialect holds the SQL
 * text and the client calls of its database; `SqlStore` owns everything else once
 * (key prefixing and encoding, ranges, chunking, validation, error mapping, pruning).
 *
 * Keys reach a dialect as the UTF-8 bytes of the full key (store prefix included), so
 * every comparison is binary-exact. Rows with `expires_at <= now` are never returned:
 * `now` is the database clock, in epoch milliseconds. A `ttl` is whole milliseconds,
 * `null` for no expiry.
 */

/** One write as a dialect receives it. */
export interface SqlWrite {
  readonly key: Buffer
  readonly value: Buffer
  /** Whole milliseconds from the database's now; `null` for no expiry. */
  readonly ttl: number | null
}

/** One live row as read by `get`. */
export interface SqlRow {
  readonly key: Buffer
  readonly value: Buffer
}

/** One live row as listed by `list`. */
export interface SqlListRow {
  readonly key: Buffer
  readonly size: number
  /** Epoch milliseconds, `null` when the row never expires. */
  readonly expiresAt: number | null
}

/** A key range: `from` inclusive (or exclusive with `after`), `to` exclusive or unbounded. */
export interface SqlRange {
  readonly from: Buffer
  readonly after: boolean
  readonly to: Buffer | null
}

/**
 * What `increment` did: the counter's new decimal text, or `'wrong-type'` when a live
 * value that is not a decimal integer was left as it was.
 */
export type SqlIncrementResult = { readonly value: string } | 'wrong-type'

/**
 * The SQL and client calls of one database. Every method may reject with the client's
 * own error; `SqlStore` maps it with {@link SqlDialect.isWrongType} and wraps the rest.
 *
 * @example
 * ```ts
 * const store = new SqlStore(postgresDialect(pool, 'tiercache', false, true), { prefix: 'app:' })
 * ```
 */
export interface SqlDialect {
  /** The store name in errors and stats: `'postgres'`, `'mysql'`, `'sqlite'`. */
  readonly name: string
  /** Most keys per statement for `get`/`delete`/`set` batches. */
  readonly maxBatch: number
  /** Longest full key in bytes the key column holds. */
  readonly maxKeyBytes: number
  /** Creates the table and its expiry index when missing. */
  createTable(): Promise<void>
  /** Live rows among `keys` (distinct), in any order. */
  get(keys: readonly Buffer[]): Promise<SqlRow[]>
  /** Upserts distinct keys, replacing value and expiry. */
  set(writes: readonly SqlWrite[]): Promise<void>
  /** Inserts unless a live row exists; `true` when it wrote. Atomic. */
  add(write: SqlWrite): Promise<boolean>
  /** Deletes the row and returns its value when it was live. Atomic. */
  take(key: Buffer): Promise<Buffer | undefined>
  /** Adds `delta` to the counter (0 when missing or expired); `ttl` only on creation. Atomic. */
  increment(key: Buffer, delta: number, ttl: number | null): Promise<SqlIncrementResult>
  /** Deletes the live rows among distinct `keys`; how many. */
  delete(keys: readonly Buffer[]): Promise<number>
  /** Deletes every row in the range, live or not. */
  deleteRange(range: SqlRange): Promise<void>
  /** Live rows in the range, ordered by key, at most `limit`. */
  list(range: SqlRange, limit: number): Promise<SqlListRow[]>
  /** Deletes at most `limit` expired rows; how many. */
  prune(limit: number): Promise<number>
  /** Whether a client error means "the value is not an integer" (a counter overflow). */
  isWrongType(error: unknown): boolean
  /** Releases what the dialect created; a client passed in stays open. */
  close(): Promise<void>
}
