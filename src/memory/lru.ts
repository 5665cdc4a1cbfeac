import type { EvictionPolicy } from './policy.js'

const NONE = 0xffffffff

/**
 * Least-recently-used order as a doubly linked list in two typed arrays, as
 * lru-cache does: a hit rewires four integers and allocates nothing.
 * The head is the least recently used slot, the tail the most recent.
 *
 * @example
 * ```ts
 * const lru = new LruPolicy(4)
 * lru.insert(0); lru.insert(1); lru.touch(0)
 * lru.victim() // 1
 * ```
 */
export class LruPolicy implements EvictionPolicy {
  #next: Uint32Array
  #prev: Uint32Array
  #head = NONE
  #tail = NONE
  /** LRU admits everything. */
  readonly lastVictimRefused = false

  constructor(capacity: number) {
    this.#next = new Uint32Array(capacity)
    this.#prev = new Uint32Array(capacity)
  }

  insert(slot: number, _hash?: number): void {
    this.#linkTail(slot)
  }

  touch(slot: number): void {
    if (slot === this.#tail) return
    this.#unlink(slot)
    this.#linkTail(slot)
  }

  remove(slot: number): void {
    this.#unlink(slot)
  }

  victim(): number {
    return this.#head === NONE ? -1 : this.#head
  }

  grow(capacity: number): void {
    const next = new Uint32Array(capacity)
    const prev = new Uint32Array(capacity)
    next.set(this.#next)
    prev.set(this.#prev)
    this.#next = next
    this.#prev = prev
  }

  clear(): void {
    this.#head = NONE
    this.#tail = NONE
  }

  #linkTail(slot: number): void {
    this.#prev[slot] = this.#tail
    this.#next[slot] = NONE
    if (this.#tail === NONE) this.#head = slot
    else this.#next[this.#tail] = slot
    this.#tail = slot
  }

  #unlink(slot: number): void {
    const prev = this.#prev[slot]!
    const next = this.#next[slot]!
    if (prev === NONE) this.#head = next
    else this.#next[prev] = next
    if (next === NONE) this.#tail = prev
    else this.#prev[next] = prev
  }
}
