import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ArcPolicy } from '../../../src/memory/arc.js'
import { LruPolicy } from '../../../src/memory/lru.js'
import { PolicyHarness, replay } from '../../helpers/policy-harness.js'

const UNBOUNDED = 0xfffffffe

function arcHarness(c: number): { arc: ArcPolicy; h: PolicyHarness } {
  const arc = new ArcPolicy(c, c + 1)
  return { arc, h: new PolicyHarness(arc, c) }
}

/** A seeded generator, so a failing trace can be replayed. */
function lcg(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return Math.floor((seed / 2 ** 31) * n)
  }
}

/**
 * A trace over `range` keys mixing a hot set, uniform picks and short scans, so
 * that both ghost lists get hits and p moves both ways.
 */
function randomTrace(length: number, range: number, seed: number): number[] {
  const random = lcg(seed)
  const keys: number[] = []
  while (keys.length < length) {
    const pick = random(10)
    if (pick < 5) keys.push(random(Math.max(1, range >> 3)))
    else if (pick < 9) keys.push(random(range))
    else {
      const start = random(range)
      const run = 1 + random(range >> 1)
      for (let i = 0; i < run; i++) keys.push((start + i) % range)
    }
  }
  keys.length = length
  return keys
}

/** Removes `x` from `list`; whether it was there. */
function take(list: number[], x: number): boolean {
  const i = list.indexOf(x)
  if (i === -1) return false
  list.splice(i, 1)
  return true
}

/** ARC as Fig. 4 of the paper writes it, over keys in plain arrays (least recent first). */
class ReferenceArc {
  readonly t1: number[] = []
  readonly t2: number[] = []
  readonly b1: number[] = []
  readonly b2: number[] = []
  p = 0
  /** Ghost hits seen, to show a trace took both adaptation paths. */
  b1Hits = 0
  b2Hits = 0

  constructor(readonly c: number) {}

  /** Requests `x`; whether it was a hit. */
  access(x: number): boolean {
    const { c, t1, t2, b1, b2 } = this
    // Case I: a hit in T1 or T2.
    if (take(t1, x) || take(t2, x)) {
      t2.push(x)
      return true
    }
    // Case II: a ghost hit in B1.
    if (b1.includes(x)) {
      this.b1Hits++
      this.p = Math.min(this.p + (b1.length >= b2.length ? 1 : b2.length / b1.length), c)
      this.#replace(false)
      take(b1, x)
      t2.push(x)
      return false
    }
    // Case III: a ghost hit in B2.
    if (b2.includes(x)) {
      this.b2Hits++
      this.p = Math.max(this.p - (b2.length >= b1.length ? 1 : b1.length / b2.length), 0)
      this.#replace(true)
      take(b2, x)
      t2.push(x)
      return false
    }
    // Case IV: in no list.
    const l1 = t1.length + b1.length
    const l2 = t2.length + b2.length
    if (l1 === c) {
      if (t1.length < c) {
        b1.shift()
        this.#replace(false)
      } else {
        t1.shift()
      }
    } else if (l1 < c && l1 + l2 >= c) {
      if (l1 + l2 === 2 * c) b2.shift()
      this.#replace(false)
    }
    t1.push(x)
    return false
  }

  #replace(xInB2: boolean): void {
    const { t1, t2 } = this
    if (t1.length >= 1 && ((xInB2 && t1.length === this.p) || t1.length > this.p)) {
      this.b1.push(t1.shift()!)
    } else {
      this.b2.push(t2.shift()!)
    }
  }
}

/**
 * Checks the paper's bounds, |T1| + |B1| ≤ c and |T1| + |T2| + |B1| + |B2| ≤ 2c,
 * with 0 ≤ p ≤ c, and that the policy holds the `held` entries. With
 * `unbounded`, c is the resident count (at least 1), as when only bytes bound
 * the store. Plain checks, one `expect` per call: these run 100k times.
 */
function expectBounds(arc: ArcPolicy, c: number, held: number, unbounded = false): void {
  if (unbounded) c = Math.max(1, held)
  const { t1Size: t1, t2Size: t2, b1Size: b1, b2Size: b2, p } = arc
  const state = { c, held, t1, t2, b1, b2, p }
  const broken =
    t1 + t2 !== held ||
    t1 + b1 > c ||
    t1 + t2 + b1 + b2 > 2 * c ||
    (unbounded && b1 + b2 > c) ||
    !(p >= 0 && p <= c)
  expect(broken ? state : undefined).toBeUndefined()
}

