/**
 * Expiry. Servers expire lazily (Redis, DynamoDB's TTL sweeper, SQL rows a job purges
 * later), so an expired entry often still sits on disk: every read, count and atomic
 * call must treat it as absent anyway. These tests wait in real time unless the suite
 * was given a clock, so each waits once or twice and checks several calls per wait.
 */
import assert from 'node:assert/strict'
import type { Harness } from './harness.js'
import { assertBytes, assertMiss, assertRejectsWithCode, bytes, text } from './harness.js'
import { listAll } from './list.js'

const HOUR = 3_600_000

/**
 * Registers the ttl group: hits before expiry and misses after it on every read,
 * persistence without a ttl, ttl replacement on overwrite, and add, increment and
 * keys() around expired entries.
 *
 * @example
 * ```ts
 * registerTtlTests(harness)
 * ```
 */
export function registerTtlTests(h: Harness): void {
  h.describe('ttl', () => {
    h.test(
      'an entry is a hit before its ttl and a miss after it (get, getMany, take, delete, deleteMany)',
      async (t) => {
        const { store } = t
        const expiring = ['e-get', 'e-getMany', 'e-take', 'e-delete', 'e-deleteMany']
        for (const key of expiring) await store.set(key, bytes(key), t.ttl)
        await store.set('live', bytes('live'))
        const before = await store.getMany(expiring)
        for (const [i, key] of expiring.entries())
          assertBytes(before[i], bytes(key), `${key} before its ttl`)
        await t.expire()
        assertMiss(await store.get('e-get'), 'get after the ttl')
        const many = await store.getMany(['e-getMany', 'live'])
        assertMiss(many[0], 'getMany slot after the ttl')
        assertBytes(many[1], bytes('live'), 'getMany slot of a key without ttl')
        assertMiss(await store.take('e-take'), 'take after the ttl')
        assert.equal(await store.delete('e-delete'), false, 'delete of an expired entry')
        assert.equal(
          await store.deleteMany(['e-deleteMany', 'live']),
          1,
          'deleteMany counts the live key only, not the expired one',
        )
      },
      1,
    )

    h.test(
      'set without a ttl persists, and so does a long ttl',
      async (t) => {
        const { store } = t
        await store.set('forever', bytes('F'))
        await store.set('hour', bytes('H'), HOUR)
        await store.set('short', bytes('S'), t.ttl)
        await t.expire()
        assertBytes(await store.get('forever'), bytes('F'), 'a key set without ttl')
        assertBytes(await store.get('hour'), bytes('H'), 'a key set with a ttl of an hour')
        assertMiss(await store.get('short'), 'a key set with the short ttl (the control)')
      },
      1,
    )

    h.test(
      'a 1 ms ttl expires rather than meaning "no expiry"',
      async (t) => {
        // Rounding 1 ms down to 0 s means "never" to memcached and to many SQL schemas.
        await t.store.set('tiny', bytes('T'), 1)
        await t.expire()
        assertMiss(await t.store.get('tiny'), 'a key set with ttl 1')
      },
      1,
    )

    h.test(
      'overwriting without a ttl removes the old ttl',
      async (t) => {
        const { store } = t
        await store.set('k', bytes('first'), t.ttl)
        await store.set('k', bytes('second'))
        await store.set('many', bytes('first'), t.ttl)
        await store.setMany([{ key: 'many', value: bytes('second') }])
        await t.expire()
        assertBytes(await store.get('k'), bytes('second'), 'overwritten by set without ttl')
        assertBytes(await store.get('many'), bytes('second'), 'overwritten by setMany without ttl')
      },
      1,
    )

    h.test(
      'overwriting with a ttl replaces the previous expiry',
      async (t) => {
        const { store } = t
        await store.set('was-forever', bytes('first'))
        await store.set('was-forever', bytes('second'), t.ttl)
        await store.set('was-short', bytes('first'), t.ttl)
        await store.set('was-short', bytes('second'), HOUR)
        assertBytes(
          await store.get('was-forever'),
          bytes('second'),
          'overwritten value before the ttl',
        )
        await t.expire()
        assertMiss(
          await store.get('was-forever'),
          'a key without ttl overwritten with the short ttl',
        )
        assertBytes(
          await store.get('was-short'),
          bytes('second'),
          'a key with the short ttl overwritten with a ttl of an hour',
        )
      },
      1,
    )

    h.test(
      'add succeeds again after expiry, and a later add without ttl persists',
      async (t) => {
        const { store } = t
        assert.equal(await store.add('k', bytes('first'), t.ttl), true, 'add of a new key')
        assert.equal(await store.add('k', bytes('rival')), false, 'add while the entry is live')
        await t.expire()
        assert.equal(await store.add('k', bytes('second')), true, 'add after the entry expired')
        assertBytes(await store.get('k'), bytes('second'), 'the value of the second add')
        await t.expire()
        assertBytes(
          await store.get('k'),
          bytes('second'),
          "an add without ttl must not inherit the expired entry's ttl",
        )
      },
      2,
    )

    h.test(
      'increment with a ttl expires the counter it created, which then restarts from 0',
      async (t) => {
        const { store } = t
        assert.equal(await store.increment('c', 3, t.ttl), 3, 'increment creating the key')
        assert.equal(await store.increment('c', 1, t.ttl), 4, 'increment of the live counter')
        await t.expire()
        assertMiss(await store.get('c'), 'the counter after its ttl')
        assert.equal(
          await store.increment('c', 1, t.ttl),
          1,
          'increment after expiry starts from 0, not from the expired value',
        )
        await t.expire()
        assertMiss(await store.get('c'), 'the re-created counter gets the ttl of that call')
      },
      2,
    )

    h.test(
      'increment keeps the ttl of an existing key, and adds none to a key without one',
      async (t) => {
        const { store } = t
        await store.set('with-ttl', bytes('10'), t.ttl)
        await store.set('without-ttl', bytes('20'))
        assert.equal(await store.increment('with-ttl', 1, HOUR), 11, 'increment of with-ttl')
        assert.equal(await store.increment('with-ttl', 1), 12, 'increment of with-ttl, no ttl')
        assert.equal(await store.increment('without-ttl', 1, t.ttl), 21, 'increment of without-ttl')
        await t.expire()
        assertMiss(
          await store.get('with-ttl'),
          'with-ttl after its original ttl: increment must neither reset nor remove it',
        )
        assert.equal(
          text(await store.get('without-ttl')),
          '21',
          'without-ttl: the ttl of increment applies only when it creates the key',
        )
      },
      1,
    )

    h.test(
      'keys() does not list expired entries',
      async (t) => {
        const { store } = t
        if (!store.capabilities.list) {
          await assertRejectsWithCode(
            () => store.keys(),
            'E_UNSUPPORTED_OPERATION',
            'keys() with capabilities.list false',
          )
          return
        }
        await store.set('x:expiring', bytes('E'), t.ttl)
        await store.set('x:live', bytes('L'))
        const before = (await listAll(store, { prefix: 'x:' })).map((e) => e.key)
        assert.ok(before.includes('x:expiring'), 'x:expiring is listed before its ttl')
        await t.expire()
        const after = new Set((await listAll(store, { prefix: 'x:' })).map((e) => e.key))
        assert.deepEqual([...after], ['x:live'], 'only the live entry is listed after the ttl')
      },
      1,
    )
  })
}
