import { Keyv } from 'keyv'
import type { KeyvStoreAdapter } from 'keyv'
import { expectEveryCallUnavailable } from '../helpers/unavailable.js'
import { describe, expect, it } from 'vitest'
import { ClosedError, UnsupportedOperationError } from '../../src/errors.js'
import { keyvStore } from '../../src/stores/keyv.js'
import { ManualClock } from '../../src/testing/manual-clock.js'
import { describeStoreConformance } from '../../src/testing/store-conformance/index.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

// A fresh in-memory Keyv per store: the data is per instance, so capabilities.shared is
// false and the suite checks that a twin store does not see it. No group is skipped: the
// atomic group passes because its races run within one process, where add, increment and
// take are serialized per key (across processes they are not atomic; see src/stores/keyv.ts).
const clock = new ManualClock(Date.now())
describeStoreConformance(
  'keyvStore (in-memory Keyv)',
  ({ prefix }) => keyvStore({ keyv: new Keyv(), prefix, clock }),
  { runner: { describe, it }, clock },
)

/** A Keyv adapter whose every call fails, as a backend that went down. */
function failingAdapter(): KeyvStoreAdapter {
  const fail = async (): Promise<never> => {
    throw new Error('backend down')
  }
  const listeners: Array<(error: unknown) => void> = []
  return {
    opts: {},
    get: fail,
    set: fail,
    delete: fail,
    clear: fail,
    on(event: string, listener: (error: unknown) => void) {
      if (event === 'error') listeners.push(listener)
      return this
    },
  } as unknown as KeyvStoreAdapter
}

describe('keyvStore', () => {
  it('declares its capabilities from the Keyv instance', () => {
    const store = keyvStore({ keyv: new Keyv() })
    expect(store.name).toBe('keyv')
    expect(store.capabilities).toEqual({ list: true, ttlGranularity: 'ms', shared: false })
    const remote = keyvStore({ keyv: new Keyv({ store: failingAdapter() }) })
    expect(remote.capabilities).toEqual({ list: false, ttlGranularity: 'ms', shared: true })
    expect(keyvStore({ keyv: new Keyv(), shared: true }).capabilities.shared).toBe(true)
  })

  it('stores values as base64 text that any Keyv serializer round-trips', async () => {
    const keyv = new Keyv()
    const store = keyvStore({ keyv, prefix: 'p:' })
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    await store.set('k', all, 60_000)
    const raw: unknown = await keyv.get('p:k')
    expect(raw).toMatchObject({ k: 'p:k', v: Buffer.from(all).toString('base64') })
    expect(new Uint8Array((await store.get('k'))!)).toEqual(all)
  })

  it('errors of the Keyv backend surface as StoreUnavailableError, none unhandled', async () => {
    const keyv = new Keyv({ store: failingAdapter() })
    const store = keyvStore({ keyv })
    await expectEveryCallUnavailable(store, 'keyv', ['keys'])
    // Without an iterator, listing and prefixed clears are unsupported, not failures.
    await expect(store.keys()).rejects.toBeInstanceOf(UnsupportedOperationError)
    await expect(store.clear('x:')).rejects.toBeInstanceOf(UnsupportedOperationError)
    await store.close()
    await expect(store.get('k')).rejects.toBeInstanceOf(ClosedError)
  })

  it("clear('') on a store without a prefix is keyv.clear()", async () => {
    const keyv = new Keyv()
    const store = keyvStore({ keyv })
    await store.set('a', bytes('1'))
    await keyv.set('foreign', 'x')
    await store.clear('')
    expect(await store.get('a')).toBeUndefined()
    expect(await keyv.get('foreign')).toBeUndefined()
  })

  it('a prefixed store clears only its own keys and leaves the Keyv instance open', async () => {
    const keyv = new Keyv()
    const mine = keyvStore({ keyv, prefix: 'a:' })
    const theirs = keyvStore({ keyv, prefix: 'b:' })
    await mine.set('k', bytes('mine'))
    await theirs.set('k', bytes('theirs'))
    await mine.clear('')
    expect(await mine.get('k')).toBeUndefined()
    expect(await theirs.get('k')).toEqual(new Uint8Array(bytes('theirs')))
    await mine.close()
    expect(await theirs.get('k')).toEqual(new Uint8Array(bytes('theirs')))
  })

  it('increment keeps an existing expiry and sets the ttl only when it creates the key', async () => {
    const now = new ManualClock(1_000_000)
    const store = keyvStore({ keyv: new Keyv(), clock: now })
    await store.set('c', bytes('10'), 60_000)
    expect(await store.increment('c', 5, 1_000)).toBe(15)
    const [entry] = (await store.keys({ prefix: 'c' })).entries
    expect(entry?.expiresAt).toBe(1_060_000)
    expect(await store.increment('fresh', 1, 500)).toBe(1)
    now.advance(600)
    expect(await store.get('fresh')).toBeUndefined()
    expect(await store.increment('fresh', 1)).toBe(1)
  })
})
