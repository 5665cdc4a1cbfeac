/**
 * `memcachedStore`: a tier on memcached, through memjs (binary protocol).
 *
 * Keys. memcached takes at most 250 bytes per key, and text-protocol servers and
 * proxies split on whitespace and control bytes. A storage key is sent as is only when
 * it is short and made of printable ASCII (`!`..`~`); any other key is stored under
 * `prefix + 'h' + base64url(sha256(...))`, so no `\r\n` (or space, or NUL) of a key ever
 * reaches the server. Such a key cannot be read back, so `keys()` is unsupported
 * (`capabilities.list` false).
 *
 * Expiry. memcached counts whole seconds on a coarse clock, so ttls round up to the
 * next whole second (`ttlGranularity: 's'`). Each item carries its expiry (epoch
 * seconds) in memcached's 32-bit `flags`: reads treat an item past it as a miss, and
 * the server is told to keep items one second longer than that, so its coarse clock
 * never drops an entry early. `increment` re-writes a counter with the expiry it had.
 *
 * Atomic calls. `add` is memcached `add`. `increment`, `take` and `delete` read the
 * item with its CAS version and write or delete it only if that version is unchanged,
 * retrying otherwise: counters are decimal text that may go negative (memcached's own
 * `incr` is unsigned), one `take` wins, and `delete` counts only live entries.
 *
 * Prefix clear, by generation numbers. memcached cannot enumerate keys, so nothing is
 * deleted: one item per store, `prefix + 'g'`, holds a random root generation and a
 * counter per prefix `clear()` was called with. Every key is stored under the root plus
 * the counters of the registered prefixes it starts with, so bumping a counter (or the
 * root, for `clear('')`) moves every matching key to names nothing reads again; the old
 * items age out. Each call reads that item first (one extra round trip; a batch reads it
 * once). If memcached evicts it, a new root is drawn, which reads as a `clear('')`: a
 * cache may lose data, but never serves data from before a clear. Each distinct cleared
 * prefix adds a few bytes to the item until the next `clear('')`.
 */
import { createHash, randomBytes } from 'node:crypto'
import { Client } from 'memjs'
import {
  ClosedError,
  InvalidArgumentError,
  StoreUnavailableError,
  TierCacheError,
  UnsupportedOperationError,
  ValueTooLargeError,
  WrongTypeError,
} from '../errors.js'
import type {
  Store,
  StoreCapabilities,
  StoreListOptions,
  StoreListPage,
  StoreWrite,
} from './store.js'

/** Options of {@link memcachedStore}. */
export interface MemcachedStoreOptions {
  /**
   * The server(s): `memcached://[user:pass@]host[:port][,host2[:port]]`. Ignored when
   * `client` is given. @default 'memcached://127.0.0.1:11211'
   */
  url?: string | undefined
  /** A memjs client to use instead; the store never closes a client it did not create. */
  client?: Client | undefined
  /**
   * Prepended to every storage key, so stores can share a server. Printable ASCII
   * without spaces, at most 200 bytes. @default ''
   */
  prefix?: string | undefined
  /** Seconds memjs waits for a reply before it retries or fails. @default 0.5 */
  timeout?: number | undefined
}

const CAPABILITIES: StoreCapabilities = Object.freeze({
  list: false,
  ttlGranularity: 's',
  shared: true,
})
const OP = { get: 0x00, set: 0x01, add: 0x02, delete: 0x04 } as const
const STATUS = { ok: 0, notFound: 1, exists: 2, tooLarge: 3 } as const
const MAX_KEY_BYTES = 250
const MAX_PREFIX_BYTES = 200
const SAFE_KEY = /^[\x21-\x7e]*$/
const DECIMAL = /^(?:0|-?[1-9]\d{0,15})$/
/** memcached reads an exptime above 30 days as an absolute unix time. */
const MAX_RELATIVE_SECONDS = 30 * 24 * 3600
/** memcached's default item size limit (`-I`), named in `ValueTooLargeError`. */
const ITEM_LIMIT = 1024 * 1024
const MAX_ATTEMPTS = 10_000
const MAX_FLAGS = 0xfffffffe
const SILENT = { log: (): void => {} }
const encoder = new TextEncoder()

