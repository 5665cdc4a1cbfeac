/**
 * `tiercache/mysql`: a `Store` on a MySQL or MariaDB table, through `mysql2` (an optional
 * peer dependency that only this subpath loads).
 *
 * @example
 * ```ts
 * import { mysqlStore } from 'tiercache/mysql'
 * const store = mysqlStore({ url: 'mysql://root@127.0.0.1:3306/test' })
 * ```
 */
export { mysqlStore, type MysqlStoreOptions } from '../stores/sql/dialects/mysql.js'
