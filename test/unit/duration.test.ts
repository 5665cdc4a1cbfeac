import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, parseDuration } from '../../src/index.js'

describe('parseDuration', () => {
  it('reads milliseconds and every unit', () => {
    expect(parseDuration(250, 'ttl')).toBe(250)
    expect(parseDuration('250ms', 'ttl')).toBe(250)
    expect(parseDuration('30s', 'ttl')).toBe(30_000)
    expect(parseDuration('5m', 'ttl')).toBe(300_000)
    expect(parseDuration('1h', 'ttl')).toBe(3_600_000)
    expect(parseDuration('1d', 'ttl')).toBe(86_400_000)
    expect(parseDuration('2w', 'ttl')).toBe(2 * 604_800_000)
    expect(parseDuration('1.5h', 'ttl')).toBe(5_400_000)
    expect(parseDuration('30 s', 'ttl')).toBe(30_000)
    expect(parseDuration('30d', 'ttl')).toBe(30 * 86_400_000)
    expect(parseDuration('365d', 'ttl')).toBe(365 * 86_400_000)
  })

  it.each([
    [Infinity],
    [NaN],
    [-1],
    [0],
    ['abc'],
    ['5'],
    ['-5m'],
    ['5 minutes'],
    [''],
    [null],
    [{}],
    [true],
    ['101y'],
    [1e20],
  ])('rejects %s with a typed error naming the option', (value) => {
    expect(() => parseDuration(value, 'ttl')).toThrow(InvalidArgumentError)
    expect(() => parseDuration(value, 'ttl')).toThrow(/ttl/)
  })

  it('accepts zero only when asked to', () => {
    expect(parseDuration(0, 'grace', true)).toBe(0)
    expect(() => parseDuration(0, 'ttl')).toThrow(InvalidArgumentError)
  })
})
