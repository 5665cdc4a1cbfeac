/**
 * Listing. The dashboard and `cache.keys()` page through a store with a cursor, as with
 * Redis SCAN: an entry present for the whole iteration shows up at least once, and
 * nothing outside the prefix shows up at all. A store that cannot list declares it, and
 * then every test here checks that `keys()` says so instead.
 */
import assert from 'node:assert/strict'
import type { Store, StoreEntryInfo, StoreListOptions } from '../../stores/store.js'
import { SPECIAL_KEYS } from './basic.js'
import type { Harness } from './harness.js'
import { assertRejectsWithCode, bytes, patternBytes } from './harness.js'

/** Far above what a correct store needs for these tests, yet bounded so a cursor loop fails instead of hanging. */
const MAX_PAGES = 100_000

/**
 * Pages through `keys()` until the cursor is absent and returns every entry seen
 * (duplicates included, since a page may repeat an entry).
 *
 * @example
 * ```ts
 * const entries = await listAll(store, { prefix: 'user:', limit: 10 })
 * ```
 */
export async function listAll(
  store: Store,
  options: StoreListOptions = {},
): Promise<StoreEntryInfo[]> {
  const seen: StoreEntryInfo[] = []
  let cursor: string | undefined
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await store.keys({ ...options, cursor })
    assert.ok(Array.isArray(result.entries), 'a keys() page must have an entries array')
    seen.push(...result.entries)
    if (result.cursor === undefined) return seen
    assert.equal(typeof result.cursor, 'string', 'a keys() cursor must be a string or absent')
    assert.notEqual(result.cursor, cursor, 'keys() returned the cursor it was given')
    cursor = result.cursor
  }
  assert.fail(`keys() still returned a cursor after ${MAX_PAGES} pages`)
}

/** Runs `body` when the store lists; otherwise checks that `keys()` rejects as unsupported. */
async function whenListing(
  store: Store,
  options: StoreListOptions,
  body: () => Promise<void>,
): Promise<void> {
  if (store.capabilities.list) {
    await body()
    return
  }
  await assertRejectsWithCode(
    () => store.keys(options),
    'E_UNSUPPORTED_OPERATION',
    `keys(${JSON.stringify(options)}) with capabilities.list false`,
  )
}

/**
 * Registers the list group: the declared capability, cursor paging within a prefix,
 * `size` and `expiresAt`, keys returned verbatim, and plain-string prefixes.
 *
 * @example
 * ```ts
 * registerListTests(harness)
 * ```
 */
