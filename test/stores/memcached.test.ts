import { randomUUID } from 'node:crypto'
import { Client } from 'memjs'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { memcachedStore } from '../../src/stores/memcached.js'
import type { Store } from '../../src/stores/store.js'
import { describeStoreConformance } from '../../src/testing/store-conformance/index.js'
import { describeWithService, rawRequest, serviceUrl } from '../helpers/services.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

describeWithService('memcached', 'memcachedStore', () => {
  const url = serviceUrl('memcached')

  describeStoreConformance('memcachedStore', ({ prefix }) => memcachedStore({ url, prefix }), {
    runner: { describe, it },
    // memcached's default item limit (-I 1m) counts the key and item header too, so the
    // suite's 1 MiB value cannot fit; larger values reject with E_VALUE_TOO_LARGE.
    largeValueBytes: 512 * 1024,
  })

  describe('memcachedStore on the server', () => {
    const opened: Store[] = []
    const open = (prefix = `tc-mc-${randomUUID().slice(0, 8)}:`): Store => {
      const store = memcachedStore({ url, prefix })
      opened.push(store)
      return store
    }

    afterAll(async () => {
      for (const store of opened) {
        await store.clear('').catch(() => {})
        await store.close()
      }
    })

    it('a key with \\r\\nflush_all\\r\\n reaches the server as data, and flushes nothing', async () => {
      const store = open()
      await store.set('survivor', bytes('still here'))
      const evil = 'x\r\nflush_all\r\nset y 0 0 1\r\n'
      await store.set(evil, bytes('evil'))
      expect(await store.get(evil)).toEqual(bytes('evil'))
      expect(await store.add(evil, bytes('again'))).toBe(false)
      expect(await store.increment(`${evil}n`, 2)).toBe(2)
      expect(await store.take(evil)).toEqual(bytes('evil'))
      expect(await store.get('survivor')).toEqual(bytes('still here'))
      // The server still answers the text protocol normally on a fresh connection.
      expect(await rawRequest('memcached', 'version\r\n')).toMatch(/^VERSION /)
    })

    it('long, spaced and non-ASCII keys round-trip (stored hashed)', async () => {
      const store = open()
      const keys = ['k'.repeat(1024), 'with space', 'nul\0byte', 'é中🎉', '🎉'.repeat(256)]
      for (const [i, key] of keys.entries()) await store.set(key, bytes(`v${i}`))
      for (const [i, key] of keys.entries()) expect(await store.get(key)).toEqual(bytes(`v${i}`))
    })

    it('keys() rejects with E_UNSUPPORTED_OPERATION', async () => {
      await expect(open().keys()).rejects.toMatchObject({ code: 'E_UNSUPPORTED_OPERATION' })
    })

    it('clear(prefix) is seen by another store instance on the same prefix', async () => {
      const a = open()
      const prefix = `tc-mc-${randomUUID().slice(0, 8)}:`
      const b = open(prefix)
      const c = open(prefix)
      await b.setMany([
        { key: 'ns:1', value: bytes('1') },
        { key: 'nsx:1', value: bytes('x') },
      ])
      await a.set('ns:1', bytes('a'))
      await c.clear('ns:')
      expect(await b.get('ns:1')).toBeUndefined()
      expect(await b.get('nsx:1')).toEqual(bytes('x'))
      expect(await a.get('ns:1')).toEqual(bytes('a'))
      await b.set('ns:1', bytes('new'))
      expect(await c.get('ns:1')).toEqual(bytes('new'))
    })

    it('a ttl of 0 or below stores an entry that is already expired', async () => {
      const store = open()
      await store.set('zero', bytes('v'), 0)
      await store.set('negative', bytes('v'), -5000)
      expect(await store.getMany(['zero', 'negative'])).toEqual([undefined, undefined])
      expect(await store.add('zero', bytes('w'))).toBe(true)
      expect(await store.get('zero')).toEqual(bytes('w'))
    })

    it('a value above the item limit rejects with E_VALUE_TOO_LARGE', async () => {
      const store = open()
      await expect(store.set('big', new Uint8Array(2 * 1024 * 1024))).rejects.toMatchObject({
        code: 'E_VALUE_TOO_LARGE',
      })
    })

    it('a client passed in stays open after close()', async () => {
      const client = Client.create(url.replace(/^memcached:\/\//, ''), { logger: { log() {} } })
      try {
        const store = memcachedStore({ client, prefix: `tc-mc-${randomUUID().slice(0, 8)}:` })
        await store.set('k', bytes('v'))
        await store.clear('')
        await store.close()
        await expect(store.get('k')).rejects.toMatchObject({ code: 'E_CLOSED' })
        await client.set(`tc-mc-own-${randomUUID()}`, 'v', { expires: 5 })
      } finally {
        client.close()
      }
    })
  })
})

describe('memcachedStore without a server', () => {
  it('rejects with E_STORE_UNAVAILABLE and logs nothing', async () => {
    const log = vi.spyOn(console, 'log')
    const error = vi.spyOn(console, 'error')
    const store = memcachedStore({ url: 'memcached://127.0.0.1:1', timeout: 0.2 })
    try {
      await expect(store.ready()).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
      await expect(store.get('k')).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
      expect(log).not.toHaveBeenCalled()
      expect(error).not.toHaveBeenCalled()
    } finally {
      await store.close()
      log.mockRestore()
      error.mockRestore()
    }
  })

  it('rejects a bad url or prefix with E_INVALID_ARGUMENT', () => {
    expect(() => memcachedStore({ url: 'redis://127.0.0.1:6379' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
    expect(() => memcachedStore({ prefix: 'has space' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
  })
})