describe('ArcPolicy', () => {
  it('keeps keys seen twice through a scan of one-time keys, where LRU loses them', () => {
    const { arc, h } = arcHarness(8)
    const lru = new PolicyHarness(new LruPolicy(9), 8)
    const hot = [1, 2, 3, 4]
    for (const harness of [h, lru]) {
      for (const key of [...hot, ...hot]) harness.access(key)
      for (let key = 100; key < 1100; key++) harness.access(key)
    }
    expect(arc.t2Size).toBe(4)
    expect(arc.p).toBe(0)
    expect(hot.map((key) => h.access(key))).toEqual([true, true, true, true])
    expect(hot.map((key) => lru.access(key))).toEqual([false, false, false, false])
  })

  it('raises p on a ghost hit in B1 and lowers it on a ghost hit in B2', () => {
    const { arc, h } = arcHarness(4)
    for (const key of [1, 2, 1, 3, 4]) h.access(key)
    expect([arc.t1Size, arc.t2Size]).toEqual([3, 1])
    h.access(5) // T1 is over p = 0: its LRU, 2, goes to B1
    expect(h.evicted).toEqual([2])
    expect([arc.b1Size, arc.b2Size, arc.p]).toEqual([1, 0, 0])
    h.access(2) // B1 hit: p = 1, and T1 (3 > p) gives up 3
    expect(arc.p).toBe(1)
    expect(h.evicted).toEqual([3])
    expect([arc.t1Size, arc.t2Size, arc.b1Size]).toEqual([2, 2, 1])
    h.access(3) // B1 hit: p = 2, and T1 is no longer over p, so T2 gives up 1
    expect(arc.p).toBe(2)
    expect(h.evicted).toEqual([1])
    expect([arc.b1Size, arc.b2Size]).toEqual([0, 1])
    h.access(1) // B2 hit: p = 1, and T1 (2 > p) gives up 4
    expect(arc.p).toBe(1)
    expect(h.evicted).toEqual([4])
    expect([arc.t1Size, arc.t2Size, arc.b1Size, arc.b2Size]).toEqual([1, 3, 1, 0])
  })

  it('moves p by |B2| / |B1| or |B1| / |B2| when the other ghost list is longer', () => {
    // Sequences found by search, checked step by step against ReferenceArc below.
    const up = arcHarness(4)
    for (const key of [7, 1, 7, 5, 4, 5, 2, 3, 2, 1, 6]) up.h.access(key)
    expect([up.arc.p, up.arc.b1Size, up.arc.b2Size]).toEqual([1, 1, 2])
    up.h.access(4) // in B1: p += 2 / 1
    expect(up.arc.p).toBe(3)
    const down = arcHarness(8)
    for (const key of [2, 2, 7, 10, 5, 16, 8, 19, 3, 21, 7, 13, 0, 0, 13, 5, 22, 8]) {
      down.h.access(key)
    }
    expect([down.arc.p, down.arc.b1Size, down.arc.b2Size]).toEqual([3, 2, 1])
    down.h.access(2) // in B2: p -= 2 / 1
    expect(down.arc.p).toBe(1)
  })

  it('drops the LRU of T1 with no ghost when T1 alone fills the cache (case IV.A)', () => {
    const { arc, h } = arcHarness(3)
    for (const key of [1, 2, 3, 4]) h.access(key)
    expect(h.evicted).toEqual([1])
    expect([arc.t1Size, arc.b1Size, arc.b2Size]).toEqual([3, 0, 0])
    h.access(1)
    expect(arc.t2Size).toBe(0)
  })

  it('leaves no ghost for a delete or an expiry', () => {
    const { arc, h } = arcHarness(4)
    for (const key of [1, 2, 2]) h.access(key)
    h.delete(1)
    h.delete(2)
    expect([arc.t1Size, arc.t2Size, arc.b1Size, arc.b2Size]).toEqual([0, 0, 0, 0])
    h.access(2)
    expect([arc.t1Size, arc.t2Size, arc.p]).toEqual([1, 0, 0])
  })

  it('never names the newcomer while another entry is held', () => {
    const arc = new ArcPolicy(2, 3)
    expect(arc.victim()).toBe(-1)
    arc.insert(0, 10)
    expect(arc.victim()).toBe(0) // alone
    arc.touch(0) // 0 is in T2
    arc.insert(1, 11)
    // T1 holds only the newcomer, which REPLACE does not count: T2 gives up 0.
    expect(arc.victim()).toBe(0)
    arc.remove(0)
    expect([arc.t1Size, arc.t2Size, arc.b2Size]).toEqual([1, 0, 1])
    expect(arc.lastVictimRefused).toBe(false)
  })

  it('keeps its lists and ghosts when it grows', () => {
    const arc = new ArcPolicy(8, 2)
    arc.insert(0, 100)
    arc.insert(1, 101)
    arc.touch(0)
    arc.grow(16)
    expect([arc.t1Size, arc.t2Size]).toEqual([1, 1])
    arc.insert(9, 109)
    expect(arc.victim()).toBe(1) // T1's LRU, as T1 (1 without the newcomer) is over p = 0
    arc.remove(1)
    expect(arc.b1Size).toBe(1)
    arc.insert(12, 101) // 101 comes back from B1
    expect([arc.t1Size, arc.t2Size, arc.b1Size, arc.p]).toEqual([1, 2, 0, 1])
    // T1 (1 without the newcomer) is not over p = 1 any more: T2 gives up its LRU.
    expect(arc.victim()).toBe(0)
  })

  it('forgets entries, ghosts and p on clear', () => {
    const { arc, h } = arcHarness(4)
    for (const key of [1, 2, 1, 3, 4, 5, 2]) h.access(key)
    expect(arc.p).toBe(1)
    expect(arc.b1Size).toBe(1)
    h.clear()
    expect([arc.t1Size, arc.t2Size, arc.b1Size, arc.b2Size, arc.p]).toEqual([0, 0, 0, 0, 0])
    expect(arc.victim()).toBe(-1)
    h.access(3) // was a ghost in B1 before the clear
    expect([arc.t1Size, arc.t2Size, arc.p]).toEqual([1, 0, 0])
  })

  it('keeps the ghost lists bounded over 100k random operations', () => {
    const c = 32
    const { arc, h } = arcHarness(c)
    const random = lcg(7)
    for (let i = 0; i < 100_000; i++) {
      const key = random(3) === 0 ? random(16 * c) : random(2 * c)
      if (random(10) === 0) h.delete(key)
      else h.access(key)
      expectBounds(arc, c, h.count)
    }
    expect(h.hits).toBeGreaterThan(0)
  })

  it('bounds ghosts by the resident count when only bytes bound the store', () => {
    const arc = new ArcPolicy(UNBOUNDED, 65)
    // The harness's entry bound stands in for the byte bound: the policy does not know it.
    const h = new PolicyHarness(arc, 64)
    const random = lcg(3)
    let maxP = 0
    for (let i = 0; i < 100_000; i++) {
      const key = random(3) === 0 ? random(1024) : random(128)
      // Deletes in bursts, so the resident count (and with it c) swings widely.
      if (i % 5000 < 500 && random(2) === 0) h.delete(random(128))
      else h.access(key)
      expectBounds(arc, 0, h.count, true)
      maxP = Math.max(maxP, arc.p)
    }
    expect(maxP).toBeGreaterThan(0)
  })

  for (const c of [16, 64]) {
    for (const range of [c + c / 2, 4 * c, 16 * c]) {
      it(`makes the same hits as a reference ARC (c = ${c}, ${range} keys)`, () => {
        const keys = randomTrace(20_000, range, c * range)
        const reference = new ReferenceArc(c)
        const { arc, h } = arcHarness(c)
        let hits = 0
        for (const [i, key] of keys.entries()) {
          const hit = reference.access(key)
          if (hit) hits++
          const state = [h.access(key), arc.t1Size, arc.t2Size, arc.b1Size, arc.b2Size, arc.p]
          const expected = [
            hit,
            reference.t1.length,
            reference.t2.length,
            reference.b1.length,
            reference.b2.length,
            reference.p,
          ]
          // One expect on the first difference only: this loop runs 20k times.
          if (state.some((value, j) => value !== expected[j])) {
            expect(state, `access ${i} (key ${key})`).toEqual(expected)
          }
        }
        expect(replay(new ArcPolicy(c, c + 1), keys, c).hits).toBe(hits)
        // Both kinds of ghost hit took part.
        expect(reference.b1Hits).toBeGreaterThan(0)
        expect(reference.b2Hits).toBeGreaterThan(0)
      })
    }
  }

  it('keeps its bounds and names only tracked slots under random inserts, hits and deletes', () => {
    const op = fc.tuple(fc.constantFrom('access', 'access', 'access', 'delete'), fc.nat(24))
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        fc.array(op, { maxLength: 300 }),
        (c, unbounded, ops) => {
          const arc = new ArcPolicy(unbounded ? UNBOUNDED : c, c + 1)
          // The harness throws if victim() names a free slot or -1 while over the bound.
          const h = new PolicyHarness(arc, c)
          for (const [kind, key] of ops) {
            if (kind === 'delete') h.delete(key)
            else h.access(key)
            if (unbounded) expectBounds(arc, 0, h.count, true)
            else expectBounds(arc, c, h.count)
          }
          const victim = arc.victim()
          if (h.count === 0) expect(victim).toBe(-1)
          else expect(h.keys().map((key) => h.slotOf(key))).toContain(victim)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('stays bounded when every key shares one hash', () => {
    // Every key hashes to 0: ghost hits become guesses, but the bounds and slots hold.
    const arc = new ArcPolicy(8, 9)
    const h = new PolicyHarness(arc, 8, () => 0)
    const random = lcg(5)
    for (let i = 0; i < 5_000; i++) {
      h.access(random(40))
      expectBounds(arc, 8, h.count)
      expect(arc.b1Size + arc.b2Size).toBeLessThanOrEqual(1)
    }
  })
})
