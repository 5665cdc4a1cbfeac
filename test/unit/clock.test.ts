import { describe, expect, it } from 'vitest'
import { CoarseClock } from '../../src/clock.js'

describe('CoarseClock', () => {
  it('reuses one reading within a millisecond, then reads again', async () => {
    const clock = new CoarseClock()
    const first = clock.now()
    expect(Math.abs(first - Date.now())).toBeLessThanOrEqual(5)
    expect(clock.now()).toBe(first)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(clock.now()).toBeGreaterThan(first)
    clock.stop()
  })

  it('never holds a timer that keeps the process alive', () => {
    const before = process.getActiveResourcesInfo()
    const clock = new CoarseClock()
    clock.now()
    expect(process.getActiveResourcesInfo()).toEqual(before)
    clock.stop()
    const after = clock.now()
    expect(after).toBeGreaterThan(0)
    clock.stop()
  })
})
