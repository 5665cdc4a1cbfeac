import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TinyLfuPolicy } from '../../../src/memory/tinylfu.js'
import { mixHash, PolicyHarness } from '../../helpers/policy-harness.js'

const UNBOUNDED = 0xfffffffe

function tinyLfu(size: number): { policy: TinyLfuPolicy; h: PolicyHarness } {
  const policy = new TinyLfuPolicy(size, size + 1)
  return { policy, h: new PolicyHarness(policy, size) }
}

/** Segment bounds hold and every held key is in exactly one segment. */
function checkInvariants(policy: TinyLfuPolicy, h: PolicyHarness): void {
  const held = policy.windowSize + policy.probationSize + policy.protectedSize
  // Only reach for expect() on a failure: it is slow, and this runs on every step.
  if (
    policy.windowSize <= policy.windowTarget + 1 &&
    policy.protectedSize <= policy.protectedTarget + 1 &&
    held === h.count
  ) {
    return
  }
  expect(policy.windowSize).toBeLessThanOrEqual(policy.windowTarget + 1)
  expect(policy.protectedSize).toBeLessThanOrEqual(policy.protectedTarget + 1)
  expect(policy.windowSize + policy.probationSize + policy.protectedSize).toBe(h.count)
}

describe('TinyLfuPolicy', () => {
  it('tracks one entry and names it as the victim', () => {
    const policy = new TinyLfuPolicy(4, 5)
    expect(policy.victim()).toBe(-1)
    policy.insert(3, mixHash(3))
    policy.touch(3)
    expect(policy.victim()).toBe(3)
    policy.remove(3)
    expect(policy.victim()).toBe(-1)
  })

  it('starts with a 1 % window and 80 % of the main space protected', () => {
    const policy = new TinyLfuPolicy(1000, 1001)
    expect(policy.windowTarget).toBe(10)
    expect(policy.protectedTarget).toBe(792)
    expect(new TinyLfuPolicy(1, 2).windowTarget).toBe(1)
  })

  it('keeps frequently used keys through a scan of one-time keys', () => {
    const hotAfterScan = (scan: number): number => {
      const { h } = tinyLfu(100)
      for (let pass = 0; pass < 5; pass++) for (let key = 0; key < 100; key++) h.access(key)
      for (let key = 1000; key < 1000 + scan; key++) h.access(key)
      let resident = 0
      for (let key = 0; key < 100; key++) if (h.has(key)) resident++
      return resident
    }
    // Within one aging period (10 × 100 additions) the hot keys outrank every newcomer.
    expect(hotAfterScan(1000)).toBeGreaterThanOrEqual(90)
    // A scan 100 times the cache ages the sketch 10 times: the 20 hot keys left in
    // probation are forgotten and lose their duels, but the protected segment
    // (80 %) holds, and the hill climber does not hand it to the scan.
    expect(hotAfterScan(10_000)).toBeGreaterThanOrEqual(75)
  })

  it('refuses a newcomer less frequent than the victim', () => {
    const { policy, h } = tinyLfu(10)
    for (let pass = 0; pass < 4; pass++) for (let key = 0; key < 10; key++) h.access(key)
    // 100 enters the window and pushes the window's previous entry into probation.
    h.access(100)
    // 101 pushes 100 out of the window: seen once, it loses to a key seen 4 times.
    h.access(101)
    expect(policy.lastVictimRefused).toBe(true)
    expect(h.evicted).toEqual([100])
    expect(h.has(101)).toBe(true)
  })

  it('admits a newcomer more frequent than the victim', () => {
    const { policy, h } = tinyLfu(10)
    for (let key = 0; key < 10; key++) h.access(key)
    // 50 and 51 build up frequency while evicted, then beat keys seen once.
    for (let i = 0; i < 4; i++) {
      h.access(50)
      h.access(51)
    }
    expect(h.has(50)).toBe(true)
    expect(h.has(51)).toBe(true)
    h.access(52)
    expect(policy.lastVictimRefused).toBe(false)
  })

  it('promotes a probation hit to protected and demotes protected overflow', () => {
    const { policy, h } = tinyLfu(10) // window 1, protected 7
    for (let key = 0; key < 10; key++) h.access(key)
    expect(policy.windowSize).toBe(1)
    expect(policy.probationSize).toBe(9)
    for (let key = 0; key < 9; key++) h.access(key)
    expect(policy.protectedSize).toBe(7)
    expect(policy.probationSize).toBe(2)
    checkInvariants(policy, h)
  })

  it('keeps segments within their targets on a long mixed trace', () => {
    const { policy, h } = tinyLfu(50)
    let seed = 7
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let i = 0; i < 50_000; i++) {
      const phase = Math.floor(i / 5000) % 2
      h.access(phase === 0 ? random(80) : i % 3 === 0 ? random(40) : 1000 + i)
      if (random(20) === 0) h.delete(random(80))
      checkInvariants(policy, h)
      expect(h.count).toBeLessThanOrEqual(50)
    }
  })

  it('moves the window towards recency when the hit rate calls for it', () => {
    // A sliding working set: each key is hot for a short while, then never seen
    // again. LRU wins here; the climber should grow the window well past 1 %.
    const { policy, h } = tinyLfu(200)
    for (let i = 0; i < 200_000; i++) h.access(Math.floor(i / 4) + (i % 7) * 25)
    expect(policy.windowTarget).toBeGreaterThan(2)
  })

  it('sizes itself from the resident entries when only bytes bound the store', () => {
    const policy = new TinyLfuPolicy(UNBOUNDED, 64)
    const h = new PolicyHarness(policy, 5000)
    policy.grow(5001)
    // 300 hot keys, each read every 900 requests, among one-time keys.
    for (let i = 0; i < 40_000; i++) h.access(i % 3 === 0 ? (i / 3) % 300 : 1000 + i)
    expect(h.count).toBe(5000)
    let resident = 0
    for (let key = 0; key < 300; key++) if (h.has(key)) resident++
    expect(resident).toBeGreaterThanOrEqual(290)
    expect(policy.windowTarget).toBeGreaterThanOrEqual(1)
    checkInvariants(policy, h)
  })

  it('keeps its state when it grows, and forgets everything on clear', () => {
    const policy = new TinyLfuPolicy(100, 4)
    for (let slot = 0; slot < 4; slot++) policy.insert(slot, mixHash(slot))
    policy.touch(0)
    policy.grow(16)
    policy.insert(10, mixHash(10))
    expect(policy.windowSize + policy.probationSize + policy.protectedSize).toBe(5)
    expect(policy.frequency(mixHash(0))).toBe(2)
    policy.clear()
    expect(policy.victim()).toBe(-1)
    expect(policy.windowSize + policy.probationSize + policy.protectedSize).toBe(0)
    expect(policy.frequency(mixHash(0))).toBe(0)
  })

  it('keeps its invariants and names tracked victims over random operations', () => {
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('access'), key: fc.nat(60) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete'), key: fc.nat(60) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('victim'), key: fc.constant(0) }) },
    )
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.array(op, { maxLength: 600 }),
        (size, ops) => {
          const { policy, h } = tinyLfu(size) // the harness throws on an untracked victim
          for (const { kind, key } of ops) {
            if (kind === 'access') h.access(key)
            else if (kind === 'delete') h.delete(key)
            else {
              const victim = policy.victim()
              if (h.count === 0) expect(victim).toBe(-1)
              else expect(h.keys().map((k) => h.slotOf(k))).toContain(victim)
            }
            checkInvariants(policy, h)
            expect(h.count).toBeLessThanOrEqual(size)
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
