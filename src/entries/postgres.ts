/**
 * `tiercache/postgres`: a `Store` on a PostgreSQL table, through `pg` (an optional peer
 * dependency that only this subpath loads).
 *
 * @example
 * ```ts
 * import { postgresStore } from 'tiercache/postgres'
 * const store = postgresStore({ url: 'postgres://postgres@127.0.0.1:5432/test' })
 * ```
 */
export { postgresStore, type PostgresStoreOptions } from '../stores/sql/dialects/postgres.js'
