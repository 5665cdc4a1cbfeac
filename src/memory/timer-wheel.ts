/**
 * A hierarchical timing wheel over slots (Varghese and Lauck, 1987; the layout
 * of Caffeine's TimerWheel), so that entries nobody reads are reclaimed when
 * they expire at a cost proportional to what expires, never by scanning the
 * whole store. A read does not touch the wheel: it only compares its entry's
 * deadline with the clock.
 *
 * Level i holds the entries due within `WIDTH[i + 1]` of now, in buckets
 * `WIDTH[i]` wide: level 0 in 1.024 s buckets (64 of them: 65.5 s), level 1 in
 * 65.5 s buckets (70 min), level 2 in 70 min buckets (37 h), level 3 in 37 h
 * buckets (49.7 days), and one overflow bucket beyond. When the clock passes a
 * bucket, its entries are expired, or (not yet due: the overflow, or a bucket
 * that wrapped) scheduled again, which moves them to a finer level. An entry is
 * thus reclaimed at most one bucket width of its level after its deadline
 * (about 1 s for short ttls, longer for long ones); reads never see it late.
 *
 * Lists are intrusive, in typed arrays indexed by slot, allocated only once a
 * deadline is scheduled: a store without ttls pays nothing.
 */

const NONE = 0xffffffff
const NO_BUCKET = 0xffff
const SHIFTS = [10, 16, 22, 27, 32] as const
const WIDTH = SHIFTS.map((s) => 2 ** s)
const BUCKETS = [64, 64, 32, 32, 1] as const
const LEVELS = SHIFTS.length
const FIRST_BUCKET: number[] = []
let bucketCount = 0
for (const n of BUCKETS) {
  FIRST_BUCKET.push(bucketCount)
  bucketCount += n
}
/** A list of its own for a bucket being expired, so callbacks may unschedule any slot safely. */
const PENDING = bucketCount
const HEADS = bucketCount + 1

/** Called for each slot whose deadline passed while the wheel advanced. */
export type ExpireCallback = (slot: number) => void

/**
 * Deadlines of slots, expired in bulk as time advances.
 *
 * @example
 * ```ts
 * const wheel = new TimerWheel(1024, clock.now(), (slot) => store.evictExpired(slot))
 * wheel.schedule(7, clock.now() + 30_000)
 * wheel.advance(clock.now()) // on writes: expires what is due
 * ```
 */
export class TimerWheel {
  #capacity: number
  #next = new Uint32Array(0)
  #prev = new Uint32Array(0)
  #bucket = new Uint16Array(0)
  #deadline = new Float64Array(0)
  readonly #heads = new Uint32Array(HEADS).fill(NONE)
  #time: number
  #scheduled = 0
  #advancing = false
  readonly #onExpire: ExpireCallback

  constructor(capacity: number, now: number, onExpire: ExpireCallback) {
    this.#capacity = capacity
    this.#time = now
    this.#onExpire = onExpire
  }

  /** Slots with a deadline on the wheel. */
  get size(): number {
    return this.#scheduled
  }

  /** Puts `slot` on the wheel for `deadline` (epoch ms), replacing any earlier deadline. */
  schedule(slot: number, deadline: number): void {
    if (this.#next.length === 0) this.#allocate()
    if (this.#bucket[slot] !== NO_BUCKET) this.unschedule(slot)
    this.#deadline[slot] = deadline
    this.#link(slot, this.#bucketFor(deadline))
    this.#scheduled++
  }

  /** Takes `slot` off the wheel, if it is on it. */
  unschedule(slot: number): void {
    if (this.#next.length === 0) return
    const bucket = this.#bucket[slot]!
    if (bucket === NO_BUCKET) return
    const prev = this.#prev[slot]!
    const next = this.#next[slot]!
    if (prev === NONE) this.#heads[bucket] = next
    else this.#next[prev] = next
    if (next !== NONE) this.#prev[next] = prev
    this.#bucket[slot] = NO_BUCKET
    this.#scheduled--
  }

  /** Moves the wheel to `now`, expiring every bucket the clock has passed. */
  advance(now: number): void {
    const previous = this.#time
    if (now <= previous || this.#advancing) return
    this.#time = now
    if (this.#scheduled === 0) return
    this.#advancing = true
    try {
      for (let level = 0; level < LEVELS; level++) {
        const width = WIDTH[level]!
        const fromTick = Math.floor(previous / width)
        const ticks = Math.floor(now / width) - fromTick
        // A coarser level ticks only when a finer one has.
        if (ticks <= 0) break
        const buckets = BUCKETS[level]!
        for (let i = 0; i < Math.min(ticks, buckets); i++) {
          this.#expireBucket(FIRST_BUCKET[level]! + ((fromTick + i) % buckets), now)
        }
      }
    } finally {
      this.#advancing = false
    }
  }

  /** Slots may now range up to `capacity - 1`. */
  grow(capacity: number): void {
    this.#capacity = capacity
    if (this.#next.length === 0) return
    const next = new Uint32Array(capacity)
    const prev = new Uint32Array(capacity)
    const bucket = new Uint16Array(capacity).fill(NO_BUCKET)
    const deadline = new Float64Array(capacity)
    next.set(this.#next)
    prev.set(this.#prev)
    bucket.set(this.#bucket)
    deadline.set(this.#deadline)
    this.#next = next
    this.#prev = prev
    this.#bucket = bucket
    this.#deadline = deadline
  }

  /** Forgets every deadline. */
  clear(now: number): void {
    this.#heads.fill(NONE)
    this.#bucket.fill(NO_BUCKET)
    this.#scheduled = 0
    this.#time = now
  }

  #allocate(): void {
    this.#next = new Uint32Array(this.#capacity)
    this.#prev = new Uint32Array(this.#capacity)
    this.#bucket = new Uint16Array(this.#capacity).fill(NO_BUCKET)
    this.#deadline = new Float64Array(this.#capacity)
  }

  #bucketFor(deadline: number): number {
    // Already due: the current level-0 bucket, expired at the next tick.
    const at = Math.max(deadline, this.#time)
    const duration = at - this.#time
    for (let level = 0; level < LEVELS - 1; level++) {
      if (duration < WIDTH[level + 1]!) {
        return FIRST_BUCKET[level]! + (Math.floor(at / WIDTH[level]!) % BUCKETS[level]!)
      }
    }
    return FIRST_BUCKET[LEVELS - 1]!
  }

  #link(slot: number, bucket: number): void {
    const head = this.#heads[bucket]!
    this.#next[slot] = head
    this.#prev[slot] = NONE
    if (head !== NONE) this.#prev[head] = slot
    this.#heads[bucket] = slot
    this.#bucket[slot] = bucket
  }

  #expireBucket(bucket: number, now: number): void {
    let slot = this.#heads[bucket]!
    if (slot === NONE) return
    // Move the whole list to PENDING first: a callback may then unschedule or
    // reschedule any slot, and slots rescheduled into this same bucket (a wrap)
    // are not met again in this pass.
    this.#heads[bucket] = NONE
    this.#heads[PENDING] = slot
    for (; slot !== NONE; slot = this.#next[slot]!) this.#bucket[slot] = PENDING
    while ((slot = this.#heads[PENDING]!) !== NONE) {
      this.unschedule(slot)
      const deadline = this.#deadline[slot]!
      if (deadline <= now) this.#onExpire(slot)
      else this.schedule(slot, deadline)
    }
  }
}
