import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FrequencySketch } from '../../../src/memory/sketch.js'
import { mixHash } from '../../helpers/policy-harness.js'

describe('FrequencySketch', () => {
  it('counts a key up to 15 in its counters (16 with the doorkeeper), then saturates', () => {
    const sketch = new FrequencySketch(1024)
    const hash = mixHash(7)
    expect(sketch.frequency(hash)).toBe(0)
    for (let n = 1; n <= 16; n++) {
      sketch.increment(hash)
      expect(sketch.frequency(hash)).toBe(n)
    }
    const size = sketch.size
    for (let n = 0; n < 20; n++) sketch.increment(hash)
    expect(sketch.frequency(hash)).toBe(16)
    // Saturated increments are not additions: they do not bring the next aging closer.
    expect(sketch.size).toBe(size)
  })

  it('never estimates below the true count (count-min), on random streams', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 256 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 400 }),
        (maxEntries, keys) => {
          const sketch = new FrequencySketch(maxEntries)
          // Stay within one sample period: aging is meant to lower estimates.
          const stream = keys.slice(0, sketch.sampleSize - 1)
          const counts = new Map<number, number>()
          for (const key of stream) {
            sketch.increment(mixHash(key))
            counts.set(key, (counts.get(key) ?? 0) + 1)
          }
          for (const [key, count] of counts) {
            expect(sketch.frequency(mixHash(key))).toBeGreaterThanOrEqual(Math.min(count, 16))
          }
        },
      ),
    )
  })

  it('halves every count after sampleSize additions (aging)', () => {
    const sketch = new FrequencySketch(1000)
    expect(sketch.sampleSize).toBe(10_000)
    const hot = mixHash(1)
    for (let i = 0; i < 11; i++) sketch.increment(hot)
    expect(sketch.frequency(hot)).toBe(11) // doorkeeper + 10
    let key = 2
    let previous = sketch.size
    // Distinct keys add one addition each; stop right after the sketch ages.
    for (;;) {
      sketch.increment(mixHash(key++))
      if (sketch.size < previous) break
      previous = sketch.size
    }
    expect(previous).toBe(sketch.sampleSize - 1)
    expect(sketch.size).toBeLessThanOrEqual(sketch.sampleSize / 2)
    // 10 halves to 5; the doorkeeper was cleared.
    expect(sketch.frequency(hot)).toBe(5)
  })

  it('reset() halves counters and drops the odd one', () => {
    const sketch = new FrequencySketch(64)
    const a = mixHash(10)
    const b = mixHash(11)
    for (let i = 0; i < 8; i++) sketch.increment(a) // doorkeeper + 7
    for (let i = 0; i < 5; i++) sketch.increment(b) // doorkeeper + 4
    sketch.reset()
    expect(sketch.frequency(a)).toBe(3)
    expect(sketch.frequency(b)).toBe(2)
  })

  it('counts a key seen once as 1 through the doorkeeper, which aging clears', () => {
    const sketch = new FrequencySketch(256)
    const once = mixHash(42)
    const thrice = mixHash(43)
    sketch.increment(once)
    for (let i = 0; i < 3; i++) sketch.increment(thrice)
    expect(sketch.frequency(once)).toBe(1)
    expect(sketch.frequency(thrice)).toBe(3)
    sketch.reset()
    expect(sketch.frequency(once)).toBe(0)
    expect(sketch.frequency(thrice)).toBe(1)
    // After the reset the doorkeeper takes the first sighting again.
    sketch.increment(once)
    expect(sketch.frequency(once)).toBe(1)
  })

  it('keeps a fixed amount of memory for a bounded maxEntries', () => {
    const sketch = new FrequencySketch(1000)
    // 1024 entries: 2 words of counters and 1 word of doorkeeper each.
    expect(sketch.byteLength).toBe(1024 * 2 * 4 + 1024 * 4)
    for (let i = 0; i < 100_000; i++) sketch.increment(mixHash(i % 5000))
    sketch.ensureCapacity(500)
    sketch.ensureCapacity(1000)
    expect(sketch.byteLength).toBe(1024 * 12)
    sketch.clear()
    expect(sketch.byteLength).toBe(1024 * 12)
    expect(sketch.frequency(mixHash(1))).toBe(0)
  })

  it('grows (and forgets) when asked for more entries', () => {
    const sketch = new FrequencySketch(64)
    sketch.increment(mixHash(1))
    sketch.ensureCapacity(1000)
    expect(sketch.byteLength).toBe(1024 * 12)
    expect(sketch.sampleSize).toBe(10_000)
    expect(sketch.frequency(mixHash(1))).toBe(0)
  })

  it('spreads sequential keys over the table', () => {
    const sketch = new FrequencySketch(1024)
    for (let key = 0; key < 1024; key++) {
      sketch.increment(key)
      sketch.increment(key)
    }
    let exact = 0
    for (let key = 0; key < 1024; key++) if (sketch.frequency(key) === 2) exact++
    expect(exact).toBeGreaterThan(1000)
  })
})
