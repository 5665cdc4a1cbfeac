/** Counters of one tier. */
export interface TierStats {
  readonly name: string
  readonly hits: number
  readonly misses: number
}

/**
 * A snapshot of a cache's counters since it was created. Namespaces of one cache
 * share its counters.
 */
export interface CacheStats {
  /** Reads answered by a tier (a cached "not found" counts as a hit). */
  readonly hits: number
  /** Reads no tier could answer. */
  readonly misses: number
  /** `hits / (hits + misses)`, 0 before any read. */
  readonly hitRatio: number
  readonly sets: number
  readonly deletes: number
  /** Loader runs (a shared load counts once). */
  readonly loads: number
  /** Loader runs that threw. */
  readonly loadErrors: number
  /** Entries dropped by a tier on its own (bounds, expiry). */
  readonly evictions: number
  /** Loads running now. */
  readonly inFlight: number
  /** Per tier, top first. */
  readonly tiers: readonly TierStats[]
}

/** Mutable counters behind {@link CacheStats}; plain fields so a hit is one increment. */
export class Counters {
  hits = 0
  misses = 0
  sets = 0
  deletes = 0
  loads = 0
  loadErrors = 0
  evictions = 0

  snapshot(tierName: string, inFlight: number): CacheStats {
    const reads = this.hits + this.misses
    return {
      hits: this.hits,
      misses: this.misses,
      hitRatio: reads === 0 ? 0 : this.hits / reads,
      sets: this.sets,
      deletes: this.deletes,
      loads: this.loads,
      loadErrors: this.loadErrors,
      evictions: this.evictions,
      inFlight,
      tiers: [{ name: tierName, hits: this.hits, misses: this.misses }],
    }
  }
}
