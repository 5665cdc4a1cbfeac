/**
 * Prefix clear and prefix isolation. `cache.clear()` of a namespace becomes
 * `clear('ns:')`, so a store that turns the prefix into a glob (Redis SCAN MATCH), a
 * LIKE pattern (SQL) or a regular expression without escaping deletes other
 * namespaces' data. On a shared server the store's own prefix must fence it off too.
 */
import assert from 'node:assert/strict'
import type { Store } from '../../stores/store.js'
import type { Harness } from './harness.js'
import { assertBytes, assertMiss, bytes } from './harness.js'

/** A clear and the keys it must and must not delete. */
interface ClearCase {
  readonly prefix: string
  readonly deleted: readonly string[]
  readonly kept: readonly string[]
}

/** One case per metacharacter family: LIKE (`_ %`), glob (`[] * ? \`), collation, unicode. */
const CLEAR_CASES: readonly ClearCase[] = [
  { prefix: 'a_b:', deleted: ['a_b:1', 'a_b:'], kept: ['aXb:1', 'a_bc:1', 'ab:1'] },
  { prefix: 'cache[ab]:', deleted: ['cache[ab]:1'], kept: ['cachea:1', 'cacheb:1', 'cache:1'] },
  { prefix: '%:', deleted: ['%:1'], kept: ['x:1', ':1', 'x%:1'] },
  { prefix: '*', deleted: ['*', '*x', '**'], kept: ['a', 'x*'] },
  { prefix: '?', deleted: ['?', '?b'], kept: ['a', 'ab'] },
  { prefix: 'x\\', deleted: ['x\\1', 'x\\'], kept: ['x', 'x1', 'x_1', 'x/1'] },
  { prefix: 'Case:', deleted: ['Case:1'], kept: ['case:1', 'CASE:1'] },
  { prefix: 'é:', deleted: ['é:1'], kept: ['e:1', 'É:1', 'e\u0301:1'] },
]

/** Writes every key, clears, and checks each key is gone or still there. */
async function checkClear(store: Store, { prefix, deleted, kept }: ClearCase): Promise<void> {
  const all = [...deleted, ...kept]
  await store.setMany(all.map((key) => ({ key, value: bytes(key) })))
  await store.clear(prefix)
  const after = await store.getMany(all)
  for (const [i, key] of all.entries()) {
    const what = `${JSON.stringify(key)} after clear(${JSON.stringify(prefix)})`
    if (i < deleted.length) assertMiss(after[i], what)
    else assertBytes(after[i], bytes(key), what)
  }
}

/**
 * Registers the prefix-clear group: plain-string prefixes with metacharacters,
 * `clear('')`, and isolation between stores with different prefixes.
 *
 * @example
 * ```ts
 * registerPrefixClearTests(harness)
 * ```
 */
export function registerPrefixClearTests(h: Harness): void {
  h.describe('prefix-clear', () => {
    h.test("clear('foo:') deletes the keys under the prefix and no other", async ({ store }) => {
      await checkClear(store, {
        prefix: 'foo:',
        deleted: ['foo:1', 'foo:a:b', 'foo:', 'foo:bar:1'],
        kept: ['foobar:1', 'foo', 'fo:1', 'xfoo:1', 'Foo:1', 'bar:foo:1'],
      })
    })

    for (const c of CLEAR_CASES) {
      h.test(
        `clear(${JSON.stringify(c.prefix)}) treats the prefix as a plain string`,
        async ({ store }) => {
          await checkClear(store, c)
        },
      )
    }

    h.test('clear of a prefix nothing matches deletes nothing', async ({ store }) => {
      await checkClear(store, {
        prefix: 'nothing:',
        deleted: [],
        kept: ['a', 'nothing', 'nothing;1'],
      })
    })

    h.test("clear('') deletes every key of this store, which stays usable", async ({ store }) => {
      const keys = ['a', 'b:1', '*', '%', 'é', 'with space']
      await store.setMany(keys.map((key) => ({ key, value: bytes(key) })))
      await store.set('with-ttl', bytes('t'), 3_600_000)
      await store.increment('counter', 3)
      await store.clear('')
      const after = await store.getMany([...keys, 'with-ttl', 'counter'])
      assert.deepEqual(
        after.flatMap((slot, i) =>
          slot === undefined ? [] : [[...keys, 'with-ttl', 'counter'][i]],
        ),
        [],
        "keys left after clear('')",
      )
      await store.set('a', bytes('again'))
      assertBytes(await store.get('a'), bytes('again'), "set and get after clear('')")
    })

    h.test("stores with different prefixes neither see nor clear each other's keys", async (t) => {
      const { store } = t
      const neighbour = await t.openStore()
      await store.set('k', bytes('mine'))
      await neighbour.set('k', bytes('theirs'))
      await neighbour.set('theirs-only', bytes('t'))
      assertBytes(await store.get('k'), bytes('mine'), "get('k') in this store")
      assertMiss(await store.get('theirs-only'), 'a key written only to the other store')
      await store.clear('')
      assertMiss(await store.get('k'), "get('k') in this store after its clear('')")
      assertBytes(
        await neighbour.get('k'),
        bytes('theirs'),
        "the other store's 'k' after this store's clear('')",
      )
      assertBytes(
        await neighbour.get('theirs-only'),
        bytes('t'),
        "the other store's keys after this store's clear('')",
      )
      await store.set('d', bytes('mine'))
      await neighbour.set('d', bytes('theirs'))
      assert.equal(
        await store.deleteMany(['d', 'theirs-only']),
        1,
        "deleteMany counts only this store's keys",
      )
      assertBytes(
        await neighbour.get('d'),
        bytes('theirs'),
        "the other store's 'd' after this store's deleteMany",
      )
    })

    h.test(
      'capabilities.shared: a store opened with the same prefix sees the data exactly when shared',
      async (t) => {
        const { store } = t
        await store.set('k', bytes('v'))
        const twin = await t.openStore(t.prefix)
        if (store.capabilities.shared) {
          assertBytes(
            await twin.get('k'),
            bytes('v'),
            'a second store on the same prefix of a shared store',
          )
          await twin.set('from-twin', bytes('t'))
          assertBytes(await store.get('from-twin'), bytes('t'), 'a write through the second store')
        } else {
          assertMiss(
            await twin.get('k'),
            'a second store on the same prefix, though capabilities.shared is false',
          )
        }
      },
    )
  })
}