/** One reply of the binary protocol. */
interface Reply {
  readonly status: number
  readonly cas: Buffer
  /** Epoch seconds after which the item is a miss; 0 for none (from `flags`). */
  readonly expiresAt: number
  readonly value: Uint8Array
}

/** The generation item: a root that `clear('')` redraws, and a counter per cleared prefix. */
interface Generations {
  readonly root: string
  readonly prefixes: Readonly<Record<string, number>>
  /** Registered prefixes, sorted, so every process folds them in the same order. */
  readonly sorted: readonly string[]
  readonly cas: Buffer | undefined
}

/**
 * A store on memcached. Ttls round up to whole seconds; `keys()` is unsupported; see
 * the module comment for how keys, expiry, atomic calls and prefix clear work.
 *
 * @example
 * ```ts
 * import { memcachedStore } from 'tiercache/memcached'
 *
 * const store = memcachedStore({ url: 'memcached://127.0.0.1:11211', prefix: 'app:' })
 * await store.set('user:1', new TextEncoder().encode('{"name":"Ada"}'), 60_000)
 * await store.increment('visits', 1) // 1
 * await store.clear('user:') // user:1 is gone, visits stays
 * await store.close()
 * ```
 */
export function memcachedStore(options: MemcachedStoreOptions = {}): Store {
  const prefix = options.prefix ?? ''
  if (
    typeof prefix !== 'string' ||
    !SAFE_KEY.test(prefix) ||
    Buffer.byteLength(prefix) > MAX_PREFIX_BYTES
  ) {
    throw new InvalidArgumentError(
      `memcachedStore: "prefix" must be printable ASCII without spaces, at most ${MAX_PREFIX_BYTES} bytes.`,
    )
  }
  if (options.client !== undefined) return new MemcachedStore(options.client, false, prefix)
  const client = Client.create(serversOf(options.url ?? 'memcached://127.0.0.1:11211'), {
    logger: SILENT,
    timeout: options.timeout ?? 0.5,
  })
  return new MemcachedStore(client, true, prefix)
}

