/**
 * Basic reads and writes: what the engine relies on for every call. The keys and
 * values here are the ones drivers get wrong: empty values, every byte value, views
 * into larger buffers, and keys full of the metacharacters of globs, LIKE, paths and
 * text protocols, or differing only where a case-insensitive collation looks away.
 */
import assert from 'node:assert/strict'
import type { Harness } from './harness.js'
import { assertBytes, assertMiss, bytes, patternBytes } from './harness.js'

/**
 * Keys that must each round-trip and stay distinct. They carry glob (`*?[]\`), LIKE
 * (`%_`), path (`/ ..`) and protocol (space, newline) metacharacters, plus unicode.
 */
export const SPECIAL_KEYS: readonly string[] = [
  'a:b:c',
  'colon:',
  ':leading-colon',
  '*',
  'star*key',
  '?',
  'question?key',
  '[ab]',
  'class[ab]key',
  '%',
  'percent%key',
  '_',
  'under_score',
  '\\',
  'back\\slash',
  '\\*escaped',
  'with space',
  ' leading-space',
  'tab\tkey',
  'new\nline',
  "single'quote",
  'double"quote',
  'semi;colon--',
  'slash/key',
  '../dot-dot',
  '.',
  'unicode é ü ß 中文 Ω',
  'emoji 🎉🔑👩‍👩‍👧',
]

/**
 * Groups of keys a byte-exact store keeps apart, but a case- or accent-insensitive
 * collation (MySQL's default), PAD SPACE comparison or Unicode normalization merges.
 */
const LOOKALIKE_KEYS: readonly string[] = [
  'key',
  'Key',
  'KEY',
  'e',
  'é',
  'E',
  'pad',
  'pad ',
  'pad  ',
  'caf\u00e9',
  'cafe\u0301',
  'ss',
  'ß',
]

/**
 * Registers the basic group: capabilities, get/set/delete, empty, binary and large
 * values, and keys with special characters.
 *
 * @example
 * ```ts
 * registerBasicTests(harness)
 * ```
 */
