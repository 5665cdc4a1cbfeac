import type { EvictionPolicy } from './policy.js'
import { FrequencySketch } from './sketch.js'

const NONE = 0xffffffff
/** The store's `maxEntries` when only `maxBytes` bounds it. */
const UNBOUNDED_ENTRIES = 0xfffffffe
/** With no entry bound, segments are first sized for this many entries, then for what is resident. */
const INITIAL_UNBOUNDED_SIZING = 64

// Segments, also the index of each list in #head, #tail and #count.
const WINDOW = 0
const PROBATION = 1
const PROTECTED = 2
const UNTRACKED = 3

// Caffeine's constants (BoundedLocalCache): a 1 % window to start, 80 % of the
// main space protected, and the hill climber's step, decay and restart threshold.
const PERCENT_MAIN = 0.99
const PERCENT_MAIN_PROTECTED = 0.8
const HILL_CLIMBER_STEP_PERCENT = 0.0625
const HILL_CLIMBER_STEP_DECAY_RATE = 0.98
const HILL_CLIMBER_RESTART_THRESHOLD = 0.05
/** Accesses per hill-climbing sample, per entry of the bound (Caffeine samples over the sketch's period). */
const SAMPLE_FACTOR = 10
/** Candidates this warm may win a lost duel at random (1 in 128), against hash flooding. */
const ADMIT_HASHDOS_THRESHOLD = 6

/**
 * W-TinyLFU, Caffeine's eviction policy: a small LRU admission window in front of
 * a segmented LRU main space (probation and protected), with a frequency sketch
 * ({@link FrequencySketch}) deciding whether an entry leaving the window may
 * replace the main space's victim. The window lets bursts of new keys build up
 * frequency; the sketch keeps one-time keys (scans, loops) from flushing
 * popular ones; and a hill climber resizes the window from the hit rate it
 * observes, so recency-heavy workloads get LRU-like behaviour and
 * frequency-heavy ones LFU-like.
 *
 * Lists are doubly linked over slots in typed arrays, as in {@link LruPolicy}: a
 * hit increments 4 counters and rewires a few integers, and allocates nothing.
 *
 * @example
 * ```ts
 * const policy = new TinyLfuPolicy(100, 101)
 * policy.insert(0, hashKey('a'))
 * policy.touch(0)
 * policy.victim() // 0: the only entry
 * ```
 */
export class TinyLfuPolicy implements EvictionPolicy {
  #next: Uint32Array
  #prev: Uint32Array
  #hashes: Uint32Array
  #segment: Uint8Array
  readonly #head = new Uint32Array(3).fill(NONE)
  readonly #tail = new Uint32Array(3).fill(NONE)
  readonly #count = new Uint32Array(3)
  readonly #sketch: FrequencySketch
  readonly #bounded: boolean
  readonly #seed: number
  /** The entry bound the segments are sized from (the resident peak when unbounded). */
  #maximum: number
  #windowTarget = 0
  #protectedTarget = 0
  /** The next newcomer to duel with the main space's victim, or NONE: then the window's LRU is. */
  #candidate = NONE
  #refused = false
  #random: number
  // Hill climber state, as in Caffeine's BoundedLocalCache.climb().
  #hits = 0
  #misses = 0
  #previousHitRate = 0
  #stepSize = 0
  #samplePeriod = 0

  /**
   * @param maxEntries the store's entry bound (0xfffffffe: none, size from the resident entries)
   * @param capacity the initial slot count
   * @param seed seeds the random admissions against hash flooding (deterministic per seed)
   */
  constructor(maxEntries: number, capacity: number, seed = 0x9e3779b9) {
    this.#next = new Uint32Array(capacity)
    this.#prev = new Uint32Array(capacity)
    this.#hashes = new Uint32Array(capacity)
    this.#segment = new Uint8Array(capacity).fill(UNTRACKED)
    this.#bounded = maxEntries < UNBOUNDED_ENTRIES
    this.#maximum = this.#bounded
      ? Math.max(1, maxEntries)
      : Math.max(INITIAL_UNBOUNDED_SIZING, capacity)
    this.#seed = seed >>> 0 || 1
    this.#random = this.#seed
    this.#sketch = new FrequencySketch(this.#maximum)
    this.#resetTargets()
  }

  /** True when the last `victim()` refused the newcomer (its frequency lost the duel). */
  get lastVictimRefused(): boolean {
    return this.#refused
  }

  /** Entries in the admission window. */
  get windowSize(): number {
    return this.#count[WINDOW]!
  }

  /** Entries in the main space's probation segment. */
  get probationSize(): number {
    return this.#count[PROBATION]!
  }

  /** Entries in the main space's protected segment. */
  get protectedSize(): number {
    return this.#count[PROTECTED]!
  }

  /** The window's current bound (the hill climber moves it). */
  get windowTarget(): number {
    return this.#windowTarget
  }

