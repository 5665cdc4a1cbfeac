/**
 * `nullStore`: a tier that stores nothing. Useful to turn a remote tier off by
 * configuration without changing the tier list, and as the baseline of benchmarks.
 */
import { ClosedError, InvalidArgumentError } from '../errors.js'
import type {
  Store,
  StoreCapabilities,
  StoreListOptions,
  StoreListPage,
  StoreWrite,
} from './store.js'

const CAPABILITIES: StoreCapabilities = Object.freeze({
  list: true,
  ttlGranularity: 'ms',
  shared: false,
})

/**
 * A store that keeps nothing: every read is a miss, writes are accepted and dropped,
 * `add` always wins, `increment` returns `delta` (the counter starts from 0 each time),
 * `take` finds nothing and `keys()` lists nothing. Calls after `close()` reject with
 * `ClosedError`, as on any store.
 *
 * @example
 * ```ts
 * import { nullStore } from 'tiercache'
 *
 * const store = nullStore()
 * await store.set('k', new TextEncoder().encode('v'))
 * await store.get('k') // undefined
 * await store.increment('n', 5) // 5, and 5 again next time
 * ```
 */
export function nullStore(): Store {
  return new NullStore()
}

class NullStore implements Store {
  readonly name = 'null'
  readonly capabilities = CAPABILITIES
  #closed = false

  async get(_key: string): Promise<Uint8Array | undefined> {
    this.#checkOpen()
    return undefined
  }

  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    this.#checkOpen()
    return keys.map(() => undefined)
  }

  async set(_key: string, _value: Uint8Array, _ttl?: number): Promise<void> {
    this.#checkOpen()
  }

  async setMany(_entries: readonly StoreWrite[]): Promise<void> {
    this.#checkOpen()
  }

  async add(_key: string, _value: Uint8Array, _ttl?: number): Promise<boolean> {
    this.#checkOpen()
    return true
  }

  async delete(_key: string): Promise<boolean> {
    this.#checkOpen()
    return false
  }

  async deleteMany(_keys: readonly string[]): Promise<number> {
    this.#checkOpen()
    return 0
  }

  async take(_key: string): Promise<Uint8Array | undefined> {
    this.#checkOpen()
    return undefined
  }

  async increment(_key: string, delta: number, _ttl?: number): Promise<number> {
    this.#checkOpen()
    if (!Number.isSafeInteger(delta)) {
      throw new InvalidArgumentError(`increment: delta must be an integer, not ${String(delta)}.`)
    }
    return delta
  }

  async clear(_prefix: string): Promise<void> {
    this.#checkOpen()
  }

  async keys(_options?: StoreListOptions): Promise<StoreListPage> {
    this.#checkOpen()
    return { entries: [] }
  }

  async ready(): Promise<void> {
    this.#checkOpen()
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError('null store')
  }
}
