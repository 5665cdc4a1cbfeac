/**
 * The source of time for expiry. Injectable so tests can move time by hand
 * (see `ManualClock` in `tiercache/testing`) instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
}

/** The wall clock. Expiry deadlines are absolute epoch milliseconds, so they survive restarts and compare across processes. */
export const systemClock: Clock = { now: Date.now }
