import type { EvictionReason } from '../memory/memory-store.js'

/**
 * The events a cache emits, by name, with their payloads. Keys in payloads are
 * storage keys: namespace prefix included, so one listener on the root cache
 * tells namespaces apart.
 */
export interface CacheEvents {
  /** A tier answered a read. */
  hit: { readonly key: string; readonly tier: string }
  /** No tier had the key. */
  miss: { readonly key: string }
  /** A value was written. */
  set: { readonly key: string }
  /** A key was deleted (by `delete`, `deleteMany` or `pull`). */
  delete: { readonly key: string }
  /** A loader finished; `error` is set when it threw. `duration` in ms. */
  load: { readonly key: string; readonly duration: number; readonly error?: unknown }
  /** A tier dropped an entry on its own. */
  evict: { readonly key: string; readonly reason: EvictionReason; readonly tier: string }
  /** Something failed without failing the call that saw it (a throwing listener, a background task). */
  error: { readonly error: unknown; readonly key?: string; readonly operation: string }
}

/** A name of {@link CacheEvents}. */
export type CacheEventName = keyof CacheEvents

/** A listener of event `E`. */
export type CacheListener<E extends CacheEventName> = (payload: CacheEvents[E]) => void

type ListenerTable = { [E in CacheEventName]: Array<CacheListener<E>> }

/**
 * A small typed emitter. Unlike node's EventEmitter, an `error` with no listener
 * does not throw, and a throwing listener never breaks the cache call that
 * emitted: its exception becomes an `error` event.
 */
export class Emitter {
  readonly #listeners: ListenerTable = {
    hit: [],
    miss: [],
    set: [],
    delete: [],
    load: [],
    evict: [],
    error: [],
  }

  /** Whether `event` has a listener: callers test this before building a payload. */
  has(event: CacheEventName): boolean {
    return this.#listeners[event].length !== 0
  }

  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): void {
    const table = this.#listeners[event] as Array<CacheListener<E>> | undefined
    if (table === undefined) throw new TypeError(`Unknown cache event '${String(event)}'.`)
    if (typeof listener !== 'function') throw new TypeError('A listener must be a function.')
    // Copy on write: an emit in progress keeps iterating the array it started with.
    ;(this.#listeners as Record<E, Array<CacheListener<E>>>)[event] = [...table, listener]
  }

  off<E extends CacheEventName>(event: E, listener: CacheListener<E>): void {
    const table = this.#listeners[event] as Array<CacheListener<E>> | undefined
    if (table === undefined) return
    const at = table.lastIndexOf(listener)
    if (at === -1) return
    ;(this.#listeners as Record<E, Array<CacheListener<E>>>)[event] = table.filter(
      (_, i) => i !== at,
    )
  }

  emit<E extends CacheEventName>(event: E, payload: CacheEvents[E]): void {
    const listeners = this.#listeners[event] as Array<CacheListener<E>>
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(payload)
      } catch (error) {
        if (event !== 'error') this.emit('error', { error, operation: `listener:${event}` })
      }
    }
  }
}
