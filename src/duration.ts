import { InvalidArgumentError } from './errors.js'

/**
 * A duration: milliseconds as a number, or a string with a unit:
 * `'250ms'`, `'30s'`, `'5m'`, `'1h'`, `'1d'`, `'1w'` (decimals allowed: `'1.5h'`).
 */
export type Duration = number | `${number}${DurationUnit}` | `${number} ${DurationUnit}`

/** Units a duration string may carry. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w'

const UNIT_MS: Record<DurationUnit, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

const PATTERN = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d|w)$/

/**
 * Parses a duration to milliseconds. Zero is allowed only when `allowZero` is set;
 * negative, non-finite and unparsable durations throw {@link InvalidArgumentError},
 * naming `what` (the option) in the message.
 *
 * @example
 * ```ts
 * parseDuration('5m', 'ttl') // 300000
 * parseDuration(250, 'ttl')  // 250
 * parseDuration('soon', 'ttl') // throws InvalidArgumentError
 * ```
 */
export function parseDuration(value: unknown, what: string, allowZero = false): number {
  let ms: number
  if (typeof value === 'number') {
    ms = value
  } else if (typeof value === 'string') {
    const match = PATTERN.exec(value.trim())
    if (match === null) {
      throw new InvalidArgumentError(
        `${what} '${value}' is not a duration: use milliseconds or a string such as '250ms', '30s', '5m', '1h', '1d'.`,
      )
    }
    ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit]
  } else {
    throw new InvalidArgumentError(
      `${what} must be a number of milliseconds or a duration string, not ${describe(value)}.`,
    )
  }
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !allowZero) || ms > MAX_DURATION_MS) {
    throw new InvalidArgumentError(
      `${what} must be a finite duration ${allowZero ? 'of at least 0' : 'above 0'} and at most ${MAX_DURATION_MS} ms, not ${typeof value === 'number' ? value : JSON.stringify(value)}.`,
    )
  }
  return ms
}

/**
 * The longest duration accepted: 100 years. Far beyond any cache ttl, and small
 * enough that `now + ttl` stays an exact integer in a double.
 */
export const MAX_DURATION_MS = 100 * 365 * 86_400_000

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  switch (typeof value) {
    case 'object':
      return 'an object'
    case 'function':
      return 'a function'
    case 'symbol':
      return 'a symbol'
    case 'undefined':
      return 'undefined'
    default:
      return `${typeof value} ${(value as boolean | bigint).toString()}`
  }
}
