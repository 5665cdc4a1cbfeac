/**
 * The source of time for expiry. Injectable so tests can move time by hand
 * (see `ManualClock` in `tiercache/testing`) instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
}

/**
 * The wall clock, read on every call. Expiry deadlines are absolute epoch
 * milliseconds, so they survive restarts and compare across processes.
 */
export const systemClock: Clock = { now: Date.now }

/** How long a coarse clock reuses one reading. */
export const CLOCK_RESOLUTION_MS = 1

/**
 * The wall clock read at most once per millisecond, as lru-cache's
 * `ttlResolution` does: `Date.now()` costs as much as the rest of an L1 hit.
 * The reading is dropped by a one-shot, unref'd timer armed only while the clock
 * is in use, so an idle cache holds no timer and never keeps the process alive.
 * Entries may live up to {@link CLOCK_RESOLUTION_MS} past their deadline.
 *
 * @example
 * ```ts
 * const clock = new CoarseClock()
 * clock.now() // Date.now(), reused for the next millisecond
 * clock.stop()
 * ```
 */
export class CoarseClock implements Clock {
  #cached = 0
  #timer: NodeJS.Timeout | undefined
  readonly #forget = (): void => {
    this.#cached = 0
    this.#timer = undefined
  }

  readonly now = (): number => {
    if (this.#cached !== 0) return this.#cached
    this.#cached = Date.now()
    this.#timer = setTimeout(this.#forget, CLOCK_RESOLUTION_MS)
    this.#timer.unref()
    return this.#cached
  }

  /** Cancels the pending timer, if any; the clock still works afterwards. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#forget()
  }
}
