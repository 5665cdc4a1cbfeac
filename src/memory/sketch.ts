/*
 * A probabilistic multiset that estimates how often a key was seen recently: the
 * "TinyLFU" frequency filter of W-TinyLFU, after Caffeine's `FrequencySketch`.
 * It answers one question for the admission policy: is the newcomer more popular
 * than the entry it would replace?
 *
 * Count-min sketch. Each key maps to 4 counters, one per row; an increment adds
 * one to each, and the estimate is the minimum of the four. Collisions only ever
 * add, so the estimate is never below the true count (the count-min property);
 * taking the minimum keeps the overestimate small.
 *
 * 4-bit counters. The policy compares frequencies, it does not need exact
 * counts: a counter saturates at 15, so 8 counters pack into one 32-bit word
 * (Caffeine packs 16 into a 64-bit long; JavaScript's typed arrays stop at 32 bits
 * for integer arithmetic without BigInt).
 *
 * Layout. The table is a power-of-two number of 64-byte blocks (16 words, one CPU
 * cache line). A key picks one block from a first hash, then its 4 counters from a
 * re-mixed second hash, all inside that block: row `i` owns words `4i .. 4i+3` of
 * the block, and the key picks one of those 4 words (2 bits) and one of the 8
 * counters in it (3 bits). One cache line per increment instead of four, as in
 * Caffeine. The table holds 2 words per entry of the sizing (16 counters per entry
 * rounded up to a power of two, 8 bytes, the same as Caffeine), so with 4 counters
 * per key the sketch is about 4 times wider than the number of keys it must tell
 * apart.
 *
 * Hashes. Keys arrive as 32-bit hashes, and in traces (and for some key schemes)
 * they are nearly sequential integers, so the block index and the counter
 * positions are derived through strong 32-bit mixers (Caffeine's `spread` and
 * `rehash`, the same shape as murmur3's finalizer); sequential hashes land in
 * unrelated blocks.
 *
 * Aging ("reset"). After `sampleSize = 10 × maxEntries` additions every counter is
 * halved, so the sketch describes the recent past and a key that was hot an hour
 * ago does not stay admitted forever. Halving a counter drops its odd 1; the
 * addition count is corrected for those truncations as Caffeine does:
 * `size = (size - odd / 4) / 2` (each addition touched 4 counters).
 *
 * Doorkeeper. A small Bloom filter sits in front of the counters (section 3.4.2 of
 * the paper): the first sighting of a key since the last reset only sets its
 * doorkeeper bits, later ones increment the counters, and the estimate adds 1 when
 * the doorkeeper holds the key. Most keys in a long-tailed stream are seen once,
 * so they never touch (and never pollute) the counters. The doorkeeper is cleared
 * at each reset.
 *
 * Memory is fixed: both arrays are allocated once from `maxEntries` (capped at
 * {@link MAX_SKETCH_ENTRIES}); only `ensureCapacity` replaces them.
 *
 * Reference: G. Einziger, R. Friedman, B. Manes, "TinyLFU: A Highly Efficient Cache
 * Admission Policy", ACM Transactions on Storage 13(4), 2017.
 * https://dl.acm.org/doi/10.1145/3149371
 */

/** Counters are halved after this many additions per entry of the sizing. */
const SAMPLE_FACTOR = 10
/** Halves every 4-bit counter of a word after a right shift by one. */
const RESET_MASK = 0x77777777
/** The low bit of every 4-bit counter of a word. */
const ONE_MASK = 0x11111111
/** Words per 64-byte block. */
const BLOCK_WORDS = 16

/**
 * The largest sizing the sketch allocates (2^24 entries: a 128 MiB table). Larger
 * bounds reuse this table; their estimates collide a little more.
 */
export const MAX_SKETCH_ENTRIES = 1 << 24

/**
 * A count-min sketch of 4-bit counters with periodic aging and a doorkeeper, as
 * the frequency filter of W-TinyLFU. Keys are 32-bit hashes.
 *
 * @example
 * ```ts
 * const sketch = new FrequencySketch(1000)
 * sketch.increment(hash); sketch.increment(hash)
 * sketch.frequency(hash) // 2 (or a little more after collisions)
 * ```
 */
export class FrequencySketch {
  #table: Uint32Array
  #doorkeeper: Uint32Array
  #blockMask = 0
  #doorMask = 0
  #sampleSize = 0
  #size = 0

  /** @param maxEntries how many distinct keys the cache holds (sizes the table) */
  constructor(maxEntries: number) {
    this.#table = new Uint32Array(0)
    this.#doorkeeper = new Uint32Array(0)
    this.#allocate(maxEntries)
  }

  /** Additions between two agings. */
  get sampleSize(): number {
    return this.#sampleSize
  }

  /** Additions since the last aging (corrected for truncation). */
  get size(): number {
    return this.#size
  }

  /** Bytes held by the counters and the doorkeeper; fixed between `ensureCapacity` calls. */
  get byteLength(): number {
    return this.#table.byteLength + this.#doorkeeper.byteLength
  }

