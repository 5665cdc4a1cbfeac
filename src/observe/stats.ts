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
  /** Failures that did not fail a call (a remote tier down during a read, a corrupt entry): each was an `error` event. */
  readonly errors: number
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
  errors = 0
  readonly tierNames: readonly string[]
  /** Hits per tier; slot 0 (L1) stays 0, since L1's hits are `hits` minus the others'. */
  readonly tierHits: number[]
  readonly tierMisses: number[]

  /** @param tierNames the tiers' names, L1 first */
  constructor(tierNames: readonly string[]) {
    this.tierNames = tierNames
    this.tierHits = tierNames.map(() => 0)
    this.tierMisses = tierNames.map(() => 0)
  }

  snapshot(inFlight: number): CacheStats {
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
      errors: this.errors,
      inFlight,
      tiers: this.tierNames.map((name, i) => ({
        name,
        hits:
          i === 0 ? this.hits - this.tierHits.reduce((sum, n) => sum + n, 0) : this.tierHits[i]!,
        misses: this.tierMisses[i]!,
      })),
    }
  }
}
