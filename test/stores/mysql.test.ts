import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { afterAll, describe, expect, it } from 'vitest'
import { ClosedError, StoreUnavailableError } from '../../src/errors.js'
import { mysqlStore } from '../../src/stores/sql/dialects/mysql.js'
import { describeStoreConformance } from '../../src/testing/store-conformance/index.js'
import { describeWithService, serviceUrl } from '../helpers/services.js'
import { registerSqlStoreCases } from '../helpers/sql-store-cases.js'

const url = serviceUrl('mysql')
const table = `tiercache_test_${randomBytes(6).toString('hex')}`

describeWithService('mysql', 'mysqlStore', () => {
  afterAll(async () => {
    const pool = mysql.createPool({ uri: url })
    try {
      await pool.query(`DROP TABLE IF EXISTS ${table}`)
    } finally {
      await pool.end()
    }
  })

  describeStoreConformance('mysqlStore', ({ prefix }) => mysqlStore({ url, table, prefix }), {
    runner: { describe, it },
  })

  describe('mysql driver', () => {
    registerSqlStoreCases(
      (options) => mysqlStore({ url, table, ...options }),
      async () => {
        const pool = mysql.createPool({ uri: url })
        try {
          const [rows] = await pool.query<mysql.RowDataPacket[]>(
            `SELECT count(*) AS n FROM ${table} WHERE expires_at IS NOT NULL`,
          )
          return Number(rows[0]?.n)
        } finally {
          await pool.end()
        }
      },
    )

    it('leaves a pool passed in open after close()', async () => {
      const pool = mysql.createPool({ uri: url })
      try {
        const store = mysqlStore({ client: pool, table, prefix: 'client-owned:' })
        await store.set('k', new Uint8Array([1]))
        await store.clear('')
        await store.close()
        await expect(store.get('k')).rejects.toBeInstanceOf(ClosedError)
        const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT 1 AS one')
        expect(rows[0]?.one).toBe(1)
      } finally {
        await pool.end()
      }
    })

    it('a server on a closed port rejects with StoreUnavailableError', async () => {
      const store = mysqlStore({ url: 'mysql://root@127.0.0.1:1/test', table })
      try {
        const error: unknown = await store.get('k').catch((e: unknown) => e)
        expect(error).toBeInstanceOf(StoreUnavailableError)
        expect((error as StoreUnavailableError).store).toBe('mysql')
        await expect(store.ready()).rejects.toBeInstanceOf(StoreUnavailableError)
      } finally {
        await store.close()
      }
    })
  })
})
