import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { ClosedError, StoreUnavailableError } from '../../src/errors.js'
import { postgresStore } from '../../src/stores/sql/dialects/postgres.js'
import { describeStoreConformance } from '../../src/testing/store-conformance/index.js'
import { describeWithService, serviceUrl } from '../helpers/services.js'
import { registerSqlStoreCases } from '../helpers/sql-store-cases.js'

const url = serviceUrl('postgres')
const table = `tiercache_test_${randomBytes(6).toString('hex')}`

describeWithService('postgres', 'postgresStore', () => {
  afterAll(async () => {
    const pool = new pg.Pool({ connectionString: url })
    try {
      await pool.query(`DROP TABLE IF EXISTS ${table}`)
    } finally {
      await pool.end()
    }
  })

  describeStoreConformance('postgresStore', ({ prefix }) => postgresStore({ url, table, prefix }), {
    runner: { describe, it },
  })

  describe('postgres driver', () => {
    registerSqlStoreCases(
      (options) => postgresStore({ url, table, ...options }),
      async () => {
        const pool = new pg.Pool({ connectionString: url })
        try {
          const { rows } = await pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${table} WHERE expires_at IS NOT NULL`,
          )
          return Number(rows[0]?.n)
        } finally {
          await pool.end()
        }
      },
    )

    it('leaves a pool passed in open after close()', async () => {
      const pool = new pg.Pool({ connectionString: url })
      try {
        const store = postgresStore({ client: pool, table, prefix: 'client-owned:' })
        await store.set('k', new Uint8Array([1]))
        await store.clear('')
        await store.close()
        await expect(store.get('k')).rejects.toBeInstanceOf(ClosedError)
        const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one')
        expect(rows[0]?.one).toBe(1)
      } finally {
        await pool.end()
      }
    })

    it('an unlogged table works', async () => {
      const unloggedTable = `${table}_u`
      const store = postgresStore({ url, table: unloggedTable, unlogged: true })
      try {
        await store.set('k', new Uint8Array([7]))
        expect(await store.get('k')).toEqual(Buffer.from([7]))
      } finally {
        await store.close()
        const pool = new pg.Pool({ connectionString: url })
        await pool.query(`DROP TABLE IF EXISTS ${unloggedTable}`)
        await pool.end()
      }
    })

    it('a server on a closed port rejects with StoreUnavailableError', async () => {
      const store = postgresStore({ url: 'postgres://postgres@127.0.0.1:1/test', table })
      try {
        const error: unknown = await store.get('k').catch((e: unknown) => e)
        expect(error).toBeInstanceOf(StoreUnavailableError)
        expect((error as StoreUnavailableError).store).toBe('postgres')
        await expect(store.ready()).rejects.toBeInstanceOf(StoreUnavailableError)
      } finally {
        await store.close()
      }
    })
  })
})
