import type { EvictionPolicy } from './policy.js'

const NONE = 0xffffffff
/** The store's `maxEntries` when only `maxBytes` bounds it (see `PolicyFactory`). */
const UNBOUNDED_ENTRIES = 0xfffffffe
/** Ghost nodes allocated up front; the ghost arrays double from there as ghosts pile up. */
const INITIAL_GHOSTS = 64

// List ids. Residents (slots) live in T1 or T2, ghosts (hash nodes) in B1 or B2;
// 0 marks a node in no list.
const T1 = 1
const T2 = 2
const B1 = 1
const B2 = 2

/**
 * Doubly linked lists over node indexes in typed arrays, as in lru.ts, with each
 * node in at most one of two lists. Heads are least recent, tails most recent.
 */
class NodeLists {
  next: Uint32Array
  prev: Uint32Array
  /** The list each node is in (1 or 2), 0 when in none. */
  owner: Uint8Array
  /** Indexed by list id; index 0 is unused. */
  readonly head = new Uint32Array(3).fill(NONE)
  readonly tail = new Uint32Array(3).fill(NONE)
  readonly size = new Uint32Array(3)

  constructor(capacity: number) {
    this.next = new Uint32Array(capacity)
    this.prev = new Uint32Array(capacity)
    this.owner = new Uint8Array(capacity)
  }

  pushTail(list: number, node: number): void {
    const tail = this.tail[list]!
    this.prev[node] = tail
    this.next[node] = NONE
    if (tail === NONE) this.head[list] = node
    else this.next[tail] = node
    this.tail[list] = node
    this.owner[node] = list
    this.size[list]!++
  }

  unlink(node: number): void {
    const list = this.owner[node]!
    const prev = this.prev[node]!
    const next = this.next[node]!
    if (prev === NONE) this.head[list] = next
    else this.next[prev] = next
    if (next === NONE) this.tail[list] = prev
    else this.prev[next] = prev
    this.owner[node] = 0
    this.size[list]!--
  }

  grow(capacity: number): void {
    const next = new Uint32Array(capacity)
    const prev = new Uint32Array(capacity)
    const owner = new Uint8Array(capacity)
    next.set(this.next)
    prev.set(this.prev)
    owner.set(this.owner)
    this.next = next
    this.prev = prev
    this.owner = owner
  }

  clear(): void {
    this.head.fill(NONE)
    this.tail.fill(NONE)
    this.size.fill(0)
    this.owner.fill(0)
  }
}

/**
 * Adaptive Replacement Cache (Megiddo and Modha, FAST '03, Fig. 4). Residents
 * seen once sit in T1, residents seen twice or more in T2; B1 and B2 remember
 * the key hashes recently evicted from each. A miss that hits a ghost in B1
 * says T1 was too small, so the target size `p` of T1 grows; a ghost hit in B2
 * shrinks it. A scan of one-time keys therefore cycles through T1 and leaves
 * T2 alone, and the split between recency and frequency tunes itself with no
 * parameter.
 *
 * Lists are linked through typed arrays as in `LruPolicy`: a hit moves a
 * slot to the tail of T2 and allocates nothing. Ghosts are hash nodes in typed
 * arrays plus a `Map` from hash to node, bounded as in the paper by
 * |T1| + |B1| ≤ c and |T1| + |T2| + |B1| + |B2| ≤ 2c. A store bounded only by
 * `maxBytes` gives no c; then c is the resident count, so the ghosts never
 * outnumber the residents.
 *
 * @example
 * ```ts
 * const arc = new ArcPolicy(2, 3)
 * arc.insert(0, 0xa); arc.touch(0) // slot 0 is now in T2
 * arc.insert(1, 0xb); arc.insert(2, 0xc) // over the bound of 2
 * arc.victim() // 1: the LRU of T1; on remove(1) its hash 0xb goes to B1
 * ```
 */
export class ArcPolicy implements EvictionPolicy {
  /** ARC never refuses a newcomer. */
  readonly lastVictimRefused = false

  /** The cache size c, or UNBOUNDED_ENTRIES when only bytes bound the store (see `#bound`). */
  readonly #maxEntries: number
  readonly #unbounded: boolean
  readonly #residents: NodeLists
  #hashes: Uint32Array
  readonly #ghosts: NodeLists
  #ghostHashes: Uint32Array
  /** Ghost hash to its node; a hash is in at most one ghost node. */
  readonly #ghostIndex = new Map<number, number>()
  /** Free ghost nodes, chained through `#ghosts.next`. */
  #ghostFree = NONE
  /** Ghost nodes below this were handed out at least once. */
  #ghostUsed = 0
  /** The target size of T1, a real number in [0, c]. */
  #p = 0