export function registerListTests(h: Harness): void {
  h.describe('list', () => {
    h.test('keys() agrees with capabilities.list', async ({ store }) => {
      if (!store.capabilities.list) {
        await assertRejectsWithCode(
          () => store.keys(),
          'E_UNSUPPORTED_OPERATION',
          'keys() with capabilities.list false',
        )
        return
      }
      await store.set('k', bytes('v'))
      const page = await store.keys()
      assert.ok(Array.isArray(page.entries), 'keys() must resolve to a page with an entries array')
    })

    h.test(
      'keys({ prefix, limit: 10 }) pages by cursor through the prefix and nothing else',
      async ({ store }) => {
        const wanted = Array.from({ length: 25 }, (_, i) => `L:${String(i).padStart(2, '0')}`)
        const others = ['L', 'Lx:1', 'K:1', 'M:L:1', 'l:1', 'xL:1']
        await whenListing(store, { prefix: 'L:', limit: 10 }, async () => {
          await store.setMany([...wanted, ...others].map((key) => ({ key, value: bytes(key) })))
          const entries = await listAll(store, { prefix: 'L:', limit: 10 })
          const outside = entries.filter((e) => !e.key.startsWith('L:')).map((e) => e.key)
          assert.deepEqual(outside, [], 'entries outside the prefix L:')
          const keys = new Set(entries.map((e) => e.key))
          const absent = wanted.filter((key) => !keys.has(key))
          assert.deepEqual(absent, [], 'keys under L: that no page returned')
        })
      },
    )

    h.test('entries carry size in bytes, and expiresAt only for keys with a ttl', async (t) => {
      const { store } = t
      const ttl = 60_000
      await whenListing(store, { prefix: 'S:' }, async () => {
        await store.set('S:empty', new Uint8Array(0))
        await store.set('S:binary', patternBytes(300, 9))
        await store.set('S:utf8', bytes('é中🎉'))
        const before = t.now()
        await store.set('S:ttl', patternBytes(42, 2), ttl)
        const after = t.now()
        const entries = await listAll(store, { prefix: 'S:' })
        const byKey = new Map(entries.map((e) => [e.key, e]))
        const expected: Array<[string, number]> = [
          ['S:empty', 0],
          ['S:binary', 300],
          ['S:utf8', bytes('é中🎉').length],
          ['S:ttl', 42],
        ]
        for (const [key, size] of expected) {
          const entry = byKey.get(key)
          assert.ok(entry !== undefined, `${key} is listed`)
          assert.equal(entry.size, size, `size of ${key} in bytes`)
          if (key !== 'S:ttl') {
            assert.equal(entry.expiresAt, undefined, `expiresAt of ${key}, which has no ttl`)
          }
        }
        const expiresAt = byKey.get('S:ttl')?.expiresAt
        assert.equal(typeof expiresAt, 'number', 'expiresAt of S:ttl must be epoch milliseconds')
        const low = before + ttl - 1_000
        const high = after + ttl + 1_000
        assert.ok(
          expiresAt !== undefined && expiresAt >= low && expiresAt <= high,
          `expiresAt of S:ttl is ${String(expiresAt)}, expected within a second of now + ttl (${low}..${high})`,
        )
      })
    })

    h.test(
      "keys() returns keys verbatim, without the store prefix, and only this store's",
      async (t) => {
        const { store } = t
        await whenListing(store, {}, async () => {
          const neighbour = await t.openStore()
          await neighbour.set('only-in-neighbour', bytes('n'))
          await store.setMany(SPECIAL_KEYS.map((key) => ({ key, value: bytes('v') })))
          const listed = new Set((await listAll(store)).map((e) => e.key))
          assert.deepEqual(
            [...listed].sort(),
            [...SPECIAL_KEYS].sort(),
            'keys() of the whole store lists exactly the keys written to it',
          )
        })
      },
    )

    h.test('keys({ prefix }) treats the prefix as a plain string', async ({ store }) => {
      const cases: Array<{ prefix: string; inside: string[]; outside: string[] }> = [
        { prefix: 'a_b:', inside: ['a_b:1'], outside: ['aXb:1'] },
        { prefix: 'c%:', inside: ['c%:1'], outside: ['cX:1', 'cXY:1'] },
        { prefix: 'd[ab]:', inside: ['d[ab]:1'], outside: ['da:1', 'db:1'] },
        { prefix: 'e*', inside: ['e*1'], outside: ['e1', 'eX'] },
        { prefix: 'f?', inside: ['f?1'], outside: ['fX1'] },
        { prefix: 'g\\', inside: ['g\\1'], outside: ['g1', 'g_1'] },
        { prefix: 'Case:', inside: ['Case:1'], outside: ['case:1', 'CASE:1'] },
      ]
      await whenListing(store, { prefix: 'a_b:' }, async () => {
        const all = cases.flatMap((c) => [...c.inside, ...c.outside])
        await store.setMany(all.map((key) => ({ key, value: bytes(key) })))
        for (const { prefix, inside } of cases) {
          const listed = [...new Set((await listAll(store, { prefix })).map((e) => e.key))].sort()
          assert.deepEqual(
            listed,
            [...inside].sort(),
            `keys({ prefix: ${JSON.stringify(prefix)} })`,
          )
        }
      })
    })

    h.test('keys() of a prefix nothing matches ends with no entries', async ({ store }) => {
      await whenListing(store, { prefix: 'nothing:' }, async () => {
        await store.set('something:1', bytes('v'))
        assert.deepEqual(await listAll(store, { prefix: 'nothing:', limit: 10 }), [])
      })
    })
  })
}
