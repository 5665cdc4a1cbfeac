import { describe, expect, it } from 'vitest'
import { nullStore } from '../../src/stores/null.js'
import { describeStoreConformance } from '../../src/testing/store-conformance/index.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

// Groups are skipped where every test writes a value and reads it back, which a store
// that keeps nothing fails by design. In the groups that run, the runner below skips the
// tests of that kind by name, so the capability, miss, listing and lifecycle checks still run.
const APPLIES = new Set([
  'declares a name and well-formed capabilities',
  'get of a missing key is undefined',
  'keys() agrees with capabilities.list',
  'keys() of a prefix nothing matches ends with no entries',
  'ready() resolves on an open store',
  'close() is idempotent, in sequence and concurrently',
  'every call after close() rejects with E_CLOSED',
  'close() settles the calls already in flight',
])

describeStoreConformance('nullStore', () => nullStore(), {
  runner: {
    describe,
    // Skipped by design: a store that keeps nothing cannot read back what a test wrote.
    it: (name, fn, timeout) => (APPLIES.has(name) ? it(name, fn, timeout) : it.skip(name, fn)),
  },
  skip: [
    // batch: every test stores entries and reads or deletes them back.
    'batch',
    // ttl: every test needs an entry stored (and a hit) before its ttl passes.
    'ttl',
    // atomic: a second add must lose, increments must accumulate, take must get the value.
    'atomic',
    // prefix-clear: the keys a clear must keep are expected to still be there.
    'prefix-clear',
  ],
})

// What the skipped groups would check, restated for a store that keeps nothing.
describe('nullStore', () => {
  it('declares its capabilities and a name', () => {
    const store = nullStore()
    expect(store.name).toBe('null')
    expect(store.capabilities).toEqual({ list: true, ttlGranularity: 'ms', shared: false })
  })

  it('stores nothing: reads miss, add wins, increment returns the delta, take finds nothing', async () => {
    const store = nullStore()
    await store.ready()
    await store.set('k', bytes('v'), 1000)
    await store.setMany([{ key: 'a', value: bytes('A') }])
    expect(await store.get('k')).toBeUndefined()
    expect(await store.getMany(['k', 'a', 'k'])).toEqual([undefined, undefined, undefined])
    expect(await store.getMany([])).toEqual([])
    expect(await store.add('k', bytes('v'))).toBe(true)
    expect(await store.add('k', bytes('v'))).toBe(true)
    expect(await store.increment('n', 5)).toBe(5)
    expect(await store.increment('n', -3)).toBe(-3)
    expect(await store.take('k')).toBeUndefined()
    expect(await store.delete('k')).toBe(false)
    expect(await store.deleteMany(['k', 'a'])).toBe(0)
    await store.clear('')
    expect(await store.keys({ prefix: 'k', limit: 10 })).toEqual({ entries: [] })
    await expect(store.increment('n', 1.5)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
  })

  it('close() is idempotent and every call after it rejects with E_CLOSED', async () => {
    const store = nullStore()
    const other = nullStore()
    await Promise.all([store.close(), store.close()])
    await store.close()
    const calls: Array<() => Promise<unknown>> = [
      () => store.get('k'),
      () => store.getMany(['k']),
      () => store.set('k', bytes('v')),
      () => store.setMany([]),
      () => store.add('k', bytes('v')),
      () => store.delete('k'),
      () => store.deleteMany(['k']),
      () => store.take('k'),
      () => store.increment('k', 1),
      () => store.clear(''),
      () => store.keys(),
      () => store.ready(),
    ]
    for (const call of calls) await expect(call()).rejects.toMatchObject({ code: 'E_CLOSED' })
    await other.ready()
    expect(await other.increment('n', 1)).toBe(1)
  })
})