/** `memcached://user:pass@a:1,b:2/` → memjs's `user:pass@a:1,b:2`. */
function serversOf(url: string): string {
  const match = /^memcached:\/\/([^/?#]+)\/?$/.exec(url)
  if (match === null) {
    throw new InvalidArgumentError(
      `memcachedStore: "url" must look like memcached://host:11211, not '${url}'.`,
    )
  }
  return decodeURIComponent(match[1]!)
}

class MemcachedStore implements Store {
  readonly name = 'memcached'
  readonly capabilities = CAPABILITIES
  readonly #client: Client
  readonly #owned: boolean
  readonly #prefix: string
  readonly #generationKey: string
  readonly #pending = new Set<Promise<unknown>>()
  #closed = false
  #parsed: { raw: string; value: Omit<Generations, 'cas'> } | undefined

  constructor(client: Client, owned: boolean, prefix: string) {
    this.#client = client
    this.#owned = owned
    this.#prefix = prefix
    this.#generationKey = `${prefix}g`
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.#run('get', async () => {
      const reply = await this.#send(OP.get, this.#key(await this.#generations(), key))
      return live(reply) ? reply.value : undefined
    })
  }

  getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    return this.#run('getMany', async () => {
      if (keys.length === 0) return []
      const gens = await this.#generations()
      const replies = await Promise.all(keys.map((key) => this.#send(OP.get, this.#key(gens, key))))
      return replies.map((reply) => (live(reply) ? reply.value : undefined))
    })
  }

  set(key: string, value: Uint8Array, ttl?: number): Promise<void> {
    return this.#run('set', async () => {
      await this.#write(OP.set, this.#key(await this.#generations(), key), value, expiryOf(ttl))
    })
  }

  setMany(entries: readonly StoreWrite[]): Promise<void> {
    return this.#run('setMany', async () => {
      if (entries.length === 0) return
      const gens = await this.#generations()
      await Promise.all(
        entries.map((e) => this.#write(OP.set, this.#key(gens, e.key), e.value, expiryOf(e.ttl))),
      )
    })
  }

  add(key: string, value: Uint8Array, ttl?: number): Promise<boolean> {
    return this.#run('add', async () => {
      const storageKey = this.#key(await this.#generations(), key)
      const expiresAt = expiryOf(ttl)
      return this.#retry(async () => {
        if ((await this.#write(OP.add, storageKey, value, expiresAt)) === STATUS.ok) return true
        // memcached still holds the item; it may be past the expiry only this store checks.
        const current = await this.#send(OP.get, storageKey)
        if (current.status === STATUS.notFound) return undefined
        if (live(current)) return false
        const status = await this.#write(OP.set, storageKey, value, expiresAt, current.cas)
        return status === STATUS.ok ? true : undefined
      })
    })
  }

  delete(key: string): Promise<boolean> {
    return this.#run('delete', async () => {
      const taken = await this.#take(this.#key(await this.#generations(), key))
      return taken !== undefined
    })
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    return this.#run('deleteMany', async () => {
      if (keys.length === 0) return 0
      const gens = await this.#generations()
      const taken = await Promise.all(keys.map((key) => this.#take(this.#key(gens, key))))
      return taken.filter((value) => value !== undefined).length
    })
  }

  take(key: string): Promise<Uint8Array | undefined> {
    return this.#run('take', async () => this.#take(this.#key(await this.#generations(), key)))
  }

  increment(key: string, delta: number, ttl?: number): Promise<number> {
    return this.#run('increment', async () => {
      if (!Number.isSafeInteger(delta)) {
        throw new InvalidArgumentError(`increment: delta must be an integer, not ${String(delta)}.`)
      }
      const storageKey = this.#key(await this.#generations(), key)
      return this.#retry(async () => {
        const current = await this.#send(OP.get, storageKey)
        const created = encoder.encode(String(delta))
        if (current.status === STATUS.notFound) {
          const status = await this.#write(OP.add, storageKey, created, expiryOf(ttl))
          return status === STATUS.ok ? delta : undefined
        }
        if (!live(current)) {
          const status = await this.#write(OP.set, storageKey, created, expiryOf(ttl), current.cas)
          return status === STATUS.ok ? delta : undefined
        }
        const text = current.value.length <= 17 ? String.fromCharCode(...current.value) : ''
        if (!DECIMAL.test(text) || !Number.isSafeInteger(Number(text))) {
          throw new WrongTypeError(`increment: the value at '${key}' is not an integer.`)
        }
        const next = Number(text) + delta
        if (!Number.isSafeInteger(next)) {
          throw new WrongTypeError(
            `increment: the counter at '${key}' would leave the safe integer range.`,
          )
        }
        const value = encoder.encode(String(next))
        const status = await this.#write(OP.set, storageKey, value, current.expiresAt, current.cas)
        return status === STATUS.ok ? next : undefined
      })
    })
  }

  clear(prefix: string): Promise<void> {
    return this.#run('clear', async () => {
      await this.#retry(async () => {
        const gens = await this.#generations()
        const next =
          prefix === ''
            ? { r: newRoot(), p: {} }
            : { r: gens.root, p: { ...gens.prefixes, [prefix]: (gens.prefixes[prefix] ?? 0) + 1 } }
        const status = await this.#write(
          OP.set,
          this.#generationKey,
          encoder.encode(JSON.stringify(next)),
          0,
          gens.cas,
        )
        return status === STATUS.ok ? true : undefined
      })
    })
  }

  keys(_options?: StoreListOptions): Promise<StoreListPage> {
    return this.#run('keys', async () => {
      throw new UnsupportedOperationError(
        'memcachedStore cannot list keys (capabilities.list is false): memcached has no key scan, and long or non-ASCII keys are stored hashed.',
      )
    })
  }

  ready(): Promise<void> {
    return this.#run('ready', async () => {
      await this.#generations()
    })
  }

  async close(): Promise<void> {
    this.#closed = true
    // Calls in flight finish first: memjs would reconnect for a retry after its sockets end.
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
    if (this.#owned) this.#client.close()
  }

  /** Runs one call: rejects after close, tracks it for close, and maps client errors. */
  #run<T>(op: string, body: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError('memcached store'))
    const promise = body().catch((error: unknown) => {
      if (error instanceof TierCacheError) throw error
      throw new StoreUnavailableError(
        'memcached',
        `memcachedStore: ${op} failed: ${error instanceof Error ? error.message : String(error)}. Check that memcached is reachable at the store's url.`,
        { cause: error },
      )
    })
    this.#pending.add(promise)
    const forget = (): void => void this.#pending.delete(promise)
    promise.then(forget, forget)
    return promise
  }

  /** Repeats `attempt` until it resolves to something other than `undefined` (a lost CAS race). */
  async #retry<T>(attempt: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const result = await attempt()
      if (result !== undefined) return result
    }
    throw new StoreUnavailableError(
      'memcached',
      `memcachedStore: gave up after ${MAX_ATTEMPTS} compare-and-swap conflicts on one key.`,
    )
  }

  /** Deletes a live item if its CAS version is unchanged; resolves to its value, or `undefined`. */
  async #take(storageKey: string): Promise<Uint8Array | undefined> {
    const result = await this.#retry(async () => {
      const current = await this.#send(OP.get, storageKey)
      if (current.status === STATUS.notFound) return { value: undefined }
      const reply = await this.#send(OP.delete, storageKey, { cas: current.cas })
      if (reply.status === STATUS.exists) return undefined
      // Not found: another caller deleted it first, so this one got nothing.
      if (reply.status !== STATUS.ok || !live(current)) return { value: undefined }
      return { value: current.value }
    })
    return result.value
  }

  /** Reads (or creates) the generation item. */
  async #generations(): Promise<Generations> {
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const reply = await this.#send(OP.get, this.#generationKey)
      if (reply.status === STATUS.ok) {
        const parsed = this.#parse(Buffer.from(reply.value).toString('utf8'))
        if (parsed !== undefined) return { ...parsed, cas: reply.cas }
        // Not ours (or damaged): start a new root, which reads as a clear.
        const fresh = encoder.encode(JSON.stringify({ r: newRoot(), p: {} }))
        await this.#write(OP.set, this.#generationKey, fresh, 0, reply.cas)
        continue
      }
      const fresh = encoder.encode(JSON.stringify({ r: newRoot(), p: {} }))
      await this.#write(OP.add, this.#generationKey, fresh, 0)
    }
    throw new StoreUnavailableError('memcached', 'memcachedStore: could not read its generations.')
  }

  #parse(raw: string): Omit<Generations, 'cas'> | undefined {
    if (this.#parsed?.raw === raw) return this.#parsed.value
    let data: unknown
    try {
      data = JSON.parse(raw)
    } catch {
      return undefined
    }
    if (typeof data !== 'object' || data === null) return undefined
    const { r, p } = data as { r?: unknown; p?: unknown }
    if (typeof r !== 'string' || !/^[0-9a-z]+$/.test(r)) return undefined
    if (typeof p !== 'object' || p === null) return undefined
    const prefixes: Record<string, number> = {}
    for (const [prefix, gen] of Object.entries(p)) {
      if (!Number.isSafeInteger(gen)) return undefined
      prefixes[prefix] = gen as number
    }
    const value = { root: r, prefixes, sorted: Object.keys(prefixes).sort() }
    this.#parsed = { raw, value }
    return value
  }

  /** The storage key of `key` under the current generations (see the module comment). */
  #key(gens: Generations, key: string): string {
    let vector = gens.root
    for (const prefix of gens.sorted) {
      if (key.startsWith(prefix)) vector += `.${String(gens.prefixes[prefix])}`
    }
    const body = `${vector}:${key}`
    const plain = `${this.#prefix}k${body}`
    if (plain.length <= MAX_KEY_BYTES && SAFE_KEY.test(plain)) return plain
    return `${this.#prefix}h${createHash('sha256').update(body, 'utf8').digest('base64url')}`
  }

  /** SET or ADD with the expiry in `flags`; resolves to the status, throws on failures. */
  async #write(
    op: number,
    storageKey: string,
    value: Uint8Array,
    expiresAt: number,
    cas?: Buffer,
  ): Promise<number> {
    const extras = Buffer.alloc(8)
    extras.writeUInt32BE(expiresAt, 0)
    extras.writeUInt32BE(serverExpiry(expiresAt), 4)
    const reply = await this.#send(op, storageKey, { extras, value, cas })
    if (reply.status === STATUS.tooLarge) {
      throw new ValueTooLargeError(storageKey, value.byteLength, ITEM_LIMIT)
    }
    if (reply.status === STATUS.ok || reply.status === STATUS.exists) return reply.status
    if (reply.status === STATUS.notFound && cas !== undefined) return reply.status
    throw new StoreUnavailableError(
      'memcached',
      `memcachedStore: the server refused a write with status ${reply.status}.`,
    )
  }

  /** Sends one binary-protocol request through memjs and resolves to its reply. */
  #send(
    opcode: number,
    storageKey: string,
    body: { extras?: Buffer; value?: Uint8Array; cas?: Buffer | undefined } = {},
  ): Promise<Reply> {
    const client = this.#client
    client.incrSeq()
    const seq = client.seq
    const request = buildRequest(opcode, storageKey, seq, body)
    return new Promise<Reply>((resolve, reject) => {
      client.perform(storageKey, request, seq, (error: Error | null, response?: unknown) => {
        if (error !== null) {
          reject(error)
          return
        }
        const reply = toReply(response)
        if (reply === undefined) reject(new Error('memjs returned a malformed reply'))
        else if (opcode === OP.get && reply.status > STATUS.notFound) {
          reject(new Error(`memcached answered a get with status ${reply.status}`))
        } else resolve(reply)
      })
    })
  }
}

