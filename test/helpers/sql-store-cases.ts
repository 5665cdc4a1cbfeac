/**
 * Driver cases shared by the three `SqlStore` dialects (postgres, mysql, sqlite), on top
 * of the conformance suite: LIKE metacharacters, binary-exact keys, and two store
 * instances racing on one table.
 */
import { expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/errors.js'
import type { Store } from '../../src/stores/store.js'

const enc = (text: string): Uint8Array => new TextEncoder().encode(text)
const dec = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes)

/** Opens a store on the test table under `prefix`, with an optional table override. */
export type OpenSqlStore = (options: {
  prefix: string
  table?: string
  pruneInterval?: number
}) => Store

/**
 * Registers the shared SQL driver cases inside the caller's `describe`.
 *
 * @example
 * ```ts
 * registerSqlStoreCases((o) => postgresStore({ url, table, ...o }), countRowsWithTtl)
 * ```
 */
export function registerSqlStoreCases(
  open: OpenSqlStore,
  countRowsWithTtl: () => Promise<number>,
): void {
  let n = 0
  const prefix = (): string => `sql-case-${process.pid}-${Date.now()}-${++n}:`

  it("clear('a_b:') leaves 'aXb:1' (no LIKE wildcard) and '%' matches only itself", async () => {
    const store = open({ prefix: prefix() })
    try {
      await store.setMany(
        ['a_b:1', 'aXb:1', 'c%:1', 'cX:1', 'd\\:1', 'dX:1'].map((key) => ({
          key,
          value: enc(key),
        })),
      )
      await store.clear('a_b:')
      await store.clear('c%:')
      await store.clear('d\\:')
      const left = await store.getMany(['a_b:1', 'aXb:1', 'c%:1', 'cX:1', 'd\\:1', 'dX:1'])
      expect(left.map(dec)).toEqual([undefined, 'aXb:1', undefined, 'cX:1', undefined, 'dX:1'])
    } finally {
      await store.clear('')
      await store.close()
    }
  })

  it('keys differing only in case or accents stay distinct', async () => {
    const store = open({ prefix: prefix() })
    try {
      const keys = ['key', 'Key', 'KEY', 'é', 'e', 'E', 'pad', 'pad ']
      await store.setMany(keys.map((key, i) => ({ key, value: enc(String(i)) })))
      expect((await store.getMany(keys)).map(dec)).toEqual(keys.map((_, i) => String(i)))
      expect(await store.delete('Key')).toBe(true)
      expect(dec(await store.get('key'))).toBe('0')
      expect((await store.keys()).entries.map((e) => e.key).sort()).toEqual(
        keys.filter((k) => k !== 'Key').sort(),
      )
    } finally {
      await store.clear('')
      await store.close()
    }
  })

  it('concurrent add from two store instances on one table has exactly one winner', async () => {
    const p = prefix()
    const a = open({ prefix: p })
    const b = open({ prefix: p })
    try {
      await Promise.all([a.ready(), b.ready()])
      for (let round = 0; round < 5; round++) {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 === 0 ? a : b).add(`lock-${round}`, enc(`w${i}`)),
          ),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
      }
    } finally {
      await a.clear('')
      await Promise.all([a.close(), b.close()])
    }
  })

  it('increments from two store instances add up', async () => {
    const p = prefix()
    const a = open({ prefix: p })
    const b = open({ prefix: p })
    try {
      await Promise.all([a.ready(), b.ready()])
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).increment('hits', 1)),
      )
      expect(results.sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
      expect(dec(await b.get('hits'))).toBe('40')
    } finally {
      await a.clear('')
      await Promise.all([a.close(), b.close()])
    }
  })

  it('rejects a table name that is not a plain identifier', () => {
    for (const table of ['drop table x;', '1abc', 'a-b', '', 'x'.repeat(64)]) {
      expect(() => open({ prefix: prefix(), table })).toThrow(InvalidArgumentError)
    }
  })

  it('prunes expired rows in the background', async () => {
    const store = open({ prefix: prefix(), pruneInterval: 50 })
    try {
      await store.setMany(
        Array.from({ length: 5 }, (_, i) => ({ key: `p${i}`, value: enc('x'), ttl: 1 })),
      )
      expect(await countRowsWithTtl()).toBeGreaterThanOrEqual(5)
      await new Promise((resolve) => setTimeout(resolve, 400))
      expect(await countRowsWithTtl()).toBe(0)
    } finally {
      await store.clear('')
      await store.close()
    }
  })
}
