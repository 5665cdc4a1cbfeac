/**
 * Replays a decoded trace (bench/sim/traces.ts) against one cache size:
 * - {@link replayPolicy}: an `EvictionPolicy` driven the way `MemoryStore` drives
 *   it (src/memory/memory-store.ts): a hit touches the slot; a miss takes a free
 *   slot (the last one freed first, else the lowest never-used one), inserts it
 *   with the key's hash, then evicts `victim()` until the store is within its bound;
 * - {@link replayLruCache}: the lru-cache package (`max = size`), the LRU reference;
 * - {@link replayOpt}: Belady's MIN with bypass, the optimum for unit-size entries.
 *
 * Counting, as /work/shared/traces/README.md says: every request counts, the cold
 * start included; a miss inserts the key (demand fill); `hitRatio = hits / requests`.
 */

import { LRUCache } from 'lru-cache'
import type { PolicyFactory } from '../../src/memory/policy.js'

/** The requests of a trace as the replays need them. */
export interface ReplayKeys {
  /** Dense key id per request, in 0 .. idCount - 1. */
  ids: Int32Array
  /** The uint32 hash of each id's key, passed to `EvictionPolicy.insert`. */
  hashes: Uint32Array
}

export interface ReplayResult {
  hits: number
  requests: number
  hitRatio: number
  /** Victims that were the newcomer refused at admission (`lastVictimRefused`), or OPT's bypasses. */
  refused: number
  /** Residents evicted (refusals not included). */
  evicted: number
  ms: number
}

export interface ReplayOptions {
  /**
   * Start with the store's initial capacity (64 slots, at most size + 1) and double
   * it through `policy.grow` as the store does; by default the policy is created
   * with its final capacity, size + 1 slots.
   */
  growLikeStore?: boolean
}

/** The memory store's first capacity (memory-store.ts INITIAL_CAPACITY). */
const STORE_INITIAL_CAPACITY = 64

/**
 * Replays `keys` through a policy made by `factory(size, capacity)`, with the
 * store's slot bookkeeping: an id→slot index (an Int32Array over the dense ids:
 * the store's `Map<string, number>`), slot→id, and a stack of free slots.
 *
 * Throws when the policy breaks its contract (a victim that is not a tracked slot,
 * or no victim while the store is over its bound), since every number it would
 * produce after that is meaningless.
 */
export function replayPolicy(
  factory: PolicyFactory,
  keys: ReplayKeys,
  size: number,
  options: ReplayOptions = {},
): ReplayResult {
  const start = performance.now()
  const { ids, hashes } = keys
  const finalCapacity = size + 1
  let capacity = options.growLikeStore
    ? Math.min(finalCapacity, STORE_INITIAL_CAPACITY)
    : finalCapacity
  const policy = factory(size, capacity)
  const slotOf = new Int32Array(hashes.length).fill(-1)
  let idOf = new Int32Array(capacity).fill(-1)
  let free = new Int32Array(capacity)
  let freeTop = 0
  let used = 0
  let hits = 0
  let refused = 0
  let evicted = 0
  const n = ids.length
  for (let i = 0; i < n; i++) {
    const id = ids[i]!
    const slot = slotOf[id]!
    if (slot !== -1) {
      hits++
      policy.touch(slot)
      continue
    }
    let s: number
    if (freeTop > 0) {
      s = free[--freeTop]!
    } else {
      if (used === capacity) {
        // Only reachable with growLikeStore: the store doubles, up to size + 1.
        capacity = Math.min(finalCapacity, capacity * 2)
        const wider = new Int32Array(capacity).fill(-1)
        wider.set(idOf)
        idOf = wider
        const widerFree = new Int32Array(capacity)
        widerFree.set(free)
        free = widerFree
        policy.grow(capacity)
      }
      s = used
    }
    idOf[s] = id
    slotOf[id] = s
    used++
    policy.insert(s, hashes[id]!)
    while (used > size) {
      const victim = policy.victim()
      if (victim === -1) {
        throw new Error(`victim() returned -1 with ${used} entries tracked (bound ${size})`)
      }
      const victimId = victim >= 0 && victim < capacity ? idOf[victim]! : -1
      if (victimId === -1) {
        throw new Error(`victim() returned slot ${victim}, which holds no entry`)
      }
      slotOf[victimId] = -1
      idOf[victim] = -1
      policy.remove(victim)
      free[freeTop++] = victim
      used--
      if (policy.lastVictimRefused) refused++
      else evicted++
    }
  }
  return result(hits, n, refused, evicted, start)
}

