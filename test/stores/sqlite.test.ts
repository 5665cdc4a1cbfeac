import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { StoreUnavailableError } from '../../src/errors.js'
import { sqliteStore } from '../../src/stores/sql/dialects/sqlite.js'
import { describeStoreConformance } from '../../src/testing/store-conformance/index.js'
import { registerSqlStoreCases } from '../helpers/sql-store-cases.js'

const dir = mkdtempSync(join(tmpdir(), 'tiercache-sqlite-'))
const path = join(dir, 'cache.db')
const table = 'tiercache_test'

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

describeStoreConformance('sqliteStore', ({ prefix }) => sqliteStore({ path, table, prefix }), {
  runner: { describe, it },
})

describe('sqlite driver', () => {
  registerSqlStoreCases(
    (options) => sqliteStore({ path, table, ...options }),
    async () => {
      const db = new Database(path, { readonly: true })
      try {
        const row = db
          .prepare<[], { n: number }>(
            `SELECT count(*) AS n FROM ${table} WHERE expires_at IS NOT NULL`,
          )
          .get()
        return row?.n ?? -1
      } finally {
        db.close()
      }
    },
  )

  it('a file in a missing directory rejects with StoreUnavailableError', () => {
    expect(() => sqliteStore({ path: join(dir, 'missing', 'x.db') })).toThrow(StoreUnavailableError)
  })

  it('a store on a separate file does not see the data', async () => {
    const a = sqliteStore({ path, table, prefix: 'sep:' })
    const b = sqliteStore({ path: join(dir, 'other.db'), table, prefix: 'sep:' })
    try {
      await a.set('k', new Uint8Array([1]))
      expect(await b.get('k')).toBeUndefined()
    } finally {
      await a.clear('')
      await Promise.all([a.close(), b.close()])
    }
  })
})
