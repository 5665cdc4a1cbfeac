/**
 * Atomic primitives: `add` (locks, negative caching), `increment` (counters, rate
 * limits) and `take` (pull). A get-then-set implementation passes every sequential
 * test, so each primitive is also fired `concurrency` times at once.
 */
import assert from 'node:assert/strict'
import type { Harness } from './harness.js'
import {
  assertBytes,
  assertMiss,
  assertRejectsWithCode,
  bytes,
  describeError,
  text,
} from './harness.js'

/**
 * Values that are not integers in decimal ASCII, though some look like one to
 * `Number()`, `parseInt()` or a lenient SQL cast.
 */
const NOT_INTEGERS: ReadonlyArray<[string, Uint8Array]> = [
  ['text', bytes('abc')],
  ['a decimal', bytes('1.5')],
  ['the empty value', new Uint8Array(0)],
  ['digits then text', bytes('12abc')],
  ['an exponent', bytes('1e3')],
  ['leading whitespace', bytes(' 7')],
  ['binary', Uint8Array.from([0xff, 0x00, 0x01])],
]

/**
 * Registers the atomic group: add, increment and take, alone and under concurrency.
 *
 * @example
 * ```ts
 * registerAtomicTests(harness)
 * ```
 */
export function registerAtomicTests(h: Harness): void {
  const n = h.options.concurrency
  h.describe('atomic', () => {
    h.test('add stores a missing key and returns true', async ({ store }) => {
      assert.equal(await store.add('k', bytes('v')), true, "add('k') of a missing key")
      assertBytes(await store.get('k'), bytes('v'), "get('k') after add")
    })

    h.test('add on an existing key returns false and leaves the value', async ({ store }) => {
      await store.set('k', bytes('original'))
      await store.set('empty', new Uint8Array(0))
      assert.equal(await store.add('k', bytes('rival')), false, "add('k') of a present key")
      assertBytes(await store.get('k'), bytes('original'), "get('k') after the refused add")
      assert.equal(
        await store.add('empty', bytes('rival')),
        false,
        'add of a key holding an empty value',
      )
      assertBytes(
        await store.get('empty'),
        new Uint8Array(0),
        'the empty value after the refused add',
      )
    })

    h.test(
      `${n} concurrent adds of one key: exactly one wins and its value is stored`,
      async ({ store }) => {
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) => store.add('race', bytes(`writer-${i}`))),
        )
        const winners = results.flatMap((won, i) => (won ? [i] : []))
        assert.equal(winners.length, 1, `adds that returned true: ${JSON.stringify(winners)}`)
        assertBytes(
          await store.get('race'),
          bytes(`writer-${String(winners[0])}`),
          "the winner's value",
        )
      },
    )

    h.test('increment of a missing key starts from 0', async ({ store }) => {
      assert.equal(await store.increment('c', 5), 5, "increment('c', 5) of a missing key")
      assert.equal(await store.increment('c', 1), 6, "increment('c', 1)")
      assert.equal(await store.increment('zero', 0), 0, "increment('zero', 0) of a missing key")
    })

    h.test('get after increment returns the decimal ASCII bytes', async ({ store }) => {
      await store.increment('c', 5)
      assertBytes(await store.get('c'), bytes('5'), "get('c') after increment('c', 5)")
      await store.increment('neg', -12)
      assertBytes(await store.get('neg'), bytes('-12'), "get('neg') after increment('neg', -12)")
      await store.increment('zero', 0)
      assertBytes(await store.get('zero'), bytes('0'), "get('zero') after increment('zero', 0)")
    })

    h.test('increment with a negative delta', async ({ store }) => {
      assert.equal(await store.increment('c', 5), 5)
      assert.equal(await store.increment('c', -7), -2, 'crossing zero')
      assert.equal(await store.increment('c', -3), -5)
      assert.equal(await store.increment('fresh', -3), -3, 'a missing key starts from 0')
      assert.equal(text(await store.get('c')), '-5', "get('c')")
    })

    h.test('increment adds to a counter written with set as decimal text', async ({ store }) => {
      await store.set('c', bytes('41'))
      assert.equal(await store.increment('c', 1), 42)
      await store.set('neg', bytes('-10'))
      assert.equal(await store.increment('neg', 4), -6)
      await store.setMany([{ key: 'many', value: bytes('100') }])
      assert.equal(await store.increment('many', -1), 99)
    })

    h.test(`${n} concurrent increments of 1 lose nothing`, async ({ store }) => {
      const results = await Promise.all(Array.from({ length: n }, () => store.increment('c', 1)))
      assert.equal(text(await store.get('c')), String(n), 'the final counter')
      const sorted = [...results].sort((a, b) => a - b)
      const expected = Array.from({ length: n }, (_, i) => i + 1)
      assert.deepEqual(sorted, expected, 'the values returned are a permutation of 1..N')
    })

    h.test(
      'increment of a value that is not an integer rejects with E_WRONG_TYPE and leaves it',
      async ({ store }) => {
        const failures: string[] = []
        for (const [i, [label, value]] of NOT_INTEGERS.entries()) {
          const key = `not-int-${i}`
          await store.set(key, value)
          try {
            await assertRejectsWithCode(
              () => store.increment(key, 1),
              'E_WRONG_TYPE',
              `increment of ${label}`,
            )
          } catch (error) {
            failures.push(describeError(error))
            continue
          }
          try {
            assertBytes(await store.get(key), value, `${label} after the rejected increment`)
          } catch (error) {
            failures.push(describeError(error))
          }
        }
        assert.deepEqual(
          failures,
          [],
          'every non-integer value must make increment reject, unchanged',
        )
      },
    )

    h.test('take returns the value and removes the key', async ({ store }) => {
      await store.set('k', bytes('v'))
      assertBytes(await store.take('k'), bytes('v'), "take('k')")
      assertMiss(await store.get('k'), "get('k') after take")
      assertMiss(await store.take('k'), "take('k') a second time")
      assertMiss(await store.take('never-set'), "take('never-set')")
      await store.set('empty', new Uint8Array(0))
      assertBytes(await store.take('empty'), new Uint8Array(0), 'take of an empty value is a hit')
      assertMiss(await store.get('empty'), 'the empty value after take')
    })

    h.test(`${n} concurrent takes of one key: exactly one gets the value`, async ({ store }) => {
      await store.set('k', bytes('prize'))
      const results = await Promise.all(Array.from({ length: n }, () => store.take('k')))
      const hits = results.filter((r) => r !== undefined)
      assert.equal(hits.length, 1, `takes that got a value: ${hits.length}`)
      assertBytes(hits[0], bytes('prize'), 'the value the winning take got')
      assertMiss(await store.get('k'), "get('k') after the takes")
    })

    h.test(
      'concurrent add, increment and take on other keys do not interfere',
      async ({ store }) => {
        await store.set('t', bytes('taken'))
        const [added, counted, taken] = await Promise.all([
          Promise.all(
            Array.from({ length: n }, (_, i) => store.add(`a:${i % 5}`, bytes(String(i)))),
          ),
          Promise.all(Array.from({ length: n }, (_, i) => store.increment(`c:${i % 5}`, 2))),
          Promise.all(Array.from({ length: n }, () => store.take('t'))),
        ])
        assert.equal(added.filter(Boolean).length, Math.min(n, 5), 'one winning add per key')
        assert.equal(Math.max(...counted), Math.ceil(n / 5) * 2, 'the highest counter value')
        assert.equal(taken.filter((r) => r !== undefined).length, 1, 'one take got the value')
        assert.equal(text(await store.get('c:0')), String(Math.ceil(n / 5) * 2), "get('c:0')")
      },
    )
  })
}