  /** The protected segment's current bound. */
  get protectedTarget(): number {
    return this.#protectedTarget
  }

  /** The sketch's estimate for `hash`, 0 to 16 (for tests and the simulator). */
  frequency(hash: number): number {
    return this.#sketch.frequency(hash)
  }

  insert(slot: number, hash: number): void {
    this.#hashes[slot] = hash
    this.#sketch.increment(hash)
    this.#misses++
    this.#candidate = NONE
    this.#link(WINDOW, slot)
    if (!this.#bounded) this.#followResidents()
    if (this.#hits + this.#misses >= this.#samplePeriod) this.#climb()
    // Entries leaving the window enter probation; the oldest is the next candidate
    // for admission, and victim() decides whether it stays.
    while (this.#count[WINDOW]! > this.#windowTarget) {
      const moved = this.#head[WINDOW]!
      this.#unlink(WINDOW, moved)
      this.#link(PROBATION, moved)
      if (this.#candidate === NONE) this.#candidate = moved
    }
  }

  touch(slot: number): void {
    this.#sketch.increment(this.#hashes[slot]!)
    this.#hits++
    const segment = this.#segment[slot]!
    if (segment === PROBATION) {
      if (slot === this.#candidate) this.#candidate = NONE
      this.#unlink(PROBATION, slot)
      if (this.#protectedTarget === 0) {
        this.#link(PROBATION, slot)
        return
      }
      // A second hit proves the entry: promote it, and demote protected's LRU to
      // keep the segment within its bound.
      this.#link(PROTECTED, slot)
      this.#demoteProtected()
    } else if (segment !== UNTRACKED && slot !== this.#tail[segment]) {
      this.#unlink(segment, slot)
      this.#link(segment, slot)
    }
  }

  remove(slot: number): void {
    const segment = this.#segment[slot]!
    if (segment === UNTRACKED) return
    if (slot === this.#candidate) this.#candidate = NONE
    this.#unlink(segment, slot)
    this.#segment[slot] = UNTRACKED
  }

  victim(): number {
    this.#refused = false
    const head = this.#head
    let victim = head[PROBATION]!
    if (victim === NONE) victim = head[PROTECTED]!
    if (victim === NONE) victim = head[WINDOW]!
    if (victim === NONE) return -1
    let candidate = this.#candidate
    if (candidate === NONE) candidate = head[WINDOW]!
    if (candidate === NONE) return victim
    // If the store needs more room, the next newcomer in line fights next (Caffeine
    // walks the candidates the same way).
    this.#candidate = this.#next[candidate]!
    if (candidate === victim) return victim
    if (this.#admit(candidate, victim)) return victim
    this.#refused = true
    return candidate
  }

  grow(capacity: number): void {
    this.#next = grown(this.#next, capacity)
    this.#prev = grown(this.#prev, capacity)
    this.#hashes = grown(this.#hashes, capacity)
    const segment = new Uint8Array(capacity).fill(UNTRACKED)
    segment.set(this.#segment)
    this.#segment = segment
  }

  clear(): void {
    this.#head.fill(NONE)
    this.#tail.fill(NONE)
    this.#count.fill(0)
    this.#segment.fill(UNTRACKED)
    this.#sketch.clear()
    this.#candidate = NONE
    this.#refused = false
    this.#random = this.#seed
    this.#resetTargets()
  }

  /**
   * Whether the candidate may replace the victim: only if it was seen more often
   * recently. A warm candidate also wins 1 time in 128 at random, so an attacker
   * who floods a victim's counters (hash collisions) cannot pin it forever.
   */
  #admit(candidate: number, victim: number): boolean {
    const candidateFrequency = this.#sketch.frequency(this.#hashes[candidate]!)
    const victimFrequency = this.#sketch.frequency(this.#hashes[victim]!)
    if (candidateFrequency > victimFrequency) return true
    if (candidateFrequency < ADMIT_HASHDOS_THRESHOLD) return false
    // xorshift32: deterministic for a seed, and allocation-free.
    let x = this.#random
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.#random = x
    return (x & 127) === 0
  }

  /**
   * Hill climbing (Caffeine's `climb`): after each sample of `10 × maximum`
   * accesses (hits are touches, misses inserts), compare the hit rate with the
   * previous sample's; keep moving the window/main boundary in the same direction
   * if it improved, turn around if it got worse. The step decays by 2 % each time
   * and restarts at 6.25 % of the bound when the hit rate jumps by 5 points (the
   * workload changed). Recency-heavy traces push the window up (towards LRU),
   * frequency-heavy ones down (towards LFU).
   */
  #climb(): void {
    const requests = this.#hits + this.#misses
    if (this.#hits === 0) {
      // No hit at all (a scan, a cold start): every window size scores the same, so
      // the sample says nothing. Moving on it would feed the scan with protected entries.
      this.#misses = 0
      return
    }
    const hitRate = this.#hits / requests
    const change = hitRate - this.#previousHitRate
    const amount = change >= 0 ? this.#stepSize : -this.#stepSize
    this.#stepSize =
      Math.abs(change) >= HILL_CLIMBER_RESTART_THRESHOLD
        ? HILL_CLIMBER_STEP_PERCENT * this.#maximum * (amount >= 0 ? 1 : -1)
        : HILL_CLIMBER_STEP_DECAY_RATE * amount
    this.#previousHitRate = hitRate
    this.#hits = 0
    this.#misses = 0
    const adjustment = Math.trunc(amount)
    if (adjustment > 0) this.#increaseWindow(adjustment)
    else if (adjustment < 0) this.#decreaseWindow(-adjustment)
  }

  /**
   * Moves `amount` of room from protected to the window, and as many entries
   * from main's LRU ends to the window's MRU end; room nothing could fill goes back.
   * Every move is done now (Caffeine caps one pass at 1000 and catches up later):
   * it happens once per sample period, at most 6.25 % of the bound, so segments
   * never exceed their targets.
   */
  #increaseWindow(amount: number): void {
    if (this.#protectedTarget === 0) return
    let quota = Math.min(amount, this.#protectedTarget)
    this.#protectedTarget -= quota
    this.#windowTarget += quota
    this.#demoteProtected()
    while (quota > 0) {
      let from = PROBATION
      let slot = this.#head[PROBATION]!
      if (slot === NONE) {
        from = PROTECTED
        slot = this.#head[PROTECTED]!
        if (slot === NONE) break
      }
      this.#unlink(from, slot)
      this.#link(WINDOW, slot)
      quota--
    }
    this.#protectedTarget += quota
    this.#windowTarget -= quota
  }

  /** Moves `amount` of room from the window to protected, and the window's LRU entries to probation. */
  #decreaseWindow(amount: number): void {
    if (this.#windowTarget <= 1) return
    let quota = Math.min(amount, this.#windowTarget - 1)
    this.#protectedTarget += quota
    this.#windowTarget -= quota
    while (quota > 0) {
      const slot = this.#head[WINDOW]!
      if (slot === NONE) break
      this.#unlink(WINDOW, slot)
      this.#link(PROBATION, slot)
      quota--
    }
    this.#protectedTarget -= quota
    this.#windowTarget += quota
  }

  #demoteProtected(): void {
    while (this.#count[PROTECTED]! > this.#protectedTarget) {
      const slot = this.#head[PROTECTED]!
      this.#unlink(PROTECTED, slot)
      this.#link(PROBATION, slot)
    }
  }

  /**
   * With no entry bound, the segments and the sketch follow the resident count:
   * when it passes twice the sizing, everything is scaled up (the sketch is
   * re-created, losing its history), so memory stays proportional to the entries held.
   */
  #followResidents(): void {
    const resident = this.#count[WINDOW]! + this.#count[PROBATION]! + this.#count[PROTECTED]!
    if (resident <= 2 * this.#maximum) return
    const scale = resident / this.#maximum
    this.#maximum = resident
    this.#windowTarget = Math.max(1, Math.round(this.#windowTarget * scale))
    this.#protectedTarget = Math.min(
      Math.round(this.#protectedTarget * scale),
      this.#maximum - this.#windowTarget,
    )
    this.#stepSize *= scale
    this.#samplePeriod = SAMPLE_FACTOR * this.#maximum
    this.#sketch.ensureCapacity(this.#maximum)
  }

  #resetTargets(): void {
    const maximum = this.#maximum
    this.#windowTarget = Math.max(1, maximum - Math.floor(PERCENT_MAIN * maximum))
    this.#protectedTarget = Math.floor(
      PERCENT_MAIN_PROTECTED * Math.max(0, maximum - this.#windowTarget),
    )
    // Caffeine starts by shrinking the window; a worse hit rate turns it around.
    this.#stepSize = -HILL_CLIMBER_STEP_PERCENT * maximum
    this.#previousHitRate = 0
    this.#hits = 0
    this.#misses = 0
    this.#samplePeriod = SAMPLE_FACTOR * maximum
  }

  /** Appends `slot` at the most recent end of `segment`. */
  #link(segment: number, slot: number): void {
    const tail = this.#tail[segment]!
    this.#prev[slot] = tail
    this.#next[slot] = NONE
    if (tail === NONE) this.#head[segment] = slot
    else this.#next[tail] = slot
    this.#tail[segment] = slot
    this.#segment[slot] = segment
    this.#count[segment]!++
  }

  #unlink(segment: number, slot: number): void {
    const prev = this.#prev[slot]!
    const next = this.#next[slot]!
    if (prev === NONE) this.#head[segment] = next
    else this.#next[prev] = next
    if (next === NONE) this.#tail[segment] = prev
    else this.#prev[next] = prev
    this.#count[segment]!--
  }
}

function grown(array: Uint32Array, capacity: number): Uint32Array {
  const next = new Uint32Array(capacity)
  next.set(array)
  return next
}
