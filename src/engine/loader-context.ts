import type { Duration } from '../duration.js'
import { parseTags, parseTtl, type WritePlan } from '../options.js'

/**
 * What a loader of `getOrSet` receives.
 *
 * @example
 * ```ts
 * await cache.getOrSet('user:1', async (ctx) => {
 *   const user = await db.users.find(1, { signal: ctx.signal })
 *   if (user?.temporary) ctx.setTtl('10s')
 *   return user
 * })
 * ```
 */
export interface LoaderContext {
  /** The key being loaded, as the caller passed it (without namespace prefix). */
  readonly key: string
  /** Aborts when every caller waiting for this load has aborted. */
  readonly signal: AbortSignal
  /** Overrides the ttl of what this load stores; `null` for no expiry. */
  setTtl(ttl: Duration | null): void
  /** Replaces the tags of what this load stores. */
  setTags(tags: readonly string[]): void
  /** Returns the result to the callers without storing it. */
  skipCache(): void
}

/**
 * What a batch loader of `getOrSetMany` receives besides the missing keys: the
 * same controls as {@link LoaderContext}, applied to every key of the batch.
 */
export interface BatchLoaderContext extends Omit<LoaderContext, 'key'> {
  /** The keys being loaded (the missing ones), as the caller passed them. */
  readonly keys: readonly string[]
}

/** The one implementation of both contexts: a mutable write plan plus a skip flag. */
export class LoadControls implements LoaderContext, BatchLoaderContext {
  readonly signal: AbortSignal
  readonly #keys: readonly string[]
  #plan: WritePlan
  #skipped = false

  constructor(keys: readonly string[], signal: AbortSignal, plan: WritePlan) {
    this.#keys = keys
    this.signal = signal
    this.#plan = plan
  }

  get key(): string {
    return this.#keys[0]!
  }

  get keys(): readonly string[] {
    return this.#keys
  }

  get plan(): WritePlan {
    return this.#plan
  }

  get skipped(): boolean {
    return this.#skipped
  }

  setTtl(ttl: Duration | null): void {
    this.#plan = { ...this.#plan, ttl: parseTtl(ttl, 'ctx.setTtl') }
  }

  setTags(tags: readonly string[]): void {
    this.#plan = { ...this.#plan, tags: parseTags(tags) }
  }

  skipCache(): void {
    this.#skipped = true
  }
}
