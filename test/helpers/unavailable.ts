import { expect } from 'vitest'
import { StoreUnavailableError } from '../../src/index.js'
import type { Store } from '../../src/index.js'

type DataCall =
  | 'get'
  | 'getMany'
  | 'set'
  | 'setMany'
  | 'add'
  | 'delete'
  | 'deleteMany'
  | 'take'
  | 'increment'
  | 'clear'
  | 'keys'

/**
 * Checks that a store whose server cannot be reached says so on every call: `ready()`
 * and each data call reject with a `StoreUnavailableError` naming the store and
 * carrying the client's error, rather than hanging or throwing something else.
 * `except` leaves out calls the store does not support at all.
 */
export async function expectEveryCallUnavailable(
  store: Store,
  name: string,
  except: readonly DataCall[] = [],
): Promise<void> {
  const error: unknown = await store.ready().then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(StoreUnavailableError)
  expect((error as StoreUnavailableError).store).toBe(name)
  expect((error as StoreUnavailableError).code).toBe('E_STORE_UNAVAILABLE')
  const v = new TextEncoder().encode('v')
  const calls: Record<DataCall, () => Promise<unknown>> = {
    get: () => store.get('k'),
    getMany: () => store.getMany(['a', 'b']),
    set: () => store.set('k', v, 1000),
    setMany: () => store.setMany([{ key: 'k', value: v }]),
    add: () => store.add('k', v),
    delete: () => store.delete('k'),
    deleteMany: () => store.deleteMany(['k']),
    take: () => store.take('k'),
    increment: () => store.increment('c', 1),
    clear: () => store.clear(''),
    keys: () => store.keys(),
  }
  const chosen = (Object.keys(calls) as DataCall[]).filter((call) => !except.includes(call))
  const settled = await Promise.allSettled(chosen.map((call) => calls[call]()))
  settled.forEach((result, i) => {
    expect(result.status, chosen[i]).toBe('rejected')
    if (result.status === 'rejected') {
      expect(result.reason, chosen[i]).toBeInstanceOf(StoreUnavailableError)
    }
  })
}
