/**
 * Lifecycle. `cache.close()` closes every tier during shutdown, possibly twice (a
 * signal handler and a test's afterEach), and late calls from background refreshes
 * must fail with a clear `ClosedError`, not a driver's "connection is closed" or a hang.
 */
import assert from 'node:assert/strict'
import type { Store } from '../../stores/store.js'
import type { Harness } from './harness.js'
import { assertBytes, assertRejectsWithCode, bytes, describeError, errorCode } from './harness.js'

/** Every call of the contract, with arguments that would succeed on an open store. */
function everyCall(store: Store): Array<[string, () => Promise<unknown>]> {
  return [
    ['get', () => store.get('k')],
    ['getMany', () => store.getMany(['k', 'other'])],
    ['set', () => store.set('k', bytes('v'))],
    ['setMany', () => store.setMany([{ key: 'k', value: bytes('v') }])],
    ['add', () => store.add('new', bytes('v'))],
    ['delete', () => store.delete('k')],
    ['deleteMany', () => store.deleteMany(['k'])],
    ['take', () => store.take('k')],
    ['increment', () => store.increment('counter', 1)],
    ['clear', () => store.clear('')],
    ['keys', () => store.keys()],
    ['ready', () => store.ready()],
  ]
}

/**
 * Registers the close group: ready before close, idempotent close, `E_CLOSED` after it,
 * calls in flight during close, and independence between stores.
 *
 * @example
 * ```ts
 * registerCloseTests(harness)
 * ```
 */
export function registerCloseTests(h: Harness): void {
  h.describe('close', () => {
    h.test('ready() resolves on an open store', async ({ store }) => {
      await store.ready()
      await store.set('k', bytes('v'))
      await store.ready()
    })

    h.test('close() is idempotent, in sequence and concurrently', async ({ store }) => {
      await store.set('k', bytes('v'))
      await Promise.all([store.close(), store.close()])
      await store.close()
    })

    h.test('every call after close() rejects with E_CLOSED', async ({ store }) => {
      await store.set('k', bytes('v'))
      await store.close()
      const failures: string[] = []
      for (const [name, call] of everyCall(store)) {
        // A store without listing may report either reason for keys(); both are true.
        const codes =
          name === 'keys' && !store.capabilities.list
            ? ['E_CLOSED', 'E_UNSUPPORTED_OPERATION']
            : ['E_CLOSED']
        try {
          await assertRejectsWithCode(call, codes, `${name}() after close()`)
        } catch (error) {
          failures.push(error instanceof Error ? error.message : describeError(error))
        }
      }
      assert.deepEqual(failures, [], 'calls after close() that did not reject with E_CLOSED')
    })

    h.test('close() settles the calls already in flight', async ({ store, options }) => {
      const inFlight = Array.from({ length: options.concurrency }, (_, i) =>
        i % 2 === 0 ? store.set(`k${i}`, bytes('v')) : store.get(`k${i - 1}`),
      )
      // Handlers go on before close() so an early rejection is never unhandled.
      const settling = Promise.allSettled(inFlight)
      await store.close()
      const settled = await settling
      const wrong = settled.flatMap((result, i) => {
        if (result.status === 'fulfilled') return []
        const code = errorCode(result.reason)
        return code === 'E_CLOSED' || code === 'E_STORE_UNAVAILABLE'
          ? []
          : [`call ${i}: ${describeError(result.reason)}`]
      })
      assert.deepEqual(
        wrong,
        [],
        'calls in flight during close() must complete or reject with E_CLOSED or E_STORE_UNAVAILABLE',
      )
    })

    h.test('closing one store leaves another usable', async (t) => {
      const other = await t.openStore()
      await other.set('k', bytes('before'))
      await t.store.close()
      await other.set('k', bytes('after'))
      assertBytes(await other.get('k'), bytes('after'), 'the other store after the first closed')
      await other.ready()
    })
  })
}
