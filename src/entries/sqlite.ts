/**
 * `tiercache/sqlite`: a `Store` in a SQLite file, through `better-sqlite3` (an optional
 * peer dependency that only this subpath loads). Several processes can share one file.
 *
 * @example
 * ```ts
 * import { sqliteStore } from 'tiercache/sqlite'
 * const store = sqliteStore({ path: './cache.db' })
 * ```
 */
export { sqliteStore, type SqliteStoreOptions } from '../stores/sql/dialects/sqlite.js'