function buildRequest(
  opcode: number,
  storageKey: string,
  opaque: number,
  body: { extras?: Buffer; value?: Uint8Array; cas?: Buffer | undefined },
): Buffer {
  const key = Buffer.from(storageKey, 'utf8')
  const extras = body.extras ?? Buffer.alloc(0)
  const value = body.value ?? new Uint8Array(0)
  const out = Buffer.alloc(24 + extras.length + key.length + value.byteLength)
  out[0] = 0x80
  out[1] = opcode
  out.writeUInt16BE(key.length, 2)
  out[4] = extras.length
  out.writeUInt32BE(extras.length + key.length + value.byteLength, 8)
  out.writeUInt32BE(opaque >>> 0, 12)
  body.cas?.copy(out, 16, 0, 8)
  extras.copy(out, 24)
  key.copy(out, 24 + extras.length)
  out.set(value, 24 + extras.length + key.length)
  return out
}

function toReply(response: unknown): Reply | undefined {
  if (typeof response !== 'object' || response === null) return undefined
  const { header, extras, val } = response as { header?: unknown; extras?: unknown; val?: unknown }
  if (typeof header !== 'object' || header === null) return undefined
  const { status, cas } = header as { status?: unknown; cas?: unknown }
  if (typeof status !== 'number' || !Buffer.isBuffer(cas)) return undefined
  const flags = Buffer.isBuffer(extras) && extras.length >= 4 ? extras.readUInt32BE(0) : 0
  // A copy: memjs hands out views into its socket buffer.
  const value = Buffer.isBuffer(val) ? new Uint8Array(val) : new Uint8Array(0)
  return { status, cas: Buffer.from(cas), expiresAt: flags, value }
}

/** A ttl in ms → the expiry in epoch seconds, rounded up; 0 for none; 1 (long past) for ttl ≤ 0. */
function expiryOf(ttl: number | undefined): number {
  if (ttl === undefined) return 0
  if (!(ttl > 0)) return 1
  // flags hold 32 bits: a later expiry is clamped to the year 2106.
  return Math.min(Math.ceil((Date.now() + ttl) / 1000), MAX_FLAGS)
}

/** The exptime memcached gets: a second past the expiry reads check, so its clock never drops an item early. */
function serverExpiry(expiresAt: number): number {
  if (expiresAt === 0) return 0
  const relative = Math.max(1, expiresAt - Math.floor(Date.now() / 1000) + 1)
  return relative > MAX_RELATIVE_SECONDS ? Math.min(expiresAt + 1, MAX_FLAGS) : relative
}

function live(reply: Reply): boolean {
  return (
    reply.status === STATUS.ok && (reply.expiresAt === 0 || reply.expiresAt * 1000 > Date.now())
  )
}

function newRoot(): string {
  return BigInt(`0x${randomBytes(8).toString('hex')}`).toString(36)
}
