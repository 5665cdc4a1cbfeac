import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TimerWheel } from '../../../src/memory/timer-wheel.js'

const START = Date.UTC(2025, 0, 1)
const DAY = 86_400_000

describe('TimerWheel', () => {
  it('expires each slot after its deadline, and at most one bucket width late', () => {
    const n = 5_000
    const expiredAt = new Float64Array(n)
    let now = START
    const wheel = new TimerWheel(n, now, (slot) => (expiredAt[slot] = now))
    let seed = 11
    const random = (max: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return (seed / 2 ** 31) * max
    }
    const deadlines: number[] = []
    for (let slot = 0; slot < n; slot++) {
      // Deadlines from already due to 120 days: every level and the overflow bucket.
      const duration = slot % 10 === 0 ? -5_000 : Math.floor(random(120 * DAY))
      deadlines.push(START + duration)
      wheel.schedule(slot, START + duration)
    }
    expect(wheel.size).toBe(n)
    while (now < START + 130 * DAY) {
      now += 1 + Math.floor(random(6 * 3_600_000))
      wheel.advance(now)
    }
    expect(wheel.size).toBe(0)
    for (let slot = 0; slot < n; slot++) {
      const deadline = deadlines[slot]!
      const late = expiredAt[slot]! - deadline
      expect(expiredAt[slot]).toBeGreaterThanOrEqual(deadline)
      // The wheel is stepped by up to 6 h here, so add one step to the bound.
      expect(late).toBeLessThanOrEqual(Math.max(1024, deadline - START) + 6 * 3_600_000)
    }
  })

  it('expires exactly the due slots when time moves in small steps', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: DAY }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 10_000, max: 3_600_000 }),
        (durations, step) => {
          let now = START
          const expired = new Set<number>()
          const wheel = new TimerWheel(durations.length, now, (slot) => {
            expect(START + durations[slot]!).toBeLessThanOrEqual(now)
            expired.add(slot)
          })
          durations.forEach((d, slot) => wheel.schedule(slot, START + d))
          while (now < START + 2 * DAY + step) wheel.advance((now += step))
          expect(expired.size).toBe(durations.length)
        },
      ),
      { numRuns: 50 },
    )
  })

  it('forgets unscheduled slots and keeps the latest deadline of a rescheduled one', () => {
    let now = START
    const expired: number[] = []
    const wheel = new TimerWheel(4, now, (slot) => expired.push(slot))
    wheel.schedule(0, START + 1000)
    wheel.schedule(1, START + 1000)
    wheel.schedule(2, START + 1000)
    wheel.unschedule(1)
    wheel.schedule(2, START + 100_000)
    wheel.advance((now += 5_000))
    expect(expired).toEqual([0])
    wheel.advance((now += 200_000))
    expect(expired).toEqual([0, 2])
    expect(wheel.size).toBe(0)
  })

  it('lets the expiry callback unschedule and reschedule other slots', () => {
    let now = START
    const expired: number[] = []
    const wheel = new TimerWheel(100, now, (slot) => {
      expired.push(slot)
      // A listener deleting another due entry, and writing a new one.
      wheel.unschedule(slot + 1)
      wheel.schedule(99, now + 50)
    })
    for (let slot = 0; slot < 10; slot++) wheel.schedule(slot, START + 500)
    wheel.advance((now += 2_000))
    expect(expired.length).toBeGreaterThan(0)
    expect(expired.length).toBeLessThanOrEqual(10)
    expect(new Set(expired).size).toBe(expired.length)
    wheel.advance((now += 10_000))
    expect(expired).toContain(99)
  })

  it('costs nothing until a deadline is scheduled, and clears', () => {
    const wheel = new TimerWheel(1_000_000, START, () => {
      throw new Error('nothing is scheduled')
    })
    wheel.advance(START + 365 * DAY)
    wheel.grow(2_000_000)
    wheel.schedule(1_999_999, START + 365 * DAY + 10)
    wheel.clear(START + 365 * DAY)
    wheel.advance(START + 400 * DAY)
    expect(wheel.size).toBe(0)
  })
})
