import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/testing/manual-clock.js'

describe('ManualClock', () => {
  it('starts at 2025-01-01T00:00:00Z by default', () => {
    expect(new ManualClock().now()).toBe(Date.UTC(2025, 0, 1))
  })

  it('starts at the given time, as a number or a Date', () => {
    expect(new ManualClock(1_000).now()).toBe(1_000)
    expect(new ManualClock(new Date('2030-06-01T00:00:00Z')).now()).toBe(Date.UTC(2030, 5, 1))
  })

  it('stays still until advanced', async () => {
    const clock = new ManualClock(0)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(clock.now()).toBe(0)
  })

  it('advance moves forward, cumulatively, and accepts 0', () => {
    const clock = new ManualClock(1_000)
    clock.advance(500)
    clock.advance(0)
    clock.advance(250)
    expect(clock.now()).toBe(1_750)
  })

  it('advance rejects negative and non-finite steps without moving', () => {
    const clock = new ManualClock(1_000)
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => clock.advance(bad)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
      )
    }
    expect(clock.now()).toBe(1_000)
  })

  it('set moves to any time, backwards included', () => {
    const clock = new ManualClock(5_000)
    clock.set(1_000)
    expect(clock.now()).toBe(1_000)
    clock.set(new Date(Date.UTC(2031, 0, 1)))
    expect(clock.now()).toBe(Date.UTC(2031, 0, 1))
    expect(() => clock.set(Number.NaN)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
    expect(clock.now()).toBe(Date.UTC(2031, 0, 1))
  })

  it('serves as a Clock: now() works detached, as stores call it', () => {
    const clock = new ManualClock(42)
    const { now } = clock
    clock.advance(8)
    expect(now()).toBe(50)
  })

  it('rejects a non-finite start', () => {
    expect(() => new ManualClock(Number.NaN)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
  })
})
