/**
 * The eviction policy contract of the memory tier. A policy sees only slot
 * indexes, never keys or values (ristretto and Caffeine keep policy apart from
 * storage the same way), so each policy is read and tested alone.
 *
 * The store calls exactly one of these per operation; `touch` is on the hit path
 * and must not allocate.
 */
export interface EvictionPolicy {
  /** The entry at `slot` was just inserted. */
  insert(slot: number): void
  /** The entry at `slot` was read (a hit). */
  touch(slot: number): void
  /** The entry at `slot` left the store (deleted, expired or evicted). */
  remove(slot: number): void
  /** The slot to evict next, or -1 when the policy tracks no entry. */
  victim(): number
  /** Slots may now range up to `capacity - 1`; keep what is tracked. */
  grow(capacity: number): void
  /** Forget every entry. */
  clear(): void
}

/** Names of the eviction policies `memoryStore({ policy })` accepts. */
export type PolicyName = 'lru'
