import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { ClosedError, WrongTypeError } from '../../src/errors.js'
import { redisStore } from '../../src/stores/redis.js'
import type { RedisStore } from '../../src/stores/redis.js'
import { expectEveryCallUnavailable } from '../helpers/unavailable.js'
import { describeStoreConformance } from '../../src/testing/store-conformance/index.js'
import { describeWithService, serviceUrl } from '../helpers/services.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

describeWithService('redis', 'redisStore', () => {
  // The suite clears each test's prefix through that test's store, which a close test has
  // already closed; so every prefix it used is cleared again here through a fresh store.
  const suitePrefixes = new Set<string>()
  afterAll(async () => {
    const cleaner = redisStore({ url: serviceUrl('redis') })
    for (const prefix of suitePrefixes) await cleaner.clear(prefix)
    await cleaner.close()
  })

  describeStoreConformance(
    'redisStore',
    ({ prefix }) => {
      suitePrefixes.add(prefix)
      return redisStore({ url: serviceUrl('redis'), prefix })
    },
    { runner: { describe, it } },
  )

  describe('driver', () => {
    // Every key these tests write lives under this prefix, removed in afterAll.
    const base = `tc-redis-test-${randomUUID().slice(0, 8)}:`
    let n = 0
    const opened: RedisStore[] = []
    const open = (prefix = `${base}${++n}:`): RedisStore => {
      const store = redisStore({ url: serviceUrl('redis'), prefix })
      opened.push(store)
      return store
    }

    afterAll(async () => {
      const cleaner = redisStore({ url: serviceUrl('redis'), prefix: base })
      await cleaner.clear('')
      await cleaner.close()
      for (const store of opened) await store.close()
    })

    it('close() leaves a client passed in open', async () => {
      const owner = open()
      await owner.set('k', bytes('v'))
      const borrower = redisStore({ client: owner.client, prefix: `${base}${n}:` })
      expect(await borrower.get('k')).toEqual(Buffer.from('v'))
      await borrower.close()
      await borrower.close()
      expect(owner.client.status).toBe('ready')
      await expect(borrower.get('k')).rejects.toBeInstanceOf(ClosedError)
      expect(await owner.get('k')).toEqual(Buffer.from('v'))
      expect(await owner.client.ping()).toBe('PONG')
    })

    it('a store on a closed port rejects with StoreUnavailableError quickly, then closes', async () => {
      const store = redisStore({ url: 'redis://127.0.0.1:1' })
      await expectEveryCallUnavailable(store, 'redis')
      // Let the client fail a few more reconnects: no 'error' event may go unhandled.
      await new Promise((resolve) => setTimeout(resolve, 300))
      await store.close()
      await store.close()
      await expect(store.get('k')).rejects.toBeInstanceOf(ClosedError)
    })

    it("clear('cache[ab]:') deletes only that literal prefix", async () => {
      const store = open()
      const keys = ['cache[ab]:1', 'cachea:1', 'cacheb:1', 'cache\\[ab]:1', 'cache*:1']
      await store.setMany(keys.map((key) => ({ key, value: bytes(key) })))
      await store.clear('cache[ab]:')
      const after = await store.getMany(keys)
      expect(after[0]).toBeUndefined()
      expect(after.slice(1)).toEqual(keys.slice(1).map((key) => Buffer.from(key)))
    })

    it('a store prefix with glob metacharacters fences off only its own keys', async () => {
      const globby = open(`${base}g[x]*:`)
      const plain = open(`${base}gx:`)
      await globby.set('k', bytes('mine'))
      await plain.set('k', bytes('theirs'))
      expect((await globby.keys()).entries.map((e) => e.key)).toEqual(['k'])
      await globby.clear('')
      expect(await globby.get('k')).toBeUndefined()
      expect(await plain.get('k')).toEqual(Buffer.from('theirs'))
    })

    it('binary values round-trip byte-exact, on the server too', async () => {
      const store = open()
      const all = Uint8Array.from({ length: 256 }, (_, i) => i)
      const random = new Uint8Array(Buffer.from(randomUUID().repeat(64)).map((b, i) => b ^ i))
      await store.set('all', all)
      await store.setMany([{ key: 'random', value: random }])
      expect(new Uint8Array((await store.get('all'))!)).toEqual(all)
      const [viaMany] = await store.getMany(['random'])
      expect(new Uint8Array(viaMany!)).toEqual(random)
      const raw = await store.client.getBuffer(`${base}${n}:all`)
      expect(new Uint8Array(raw!)).toEqual(all)
      expect(new Uint8Array((await store.take('all'))!)).toEqual(all)
      expect(await store.get('all')).toBeUndefined()
    })

    it('increment sets the ttl only when it creates the key, and keeps an existing one', async () => {
      const store = open()
      const key = (k: string): string => `${base}${n}:${k}`
      await store.set('with-ttl', bytes('10'), 60_000)
      expect(await store.increment('with-ttl', 5, 1_000)).toBe(15)
      expect(await store.increment('with-ttl', 1)).toBe(16)
      expect(await store.client.pttl(key('with-ttl'))).toBeGreaterThan(50_000)
      await store.set('no-ttl', bytes('1'))
      expect(await store.increment('no-ttl', 1, 1_000)).toBe(2)
      expect(await store.client.pttl(key('no-ttl'))).toBe(-1)
      expect(await store.increment('fresh', 3, 1_500)).toBe(3)
      const pttl = await store.client.pttl(key('fresh'))
      expect(pttl).toBeGreaterThan(0)
      expect(pttl).toBeLessThanOrEqual(1_500)
      expect(await store.increment('fresh', 1, 60_000)).toBe(4)
      expect(await store.client.pttl(key('fresh'))).toBeLessThanOrEqual(1_500)
    })

    it('increment of a non-integer rejects with WrongTypeError and leaves the value', async () => {
      const store = open()
      await store.set('text', bytes('abc'), 60_000)
      await expect(store.increment('text', 1)).rejects.toBeInstanceOf(WrongTypeError)
      expect(await store.get('text')).toEqual(Buffer.from('abc'))
    })

    it('increment reloads its script after SCRIPT FLUSH', async () => {
      const store = open()
      expect(await store.increment('c', 1)).toBe(1)
      await store.client.script('FLUSH')
      expect(await store.increment('c', 1)).toBe(2)
    })

    it('keys() pages with the Redis cursor and strips the store prefix', async () => {
      const store = open()
      await store.setMany(
        Array.from({ length: 30 }, (_, i) => ({ key: `p:${i}`, value: bytes('v'), ttl: 60_000 })),
      )
      const seen = new Set<string>()
      let cursor: string | undefined
      do {
        const page = await store.keys({ prefix: 'p:', limit: 5, cursor })
        for (const entry of page.entries) {
          seen.add(entry.key)
          expect(entry.size).toBe(1)
          expect(entry.expiresAt).toBeGreaterThan(Date.now())
        }
        cursor = page.cursor
        if (cursor !== undefined) expect(cursor).toMatch(/^\d+$/)
      } while (cursor !== undefined)
      expect(seen.size).toBe(30)
      await expect(store.keys({ cursor: 'nope' })).rejects.toThrow(/cursor/)
    })
  })
})
