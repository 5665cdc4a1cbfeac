/**
 * The eviction policy contract of the memory tier. A policy sees only slot
 * indexes and 32-bit key hashes, never keys or values (ristretto and Caffeine
 * keep policy apart from storage the same way), so each policy is read, tested
 * and replayed against traces alone (`bench/sim/`).
 *
 * The store drives a policy like this:
 * - a new entry: `insert(slot, hash)`; then, while the store holds more entries
 *   (or bytes) than its bounds, `victim()` names one slot to evict and the store
 *   calls `remove` on it. The victim may be the entry just inserted: that is an
 *   admission policy refusing it (`lastVictimRefused` is then true).
 * - a hit: `touch(slot)`. This is the hot path: no allocation, a few integer ops.
 * - a delete, an expiry, an eviction: `remove(slot)`.
 *
 * Slots range from 0 to `capacity - 1`; `grow` raises the capacity and keeps all
 * state. A slot is inserted at most once between removes.
 */
export interface EvictionPolicy {
  /** The entry at `slot`, whose key hashes to `hash` (a uint32), was just inserted. */
  insert(slot: number, hash: number): void
  /** The entry at `slot` was read (a hit). */
  touch(slot: number): void
  /** The entry at `slot` left the store (deleted, expired or evicted). */
  remove(slot: number): void
  /**
   * The slot to evict now, chosen among the tracked entries (the caller removes
   * it next), or -1 when the policy tracks no entry. May move entries between the
   * policy's own segments as a side effect (an admission decision does).
   */
  victim(): number
  /** True when the last `victim()` refused a candidate at admission rather than evicting a resident. */
  readonly lastVictimRefused: boolean
  /** Slots may now range up to `capacity - 1`; keep what is tracked. */
  grow(capacity: number): void
  /** Forget every entry (and any history, such as ghost lists or frequencies). */
  clear(): void
}

/**
 * How a policy is created: `maxEntries` is the store's entry bound (policies size
 * their segments from it; it is 0xfffffffe when only `maxBytes` bounds the store,
 * and such policies then size their segments from the entries they hold), and
 * `capacity` the initial slot count.
 */
export type PolicyFactory = (maxEntries: number, capacity: number) => EvictionPolicy

/**
 * Names of the eviction policies `memoryStore({ policy })` accepts:
 * - `'lru'`: least recently used;
 * - `'arc'`: Megiddo and Modha's Adaptive Replacement Cache (recency and
 *   frequency, self-tuning, scan-resistant);
 * - `'tinylfu'`: W-TinyLFU as in Caffeine (a small LRU window, a segmented LRU
 *   main space, admission by a count-min frequency sketch, and a hill climber
 *   that sizes the window).
 */
export type PolicyName = 'lru' | 'arc' | 'tinylfu'