  // What REPLACE needs to know about the newcomer. The store inserts first and
  // asks for victims after, so `insert` records it here for `victim`.
  /** The slot just inserted, never a victim unless it is alone; NONE once the store moved on. */
  #incoming = NONE
  /** The newcomer was a ghost hit in B2 (REPLACE's `x ∈ B2`). */
  #incomingFromB2 = false
  /** Case IV.A with |T1| = c: the paper drops T1's LRU outright, leaving no ghost. */
  #dropT1 = false

  // The slot last named by `victim`, so `remove` can tell an eviction (which
  // leaves a ghost) from a delete or an expiry (which does not).
  #evicting = NONE
  #evictingLeavesGhost = false

  constructor(maxEntries: number, capacity: number) {
    this.#maxEntries = maxEntries
    this.#unbounded = maxEntries >= UNBOUNDED_ENTRIES
    this.#residents = new NodeLists(capacity)
    this.#hashes = new Uint32Array(capacity)
    const ghosts = this.#unbounded
      ? INITIAL_GHOSTS
      : Math.max(1, Math.min(2 * maxEntries, INITIAL_GHOSTS))
    this.#ghosts = new NodeLists(ghosts)
    this.#ghostHashes = new Uint32Array(ghosts)
  }

  /** The target size of T1 (for tests and stats). */
  get p(): number {
    return this.#p
  }
  /** Residents seen once (T1), for tests and stats; likewise the three below. */
  get t1Size(): number {
    return this.#residents.size[T1]!
  }
  get t2Size(): number {
    return this.#residents.size[T2]!
  }
  get b1Size(): number {
    return this.#ghosts.size[B1]!
  }
  get b2Size(): number {
    return this.#ghosts.size[B2]!
  }

  insert(slot: number, hash: number): void {
    const residents = this.#residents
    const ghosts = this.#ghosts
    this.#hashes[slot] = hash
    this.#incoming = slot
    this.#evicting = NONE
    this.#dropT1 = false
    const node = this.#ghostIndex.get(hash)
    if (node !== undefined) {
      // Cases II and III: a ghost hit adapts p, and the key comes back into T2.
      // The ratios are real, not floored: that reproduces the paper's tables (OLTP,
      // c = 1000 to 15000), flooring does not.
      const b1 = ghosts.size[B1]!
      const b2 = ghosts.size[B2]!
      const fromB2 = ghosts.owner[node] === B2
      if (fromB2) this.#p = Math.max(this.#p - Math.max(1, b1 / b2), 0)
      else this.#p = Math.min(this.#p + Math.max(1, b2 / b1), this.#bound(1))
      this.#incomingFromB2 = fromB2
      this.#freeGhost(node)
      residents.pushTail(T2, slot)
      return
    }
    // Case IV: a key in no list. The paper trims the directory here, before REPLACE.
    this.#incomingFromB2 = false
    if (!this.#unbounded) {
      const c = this.#maxEntries
      const t1 = residents.size[T1]!
      const l1 = t1 + ghosts.size[B1]!
      if (l1 >= c) {
        if (t1 < c) this.#dropGhost(B1)
        else this.#dropT1 = true
      } else if (l1 + residents.size[T2]! + ghosts.size[B2]! >= 2 * c) {
        this.#dropGhost(ghosts.size[B2]! > 0 ? B2 : B1)
      }
    }
    // With no c, the ghost bounds follow the resident count, which only grows here.
    residents.pushTail(T1, slot)
  }

  touch(slot: number): void {
    // A hit means the store moved on from the last insert.
    this.#incoming = NONE
    const residents = this.#residents
    if (residents.owner[slot] === T2 && residents.tail[T2] === slot) return
    residents.unlink(slot)
    residents.pushTail(T2, slot)
  }