  /**
   * Resizes the table for `maxEntries` keys when it is too small for them; the
   * history is lost, as in Caffeine (it is rebuilt within one sample period).
   */
  ensureCapacity(maxEntries: number): void {
    if (sizing(maxEntries) * 2 > this.#table.length) this.#allocate(maxEntries)
  }

  /** The estimated number of occurrences of `hash` in the recent past, 0 to 16. */
  frequency(hash: number): number {
    const blockHash = spread(hash)
    const counterHash = rehash(blockHash)
    const block = (blockHash & this.#blockMask) * BLOCK_WORDS
    let min = 15
    for (let i = 0; i < 4; i++) {
      const h = counterHash >>> (i << 3)
      const word = block + (i << 2) + (h & 3)
      const count = (this.#table[word]! >>> (((h >>> 2) & 7) << 2)) & 15
      if (count < min) min = count
    }
    return this.#inDoorkeeper(blockHash, counterHash) ? min + 1 : min
  }

  /** Records one occurrence of `hash`; ages the sketch once per sample period. */
  increment(hash: number): void {
    const blockHash = spread(hash)
    const counterHash = rehash(blockHash)
    let added: boolean
    if (!this.#inDoorkeeper(blockHash, counterHash)) {
      this.#addToDoorkeeper(blockHash, counterHash)
      added = true
    } else {
      added = false
      const block = (blockHash & this.#blockMask) * BLOCK_WORDS
      for (let i = 0; i < 4; i++) {
        const h = counterHash >>> (i << 3)
        const word = block + (i << 2) + (h & 3)
        const shift = ((h >>> 2) & 7) << 2
        const value = this.#table[word]!
        if (((value >>> shift) & 15) !== 15) {
          this.#table[word] = value + (1 << shift)
          added = true
        }
      }
    }
    // Saturated keys do not count: a burst of one hot key must not age everyone else.
    if (added && ++this.#size >= this.#sampleSize) this.reset()
  }

  /** Halves every counter and clears the doorkeeper (aging); runs by itself each sample period. */
  reset(): void {
    const table = this.#table
    let odd = 0
    for (let i = 0; i < table.length; i++) {
      const value = table[i]!
      odd += bitCount(value & ONE_MASK)
      table[i] = (value >>> 1) & RESET_MASK
    }
    this.#doorkeeper.fill(0)
    this.#size = Math.max(0, (this.#size - (odd >>> 2)) >>> 1)
  }

  /** Forgets every key. */
  clear(): void {
    this.#table.fill(0)
    this.#doorkeeper.fill(0)
    this.#size = 0
  }

  #allocate(maxEntries: number): void {
    const entries = sizing(maxEntries)
    this.#table = new Uint32Array(Math.max(entries * 2, BLOCK_WORDS))
    this.#blockMask = this.#table.length / BLOCK_WORDS - 1
    // 32 doorkeeper bits per entry: a sample period holds up to 10 × entries
    // distinct keys, but most streams repeat enough that 3 probes stay selective.
    this.#doorkeeper = new Uint32Array(Math.max(entries, 2))
    this.#doorMask = this.#doorkeeper.length * 32 - 1
    this.#sampleSize = SAMPLE_FACTOR * Math.max(1, Math.min(maxEntries, MAX_SKETCH_ENTRIES))
    this.#size = 0
  }

  // Doorkeeper probes come from bits of the two hashes that pick neither the block
  // nor the counters' words (double hashing: p_i = a + i·b).
  #inDoorkeeper(blockHash: number, counterHash: number): boolean {
    const door = this.#doorkeeper
    const mask = this.#doorMask
    const a = (blockHash >>> 16) | (blockHash << 16)
    const b = counterHash | 1
    for (let i = 0; i < 3; i++) {
      const bit = (a + Math.imul(i, b)) & mask
      if ((door[bit >>> 5]! & (1 << (bit & 31))) === 0) return false
    }
    return true
  }

  #addToDoorkeeper(blockHash: number, counterHash: number): void {
    const door = this.#doorkeeper
    const mask = this.#doorMask
    const a = (blockHash >>> 16) | (blockHash << 16)
    const b = counterHash | 1
    for (let i = 0; i < 3; i++) {
      const bit = (a + Math.imul(i, b)) & mask
      const word = bit >>> 5
      door[word] = door[word]! | (1 << (bit & 31))
    }
  }
}

/** Entries the table is sized for: the next power of two, at least 8, at most the cap. */
function sizing(maxEntries: number): number {
  const n = Math.max(8, Math.min(Math.ceil(maxEntries), MAX_SKETCH_ENTRIES))
  return 2 ** Math.ceil(Math.log2(n))
}

/** Spreads a 32-bit hash over all bits (Caffeine's `spread`, a murmur3-style finalizer). */
function spread(x: number): number {
  x ^= x >>> 17
  x = Math.imul(x, 0xed5ad4bb)
  x ^= x >>> 11
  x = Math.imul(x, 0xac4c1b51)
  x ^= x >>> 15
  return x >>> 0
}

/** A second, independent-enough mix for the counter positions (Caffeine's `rehash`). */
function rehash(x: number): number {
  x = Math.imul(x, 0x31848bab)
  x ^= x >>> 14
  return x >>> 0
}

function bitCount(x: number): number {
  x -= (x >>> 1) & 0x55555555
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  x = (x + (x >>> 4)) & 0x0f0f0f0f
  return Math.imul(x, 0x01010101) >>> 24
}
