/**
 * Batch calls. The engine maps `getMany` results back to keys by position, so order,
 * length and duplicates matter more here than in any single-key call.
 */
import assert from 'node:assert/strict'
import type { Harness } from './harness.js'
import { assertBytes, assertMiss, bytes } from './harness.js'

/**
 * Larger than the per-call limits drivers meet (SQLite's 999 bound variables, DynamoDB's
 * 100-key BatchGetItem and 25-item BatchWriteItem), so a driver must chunk.
 */
const MANY = 1_000

/**
 * Registers the batch group: getMany order, length and duplicates, setMany with and
 * without ttls, deleteMany counts, and batches beyond driver limits.
 *
 * @example
 * ```ts
 * registerBatchTests(harness)
 * ```
 */
export function registerBatchTests(h: Harness): void {
  h.describe('batch', () => {
    h.test('getMany keeps order and length, with undefined for missing keys', async ({ store }) => {
      await store.set('a', bytes('A'))
      await store.set('c', bytes('C'))
      const result = await store.getMany(['missing-1', 'a', 'missing-2', 'c', 'missing-3'])
      assert.ok(Array.isArray(result), 'getMany must resolve to an array')
      assert.equal(result.length, 5, 'one slot per key')
      assertMiss(result[0], 'slot 0 (missing-1)')
      assertBytes(result[1], bytes('A'), 'slot 1 (a)')
      assertMiss(result[2], 'slot 2 (missing-2)')
      assertBytes(result[3], bytes('C'), 'slot 3 (c)')
      assertMiss(result[4], 'slot 4 (missing-3)')
    })

    h.test('getMany with duplicate keys fills every slot', async ({ store }) => {
      await store.set('a', bytes('A'))
      await store.set('b', bytes('B'))
      const result = await store.getMany(['a', 'b', 'a', 'missing', 'a', 'missing'])
      assert.equal(result.length, 6, 'one slot per key, duplicates included')
      assertBytes(result[0], bytes('A'), 'slot 0 (a)')
      assertBytes(result[1], bytes('B'), 'slot 1 (b)')
      assertBytes(result[2], bytes('A'), 'slot 2 (a again)')
      assertMiss(result[3], 'slot 3 (missing)')
      assertBytes(result[4], bytes('A'), 'slot 4 (a a third time)')
      assertMiss(result[5], 'slot 5 (missing again)')
    })

    h.test('getMany([]) resolves to an empty array', async ({ store }) => {
      const result = await store.getMany([])
      assert.ok(Array.isArray(result), 'getMany([]) must resolve to an array')
      assert.equal(result.length, 0)
    })

    h.test('setMany then getMany returns every value', async ({ store }) => {
      await store.set('b', bytes('old'))
      await store.setMany([
        { key: 'a', value: bytes('A') },
        { key: 'b', value: bytes('B') },
        { key: 'empty', value: new Uint8Array(0) },
        { key: 'binary', value: Uint8Array.from([0, 255, 0, 128]) },
      ])
      const result = await store.getMany(['binary', 'a', 'empty', 'b'])
      assertBytes(result[0], Uint8Array.from([0, 255, 0, 128]), 'binary')
      assertBytes(result[1], bytes('A'), 'a')
      assertBytes(result[2], new Uint8Array(0), 'empty')
      assertBytes(result[3], bytes('B'), 'b, overwritten by setMany')
    })

    h.test('setMany([]) and deleteMany([]) change nothing', async ({ store }) => {
      await store.set('k', bytes('v'))
      await store.setMany([])
      assert.equal(await store.deleteMany([]), 0, 'deleteMany([])')
      assertBytes(await store.get('k'), bytes('v'), "get('k')")
    })

    h.test(
      'setMany with a per-entry ttl expires only the entries that have one',
      async (t) => {
        const { store } = t
        await store.setMany([
          { key: 'short', value: bytes('S'), ttl: t.ttl },
          { key: 'forever', value: bytes('F') },
          { key: 'long', value: bytes('L'), ttl: 3_600_000 },
        ])
        const before = await store.getMany(['short', 'forever', 'long'])
        assertBytes(before[0], bytes('S'), 'short before its ttl')
        await t.expire()
        const after = await store.getMany(['short', 'forever', 'long'])
        assertMiss(after[0], 'short after its ttl')
        assertBytes(after[1], bytes('F'), 'forever (no ttl)')
        assertBytes(after[2], bytes('L'), 'long (ttl of an hour)')
      },
      1,
    )

    h.test('deleteMany counts only live entries', async ({ store }) => {
      await store.setMany([
        { key: 'a', value: bytes('A') },
        { key: 'b', value: new Uint8Array(0) },
        { key: 'c', value: bytes('C') },
      ])
      const count = await store.deleteMany(['a', 'missing', 'b', 'a', 'also-missing'])
      assert.equal(count, 2, 'a and b are live; missing keys and the repeated a do not count')
      const result = await store.getMany(['a', 'b', 'c'])
      assertMiss(result[0], 'a after deleteMany')
      assertMiss(result[1], 'b after deleteMany')
      assertBytes(result[2], bytes('C'), 'c, not in the batch')
      assert.equal(await store.deleteMany(['a', 'b']), 0, 'deleting them again')
    })

    h.test(`getMany, setMany and deleteMany handle ${MANY} keys`, async ({ store }) => {
      const keys = Array.from({ length: MANY }, (_, i) => `many:${i}`)
      await store.setMany(keys.map((key, i) => ({ key, value: bytes(`v${i}`) })))
      const lookup = [...keys, 'many:missing']
      const result = await store.getMany(lookup)
      assert.equal(result.length, MANY + 1, 'one slot per key')
      for (const [i, key] of keys.entries()) assertBytes(result[i], bytes(`v${i}`), key)
      assertMiss(result[MANY], 'many:missing')
      assert.equal(
        await store.deleteMany(lookup),
        MANY,
        `deleteMany of ${MANY} live keys and one missing`,
      )
      const after = await store.getMany(keys)
      assert.equal(
        after.filter((slot) => slot !== undefined).length,
        0,
        'every key is gone after deleteMany',
      )
    })
  })
}
