import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { connect } from 'nats'
import type { NatsConnection } from 'nats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClosedError, StoreUnavailableError, WrongTypeError } from '../../src/errors.js'
import { natsStore } from '../../src/stores/nats.js'
import type { NatsStore } from '../../src/stores/nats.js'
import { expectEveryCallUnavailable } from '../helpers/unavailable.js'
import { describeStoreConformance } from '../../src/testing/store-conformance/index.js'
import { describeWithService, serviceUrl } from '../helpers/services.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
/** Plain Uint8Array of a read, so a Buffer and a Uint8Array with the same bytes compare equal. */
const text = async (read: Promise<Uint8Array | undefined>): Promise<Uint8Array | undefined> => {
  const value = await read
  return value === undefined ? undefined : new Uint8Array(value)
}
const token = (s: string): string => `t${Buffer.from(s).toString('base64url')}`

describeWithService('nats', 'natsStore', () => {
  // One bucket per run, deleted at the end, so runs never see each other's data.
  const bucket = `tc-test-${randomUUID().slice(0, 8)}`
  const opened: NatsStore[] = []
  const open = (prefix: string, extra: { sweepInterval?: number } = {}): NatsStore => {
    const store = natsStore({ url: serviceUrl('nats'), bucket, prefix, ...extra })
    opened.push(store)
    return store
  }
  let nc: NatsConnection

  beforeAll(async () => {
    nc = await connect({ servers: serviceUrl('nats') })
  })

  afterAll(async () => {
    for (const store of opened) await store.close()
    const jsm = await nc.jetstreamManager()
    await jsm.streams.delete(`KV_${bucket}`).catch(() => undefined)
    await nc.drain()
  })

  describeStoreConformance('natsStore', ({ prefix }) => open(prefix), {
    runner: { describe, it },
    // The server's max_payload is 1 MiB, and each value carries an 8-byte expiry header.
    largeValueBytes: 1024 * 1024 - 4096,
  })

  describe('driver', () => {
    it('a key with spaces, wildcards, dots and unicode round-trips and lists back', async () => {
      const store = open('odd prefix *>.:')
      const keys = ['with spaces', 'star*', 'gt>', 'a.b.c', '*.>', 'é中🎉 key', '', '$KV.x']
      for (const [i, key] of keys.entries()) await store.set(key, bytes(`v${i}`))
      for (const [i, key] of keys.entries()) {
        expect(await text(store.get(key))).toEqual(bytes(`v${i}`))
      }
      const listed = (await store.keys()).entries.map((e) => e.key).sort()
      expect(listed).toEqual([...keys].sort())
      const prefixed = (await store.keys({ prefix: 'é中' })).entries.map((e) => e.key)
      expect(prefixed).toEqual(['é中🎉 key'])
      // A neighbour whose prefix is a wildcard or a dot sees none of it.
      const star = open('*')
      const dot = open('.')
      expect((await star.keys()).entries).toEqual([])
      expect((await dot.keys()).entries).toEqual([])
      await store.clear('')
      expect((await store.keys()).entries).toEqual([])
    })

    it('close() leaves a connection passed in open', async () => {
      const owner = open(`own-${randomUUID()}:`)
      await owner.set('k', bytes('v'))
      const borrower = natsStore({ connection: nc, bucket, prefix: `other-${randomUUID()}:` })
      await borrower.set('k', bytes('b'))
      expect(await text(borrower.get('k'))).toEqual(bytes('b'))
      await borrower.clear('')
      await borrower.close()
      await borrower.close()
      expect(nc.isClosed()).toBe(false)
      await expect(borrower.get('k')).rejects.toBeInstanceOf(ClosedError)
      await nc.flush()
      expect(await text(owner.get('k'))).toEqual(bytes('v'))
    })

    it('a store on a closed port rejects with StoreUnavailableError quickly, then closes', async () => {
      const store = natsStore({ url: 'nats://127.0.0.1:1', bucket })
      await expectEveryCallUnavailable(store, 'nats')
      await store.close()
      await store.close()
      await expect(store.get('k')).rejects.toBeInstanceOf(ClosedError)
    })

    it('a server that accepts but never answers rejects within connectTimeout', async () => {
      const sockets: Socket[] = []
      const silent = createServer((socket) => void sockets.push(socket))
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
      const { port } = silent.address() as AddressInfo
      const store = natsStore({ url: `nats://127.0.0.1:${port}`, bucket, connectTimeout: 300 })
      await expect(store.get('k')).rejects.toBeInstanceOf(StoreUnavailableError)
      await store.close()
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => silent.close(resolve))
    })

    it('values carry their expiry: an 8-byte big-endian float64 header', async () => {
      const prefix = `raw-${randomUUID()}:`
      const store = open(prefix)
      const before = Date.now()
      await store.set('k', bytes('abc'), 60_000)
      const kv = await nc.jetstream().views.kv(bucket, { bindOnly: true })
      const names: string[] = []
      for await (const name of await kv.keys()) names.push(name)
      for (const n of names) expect(n).toMatch(/^[-/_=.a-zA-Z0-9]+$/)
      const raw = (await kv.get(`${token(prefix)}.${token('k')}`))!.value
      const expiresAt = new DataView(raw.buffer, raw.byteOffset, 8).getFloat64(0, false)
      expect(expiresAt).toBeGreaterThanOrEqual(before + 60_000)
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 60_000)
      expect(new Uint8Array(raw.subarray(8))).toEqual(bytes('abc'))
    })

    it('increment keeps an existing ttl, and WrongTypeError leaves the value', async () => {
      const store = open(`inc-${randomUUID()}:`)
      await store.set('with-ttl', bytes('10'), 60_000)
      expect(await store.increment('with-ttl', 5, 1_000)).toBe(15)
      const [entry] = (await store.keys({ prefix: 'with-ttl' })).entries
      expect(entry?.expiresAt).toBeGreaterThan(Date.now() + 50_000)
      expect(await store.increment('fresh', -3, 200)).toBe(-3)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await store.increment('fresh', 2)).toBe(2)
      expect((await store.keys({ prefix: 'fresh' })).entries[0]?.expiresAt).toBeUndefined()
      await store.set('text', bytes('1.5'))
      await expect(store.increment('text', 1)).rejects.toBeInstanceOf(WrongTypeError)
      expect(await text(store.get('text'))).toEqual(bytes('1.5'))
    })

    it('add over an expired entry lets exactly one of many adders win', async () => {
      const store = open(`add-${randomUUID()}:`)
      await store.set('k', bytes('old'), 50)
      await new Promise((resolve) => setTimeout(resolve, 120))
      const wins = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.add('k', bytes(`v${i}`), 60_000)),
      )
      expect(wins.filter(Boolean)).toHaveLength(1)
      expect(await text(store.get('k'))).toEqual(bytes(`v${wins.indexOf(true)}`))
    })

    it('the background sweep deletes expired entries', async () => {
      const prefix = `sweep-${randomUUID()}:`
      const store = open(prefix, { sweepInterval: 100 })
      await store.set('short', bytes('v'), 50)
      await store.set('long', bytes('v'), 60_000)
      await new Promise((resolve) => setTimeout(resolve, 400))
      const kv = await nc.jetstream().views.kv(bucket, { bindOnly: true })
      const names: string[] = []
      for await (const name of await kv.keys(`${token(prefix)}.*`)) names.push(name)
      expect(names).toEqual([`${token(prefix)}.${token('long')}`])
    })
  })
})
