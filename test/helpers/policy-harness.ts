import type { EvictionPolicy } from '../../src/memory/policy.js'

/**
 * MurmurHash3's finalizer: a bijection on uint32, so distinct keys below 2^32
 * never share a hash (a reference model keyed by key then agrees with a policy
 * that sees only hashes), and nearby keys still spread over the sketch rows.
 */
export function mixHash(key: number): number {
  let h = key >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * Drives an {@link EvictionPolicy} the way `memoryStore` does, with integer keys
 * and no values: a miss inserts the key in a free slot, then evicts the policy's
 * victims while more than `size` keys are held. Slots range over 0..size, so
 * build the policy with `(size, size + 1)`. It throws when `victim()` names a
 * slot that holds nothing, or returns -1 while the harness is over its bound.
 *
 * @example
 * ```ts
 * const h = new PolicyHarness(new ArcPolicy(2, 3), 2)
 * h.access(1); h.access(2); h.access(1) // false, false, true
 * ```
 */
export class PolicyHarness {
  hits = 0
  misses = 0
  /** Victims that were the newcomer refused at admission (`lastVictimRefused`). */
  refusals = 0
  /** The keys evicted by the last `access`, oldest first. */
  readonly evicted: number[] = []
  readonly #policy: EvictionPolicy
  readonly #size: number
  readonly #hash: (key: number) => number
  readonly #slots = new Map<number, number>()
  /** The key in each slot, undefined when free. */
  readonly #keys: Array<number | undefined> = []
  readonly #free: number[] = []

  constructor(policy: EvictionPolicy, size: number, hash: (key: number) => number = mixHash) {
    this.#policy = policy
    this.#size = size
    this.#hash = hash
  }

  /** Keys held now. */
  get count(): number {
    return this.#slots.size
  }

  /** Reads `key`: a hit touches it; a miss inserts it and evicts. Returns whether it hit. */
  access(key: number): boolean {
    this.evicted.length = 0
    const held = this.#slots.get(key)
    if (held !== undefined) {
      this.hits++
      this.#policy.touch(held)
      return true
    }
    this.misses++
    const slot = this.#free.pop() ?? this.#slots.size
    this.#keys[slot] = key
    this.#slots.set(key, slot)
    this.#policy.insert(slot, this.#hash(key))
    while (this.#slots.size > this.#size) {
      const victim = this.#policy.victim()
      const victimKey = this.#keys[victim]
      if (victimKey === undefined) {
        throw new Error(`victim() returned ${victim}, which holds no key`)
      }
      if (this.#policy.lastVictimRefused) this.refusals++
      this.evicted.push(victimKey)
      this.#release(victimKey, victim)
    }
    return false
  }

  /** Deletes `key` (a delete or an expiry: `remove` with no victim asked); whether it was held. */
  delete(key: number): boolean {
    const slot = this.#slots.get(key)
    if (slot === undefined) return false
    this.#release(key, slot)
    return true
  }

  has(key: number): boolean {
    return this.#slots.has(key)
  }

  /** The slot holding `key`, for tests that call the policy directly. */
  slotOf(key: number): number | undefined {
    return this.#slots.get(key)
  }

  /** Every key held, in no particular order. */
  keys(): number[] {
    return [...this.#slots.keys()]
  }

  /** Deletes every key and clears the policy, as `memoryStore`'s reset does. */
  clear(): void {
    this.#slots.clear()
    this.#keys.length = 0
    this.#free.length = 0
    this.#policy.clear()
  }

  #release(key: number, slot: number): void {
    this.#policy.remove(slot)
    this.#slots.delete(key)
    this.#keys[slot] = undefined
    this.#free.push(slot)
  }
}

/**
 * Replays `keys` through `policy` in a cache of `size` keys (see
 * {@link PolicyHarness}) and counts hits and misses.
 */
export function replay(
  policy: EvictionPolicy,
  keys: readonly number[],
  size: number,
): { hits: number; misses: number } {
  const harness = new PolicyHarness(policy, size)
  for (const key of keys) harness.access(key)
  return { hits: harness.hits, misses: harness.misses }
}