  remove(slot: number): void {
    const residents = this.#residents
    const list = residents.owner[slot]!
    if (list === 0) return
    residents.unlink(slot)
    if (slot === this.#incoming) this.#incoming = NONE
    if (slot === this.#evicting) {
      this.#evicting = NONE
      this.#dropT1 = false
      if (this.#evictingLeavesGhost) this.#addGhost(list === T1 ? B1 : B2, this.#hashes[slot]!)
    }
    if (this.#unbounded) this.#trimToResidents()
  }

  /**
   * REPLACE(x, p) of the paper, with x the newcomer: evict T1's LRU when T1 is
   * over its target p (or at it, when x came back from B2), else T2's LRU. The
   * newcomer is left out of the counts, as the paper runs REPLACE before x joins
   * a list. The hash moves to a ghost list when the store calls `remove`.
   */
  victim(): number {
    const residents = this.#residents
    const incoming = this.#incoming
    let t1 = residents.size[T1]!
    let t2 = residents.size[T2]!
    if (incoming !== NONE) {
      if (residents.owner[incoming] === T1) t1--
      else t2--
    }
    // The newcomer is its list's tail, so a list with others in it has another head.
    let list: number
    let leavesGhost = true
    if (this.#dropT1 && t1 >= 1) {
      list = T1
      leavesGhost = false
    } else if (t1 >= 1 && (t1 > this.#p || (this.#incomingFromB2 && t1 === this.#p))) list = T1
    else if (t2 >= 1) list = T2
    // T2 can be empty when a byte bound evicts from a cache not full by count.
    else if (t1 >= 1) list = T1
    else if (incoming !== NONE) list = residents.owner[incoming]!
    else return -1
    const slot = residents.head[list]!
    this.#evicting = slot
    this.#evictingLeavesGhost = leavesGhost
    return slot
  }

  grow(capacity: number): void {
    this.#residents.grow(capacity)
    const hashes = new Uint32Array(capacity)
    hashes.set(this.#hashes)
    this.#hashes = hashes
  }

  clear(): void {
    this.#residents.clear()
    this.#ghosts.clear()
    this.#ghostIndex.clear()
    this.#ghostFree = NONE
    this.#ghostUsed = 0
    this.#p = 0
    this.#incoming = NONE
    this.#incomingFromB2 = false
    this.#dropT1 = false
    this.#evicting = NONE
  }

  /**
   * The cache size c. A store bounded only by `maxBytes` has no c, so there it is
   * the resident count (plus `extra` entries about to join), at least 1: the
   * ghosts then never outnumber the residents, and p stays within the residents.
   */
  #bound(extra: number): number {
    if (!this.#unbounded) return this.#maxEntries
    return Math.max(1, this.#residents.size[T1]! + this.#residents.size[T2]! + extra)
  }

  /**
   * With no c, each resident that leaves lowers the bounds: drop the oldest
   * ghosts until |T1| + |B1| ≤ c and |B1| + |B2| ≤ c again (at most two per
   * call), and clamp p.
   */
  #trimToResidents(): void {
    const c = this.#bound(0)
    const ghosts = this.#ghosts
    while (ghosts.size[B1]! > 0 && this.#residents.size[T1]! + ghosts.size[B1]! > c) {
      this.#dropGhost(B1)
    }
    while (ghosts.size[B1]! + ghosts.size[B2]! > c) {
      this.#dropGhost(ghosts.size[B2]! > 0 ? B2 : B1)
    }
    if (this.#p > c) this.#p = c
  }

  #addGhost(list: number, hash: number): void {
    let node = this.#ghostIndex.get(hash)
    // Two keys may share a hash: keep one ghost per hash, the most recent.
    if (node !== undefined) this.#ghosts.unlink(node)
    else {
      node = this.#allocateGhost()
      this.#ghostHashes[node] = hash
      this.#ghostIndex.set(hash, node)
    }
    this.#ghosts.pushTail(list, node)
  }

  #dropGhost(list: number): void {
    const node = this.#ghosts.head[list]!
    if (node !== NONE) this.#freeGhost(node)
  }

  #freeGhost(node: number): void {
    this.#ghosts.unlink(node)
    this.#ghostIndex.delete(this.#ghostHashes[node]!)
    this.#ghosts.next[node] = this.#ghostFree
    this.#ghostFree = node
  }

  #allocateGhost(): number {
    const free = this.#ghostFree
    if (free !== NONE) {
      this.#ghostFree = this.#ghosts.next[free]!
      return free
    }
    const length = this.#ghostHashes.length
    if (this.#ghostUsed === length) {
      // The bounds keep ghosts under 2c, so this doubles a bounded number of times.
      this.#ghosts.grow(length * 2)
      const hashes = new Uint32Array(length * 2)
      hashes.set(this.#ghostHashes)
      this.#ghostHashes = hashes
    }
    return this.#ghostUsed++
  }
}