/** Replays `keys` through lru-cache with `max: size`: `get`, and `set` on a miss. */
export function replayLruCache(keys: ReplayKeys, size: number): ReplayResult {
  const start = performance.now()
  const { ids } = keys
  let evicted = 0
  const cache = new LRUCache<number, true>({
    max: size,
    dispose: (_value, _key, reason) => {
      if (reason === 'evict') evicted++
    },
  })
  let hits = 0
  const n = ids.length
  for (let i = 0; i < n; i++) {
    const id = ids[i]!
    if (cache.get(id) !== undefined) hits++
    else cache.set(id, true)
  }
  return result(hits, n, 0, evicted, start)
}

/** Next-use index of "never used again" in {@link nextUses}. */
export const NEVER = 0x7fffffff

/**
 * For each request i, the index of the next request for the same key, or
 * {@link NEVER}. Shared by every OPT size of a trace.
 */
export function nextUses(ids: Int32Array, idCount: number): Int32Array {
  if (ids.length >= NEVER) throw new Error('trace too long for Int32 next-use indexes')
  const next = new Int32Array(ids.length)
  const last = new Int32Array(idCount).fill(NEVER)
  for (let i = ids.length - 1; i >= 0; i--) {
    const id = ids[i]!
    next[i] = last[id]!
    last[id] = i
  }
  return next
}

/**
 * Belady's MIN with bypass, as REFERENCES.md defines OPT: on a miss with a full
 * cache, whichever of the cached keys or the new key is next used furthest away is
 * dropped (the newcomer is then not inserted, and counts as refused).
 *
 * The cached keys sit in an indexed binary max-heap keyed by next use (position
 * per id, so a hit raises its key in place: no stale entries); O(log size) per
 * request.
 */
export function replayOpt(
  keys: ReplayKeys,
  size: number,
  next: Int32Array = nextUses(keys.ids, keys.hashes.length),
): ReplayResult {
  const start = performance.now()
  const { ids } = keys
  const heapId = new Int32Array(size)
  const heapKey = new Int32Array(size)
  const pos = new Int32Array(keys.hashes.length).fill(-1)
  let length = 0

  const siftUp = (i: number): void => {
    const id = heapId[i]!
    const key = heapKey[i]!
    while (i > 0) {
      const parent = (i - 1) >> 1
      const parentKey = heapKey[parent]!
      if (parentKey >= key) break
      heapId[i] = heapId[parent]!
      heapKey[i] = parentKey
      pos[heapId[i]!] = i
      i = parent
    }
    heapId[i] = id
    heapKey[i] = key
    pos[id] = i
  }
  const siftDown = (i: number): void => {
    const id = heapId[i]!
    const key = heapKey[i]!
    for (;;) {
      let child = 2 * i + 1
      if (child >= length) break
      if (child + 1 < length && heapKey[child + 1]! > heapKey[child]!) child++
      const childKey = heapKey[child]!
      if (childKey <= key) break
      heapId[i] = heapId[child]!
      heapKey[i] = childKey
      pos[heapId[i]!] = i
      i = child
    }
    heapId[i] = id
    heapKey[i] = key
    pos[id] = i
  }

  let hits = 0
  let refused = 0
  let evicted = 0
  const n = ids.length
  for (let i = 0; i < n; i++) {
    const id = ids[i]!
    const nextUse = next[i]!
    const p = pos[id]!
    if (p !== -1) {
      // Its key was i (this request); the next use is later, so it can only rise.
      hits++
      heapKey[p] = nextUse
      siftUp(p)
    } else if (length < size) {
      heapId[length] = id
      heapKey[length] = nextUse
      siftUp(length++)
    } else if (nextUse >= heapKey[0]!) {
      refused++ // the newcomer is needed last (or never): bypass
    } else {
      pos[heapId[0]!] = -1
      evicted++
      heapId[0] = id
      heapKey[0] = nextUse
      siftDown(0)
    }
  }
  return result(hits, n, refused, evicted, start)
}

function result(
  hits: number,
  requests: number,
  refused: number,
  evicted: number,
  start: number,
): ReplayResult {
  return {
    hits,
    requests,
    hitRatio: requests === 0 ? 0 : hits / requests,
    refused,
    evicted,
    ms: performance.now() - start,
  }
}
