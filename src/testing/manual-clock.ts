import type { Clock } from '../clock.js'
import { InvalidArgumentError } from '../errors.js'

/** 2025-01-01T00:00:00.000Z: a fixed start, so expiry times in test failures read the same on every run. */
const DEFAULT_START = Date.UTC(2025, 0, 1)

/**
 * A {@link Clock} that moves only when told to. Give it to a store or cache to test
 * expiry, grace and refresh-ahead without sleeping: a test that advances five minutes
 * runs in microseconds and cannot flake on a slow machine.
 *
 * @example
 * ```ts
 * const clock = new ManualClock()
 * const store = memoryStore({ clock })
 * await store.set('k', bytes, 1_000)
 * clock.advance(999)  // still there
 * clock.advance(1)    // expired: get('k') is now undefined
 * ```
 */
export class ManualClock implements Clock {
  #now: number

  /**
   * @param start - the initial time in epoch milliseconds, or a Date.
   * @default 2025-01-01T00:00:00.000Z
   */
  constructor(start: number | Date = DEFAULT_START) {
    this.#now = checkTime(start instanceof Date ? start.getTime() : start, 'start')
  }

  /**
   * The current manual time in epoch milliseconds. A bound function rather than a
   * method, because stores may keep `clock.now` detached (`systemClock.now` is
   * `Date.now`, which works that way).
   *
   * @example
   * ```ts
   * const { now } = new ManualClock(0)
   * now() // 0
   * ```
   */
  readonly now = (): number => this.#now

  /**
   * Moves time forward by `ms`. Only forward: a negative step is almost always a
   * sign error in the test, so it throws; use {@link ManualClock.set} to test a clock
   * that jumps back.
   *
   * @example
   * ```ts
   * const clock = new ManualClock(1_000)
   * clock.advance(500)
   * clock.now() // 1500
   * ```
   */
  advance(ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new InvalidArgumentError(
        `ManualClock.advance needs a finite number of milliseconds of at least 0, not ${String(ms)}; use set() to move back.`,
      )
    }
    this.#now += ms
  }

  /**
   * Sets the time to `ms` (epoch milliseconds), backwards too, to test clock skew and NTP jumps.
   *
   * @example
   * ```ts
   * const clock = new ManualClock()
   * clock.set(Date.UTC(2030, 0, 1))
   * ```
   */
  set(ms: number | Date): void {
    this.#now = checkTime(ms instanceof Date ? ms.getTime() : ms, 'set')
  }
}

function checkTime(ms: number, what: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new InvalidArgumentError(
      `ManualClock ${what} needs a finite time in epoch milliseconds, not ${String(ms)}.`,
    )
  }
  return ms
}
