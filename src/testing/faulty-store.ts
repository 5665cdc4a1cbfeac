import type {
  Store,
  StoreCapabilities,
  StoreListOptions,
  StoreListPage,
  StoreWrite,
} from '../stores/store.js'

/**
 * A {@link Store} that wraps another and fails on command, for testing what a
 * cache does when a tier breaks: `failNext(n)`, `failAlways()`, `delay(ms)`,
 * `hang()`, and `heal()` to go back to passing every call through. Calls that
 * fail reject with `error` (a plain Error by default, as a driver's would).
 * With every fault off it is the wrapped store, and it passes the store
 * conformance suite.
 *
 * @example
 * ```ts
 * const remote = faultyStore(memoryStore())
 * const cache = createCache({ tiers: [memoryStore(), remote] })
 * remote.failAlways()
 * await cache.get('k') // undefined, and an 'error' event
 * remote.heal()
 * ```
 */
export function faultyStore(inner: Store, options: { name?: string } = {}): FaultyStore {
  return new FaultyStore(inner, options.name ?? inner.name)
}

/** The class behind {@link faultyStore}. */
export class FaultyStore implements Store {
  readonly name: string
  readonly capabilities: StoreCapabilities
  /** Every call that reached this store, by method name, faults included. */
  readonly calls: string[] = []
  readonly #inner: Store
  #failures = 0
  #always = false
  #delayMs = 0
  #hanging = false
  #error: () => Error = () => new Error('injected fault')

  constructor(inner: Store, name: string) {
    this.#inner = inner
    this.name = name
    this.capabilities = inner.capabilities
  }

  /** The next `n` calls reject. */
  failNext(n = 1, error?: () => Error): this {
    this.#failures = n
    if (error !== undefined) this.#error = error
    return this
  }

  /** Every call rejects until {@link FaultyStore.heal}. */
  failAlways(error?: () => Error): this {
    this.#always = true
    if (error !== undefined) this.#error = error
    return this
  }

  /** Every call waits `ms` before it runs. */
  delay(ms: number): this {
    this.#delayMs = ms
    return this
  }

  /** Every call never settles, like a server that stopped answering. */
  hang(): this {
    this.#hanging = true
    return this
  }

  /** Back to passing every call through. */
  heal(): this {
    this.#failures = 0
    this.#always = false
    this.#delayMs = 0
    this.#hanging = false
    return this
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.#run('get', () => this.#inner.get(key))
  }
  getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    return this.#run('getMany', () => this.#inner.getMany(keys))
  }
  set(key: string, value: Uint8Array, ttl?: number): Promise<void> {
    return this.#run('set', () => this.#inner.set(key, value, ttl))
  }
  setMany(entries: readonly StoreWrite[]): Promise<void> {
    return this.#run('setMany', () => this.#inner.setMany(entries))
  }
  add(key: string, value: Uint8Array, ttl?: number): Promise<boolean> {
    return this.#run('add', () => this.#inner.add(key, value, ttl))
  }
  delete(key: string): Promise<boolean> {
    return this.#run('delete', () => this.#inner.delete(key))
  }
  deleteMany(keys: readonly string[]): Promise<number> {
    return this.#run('deleteMany', () => this.#inner.deleteMany(keys))
  }
  take(key: string): Promise<Uint8Array | undefined> {
    return this.#run('take', () => this.#inner.take(key))
  }
  increment(key: string, delta: number, ttl?: number): Promise<number> {
    return this.#run('increment', () => this.#inner.increment(key, delta, ttl))
  }
  clear(prefix: string): Promise<void> {
    return this.#run('clear', () => this.#inner.clear(prefix))
  }
  keys(options?: StoreListOptions): Promise<StoreListPage> {
    return this.#run('keys', () => this.#inner.keys(options))
  }
  ready(): Promise<void> {
    return this.#run('ready', () => this.#inner.ready())
  }
  /** Closes the wrapped store; never faulty, so tests can always clean up. */
  close(): Promise<void> {
    return this.#inner.close()
  }

  async #run<R>(method: string, call: () => Promise<R>): Promise<R> {
    this.calls.push(method)
    if (this.#hanging) return new Promise<R>(() => {})
    if (this.#delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#delayMs))
    if (this.#always || this.#failures > 0) {
      if (this.#failures > 0) this.#failures--
      throw this.#error()
    }
    return call()
  }
}