export function registerBasicTests(h: Harness): void {
  h.describe('basic', () => {
    h.test('declares a name and well-formed capabilities', async ({ store }) => {
      assert.equal(typeof store.name, 'string', 'name must be a string')
      assert.ok(store.name.length > 0, 'name must not be empty')
      const caps: unknown = store.capabilities
      assert.ok(typeof caps === 'object' && caps !== null, 'capabilities must be an object')
      const { list, shared, ttlGranularity } = store.capabilities
      assert.equal(typeof list, 'boolean', 'capabilities.list must be a boolean')
      assert.equal(typeof shared, 'boolean', 'capabilities.shared must be a boolean')
      assert.ok(
        ttlGranularity === 'ms' || ttlGranularity === 's',
        `capabilities.ttlGranularity must be 'ms' or 's', not ${String(ttlGranularity)}`,
      )
    })

    h.test('get of a missing key is undefined', async ({ store }) => {
      assertMiss(await store.get('missing'), "get('missing')")
    })

    h.test('set then get returns the same bytes', async ({ store }) => {
      await store.set('k', bytes('value'))
      assertBytes(await store.get('k'), bytes('value'), "get('k')")
    })

    h.test('set replaces the previous value, longer or shorter', async ({ store }) => {
      await store.set('k', patternBytes(100))
      await store.set('k', bytes('short'))
      assertBytes(await store.get('k'), bytes('short'), 'after overwriting 100 bytes with 5')
      await store.set('k', patternBytes(200, 7))
      assertBytes(await store.get('k'), patternBytes(200, 7), 'after overwriting 5 bytes with 200')
    })

    h.test(
      'delete returns true for a live key, then false, and the key is gone',
      async ({ store }) => {
        await store.set('k', bytes('v'))
        await store.set('other', bytes('o'))
        assert.equal(await store.delete('k'), true, "delete('k') of a present key")
        assertMiss(await store.get('k'), "get('k') after delete")
        assert.equal(await store.delete('k'), false, "delete('k') a second time")
        assert.equal(await store.delete('never-set'), false, "delete('never-set')")
        assertBytes(await store.get('other'), bytes('o'), 'a key that was not deleted')
      },
    )

    h.test('an empty value is a hit, not a miss', async ({ store }) => {
      await store.set('empty', new Uint8Array(0))
      assertBytes(await store.get('empty'), new Uint8Array(0), "get('empty')")
      const [slot] = await store.getMany(['empty'])
      assertBytes(slot, new Uint8Array(0), "getMany(['empty'])")
      assert.equal(await store.delete('empty'), true, "delete('empty') of a stored empty value")
    })

    h.test('binary values with every byte 0..255 round-trip', async ({ store }) => {
      const ascending = Uint8Array.from({ length: 256 }, (_, i) => i)
      const descending = Uint8Array.from({ length: 256 }, (_, i) => 255 - i)
      // Invalid UTF-8 and a NUL in the middle: what a text column or a C string would mangle.
      const tricky = Uint8Array.from([
        0x00, 0xff, 0xfe, 0xc3, 0x28, 0x00, 0xed, 0xa0, 0x80, 0x0d, 0x0a,
      ])
      await store.set('asc', ascending)
      await store.set('desc', descending)
      await store.set('tricky', tricky)
      assertBytes(await store.get('asc'), ascending, "get('asc')")
      assertBytes(await store.get('desc'), descending, "get('desc')")
      assertBytes(await store.get('tricky'), tricky, "get('tricky')")
    })

    h.test('a large value round-trips byte-exact', async ({ store, options }) => {
      const large = patternBytes(options.largeValueBytes, 3)
      await store.set('large', large)
      assertBytes(await store.get('large'), large, `get of ${options.largeValueBytes} bytes`)
      const [slot] = await store.getMany(['large'])
      assertBytes(slot, large, `getMany of ${options.largeValueBytes} bytes`)
    })

    h.test('a view into a larger buffer stores only the viewed bytes', async ({ store }) => {
      // Drivers that write `Buffer.from(value.buffer)` store the whole backing buffer.
      const backing = patternBytes(64, 5)
      const view = backing.subarray(8, 24)
      await store.set('view', view)
      assertBytes(await store.get('view'), backing.slice(8, 24), 'a 16-byte view at offset 8')
      // Small Buffers share Node's 8 KiB pool, so they are views too.
      const pooled = Buffer.from('pooled value')
      await store.set('pooled', pooled)
      assertBytes(await store.get('pooled'), bytes('pooled value'), 'a pooled Buffer')
      await store.setMany([{ key: 'view-many', value: backing.subarray(40, 48) }])
      assertBytes(await store.get('view-many'), backing.slice(40, 48), 'a view written by setMany')
    })

    h.test('keys with special characters round-trip and stay distinct', async ({ store }) => {
      const value = (i: number): Uint8Array => bytes(`value-${i}`)
      for (const [i, key] of SPECIAL_KEYS.entries()) await store.set(key, value(i))
      for (const [i, key] of SPECIAL_KEYS.entries()) {
        assertBytes(await store.get(key), value(i), `get(${JSON.stringify(key)})`)
      }
      const all = await store.getMany(SPECIAL_KEYS)
      for (const [i, key] of SPECIAL_KEYS.entries()) {
        assertBytes(all[i], value(i), `getMany slot of ${JSON.stringify(key)}`)
      }
      for (const key of SPECIAL_KEYS) {
        assert.equal(await store.delete(key), true, `delete(${JSON.stringify(key)})`)
        assertMiss(await store.get(key), `get(${JSON.stringify(key)}) after its delete`)
      }
    })

    h.test(
      'keys differing only in case, accents, trailing spaces or normalization are distinct',
      async ({ store }) => {
        for (const [i, key] of LOOKALIKE_KEYS.entries()) await store.set(key, bytes(`v${i}`))
        for (const [i, key] of LOOKALIKE_KEYS.entries()) {
          assertBytes(await store.get(key), bytes(`v${i}`), `get(${JSON.stringify(key)})`)
        }
        assert.equal(await store.delete('Key'), true, "delete('Key')")
        assertBytes(await store.get('key'), bytes('v0'), "get('key') after delete('Key')")
        assertBytes(await store.get('KEY'), bytes('v2'), "get('KEY') after delete('Key')")
      },
    )
  })
}
