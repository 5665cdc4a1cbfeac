/**
 * `redisStore`: a `Store` on one standalone Redis server (≥ 6.2, for `GETDEL`) through
 * ioredis. A thin driver: it owns its connection, its commands and one Lua script, and
 * nothing else (envelopes, namespaces and grace belong to the engine).
 *
 * Every batch goes through one private method per command (`#mget`, `#setAll`,
 * `#unlink`), so a Cluster variant can later split those by hash slot in one place.
 */
import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import {
  ClosedError,
  InvalidArgumentError,
  StoreUnavailableError,
  TierCacheError,
  WrongTypeError,
} from '../errors.js'
import type {
  Store,
  StoreCapabilities,
  StoreEntryInfo,
  StoreListOptions,
  StoreListPage,
  StoreWrite,
} from './store.js'

/** Options of {@link redisStore}. Give `url` or `client`, not both. */
export interface RedisStoreOptions {
  /**
   * A `redis://` or `rediss://` connection string; the store creates its own client
   * and closes it in `close()`.
   * @default 'redis://127.0.0.1:6379' when `client` is absent too
   */
  url?: string | undefined
  /** A ready ioredis client to use instead. The store never closes it. */
  client?: Redis | undefined
  /**
   * Prepended to every key on the server; `keys()` returns keys without it.
   * @default ''
   */
  prefix?: string | undefined
  /**
   * The store's name in stats, events and errors.
   * @default 'redis'
   */
  name?: string | undefined
}

const CAPABILITIES: StoreCapabilities = Object.freeze({
  list: true,
  ttlGranularity: 'ms',
  shared: true,
})

/**
 * The client options of a store that creates its own client. ioredis defaults to
 * queueing commands while it reconnects and retrying each 20 times, so with the server
 * down a call hangs for many seconds. Here a command waits in the offline queue (so
 * calls made while the first connection opens still work) for at most two connection
 * attempts (`maxRetriesPerRequest: 1`): with the port refused that is ~50 ms, with the
 * host black-holed at most 2 × `connectTimeout`. The client keeps reconnecting in the
 * background (ioredis's default backoff, up to 2 s) so the store recovers by itself.
 */
const OWN_CLIENT_OPTIONS = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: true,
  connectTimeout: 5_000,
  lazyConnect: false,
} as const

/** How long `close()` waits for `QUIT` (which waits for calls in flight) before dropping the socket. */
const QUIT_TIMEOUT_MS = 2_000
/** Keys per `SCAN` page in `clear()`; each page is deleted with one `UNLINK`. */
const CLEAR_SCAN_COUNT = 1_000
/** `SCAN COUNT` of `keys()` when the caller gives no `limit`. */
const DEFAULT_LIST_COUNT = 1_000

/**
 * Adds `delta` and sets the ttl only when the key did not exist (an expired key does not
 * exist: EXISTS and INCRBY both expire it first), so an existing counter keeps its ttl.
 */
const INCREMENT_LUA = `local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if created and ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value`
const INCREMENT_SHA = createHash('sha1').update(INCREMENT_LUA).digest('hex')

/**
 * A store on a standalone Redis server. Values are stored as binary strings
 * (`SET … PX`), `add` is `SET NX`, `take` is `GETDEL`, `increment` one Lua script,
 * batches one round trip each, and `clear(prefix)` a glob-escaped `SCAN` + `UNLINK`.
 *
 * @example
 * ```ts
 * import { redisStore } from 'tiercache/redis'
 * const store = redisStore({ url: 'redis://127.0.0.1:6379', prefix: 'app:' })
 * await store.set('k', new TextEncoder().encode('v'), 60_000)
 * ```
 */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisStore(options)
}

/**
 * The class behind {@link redisStore}; see there.
 *
 * @example
 * ```ts
 * const store = new RedisStore({ client: existingIoredisClient, prefix: 'app:' })
 * await store.close() // existingIoredisClient stays open
 * ```
 */
export class RedisStore implements Store {
  readonly name: string
  readonly capabilities = CAPABILITIES
  /** The ioredis client, for commands the `Store` contract does not cover. */
  readonly client: Redis
  readonly #prefix: string
  readonly #owned: boolean
  #closing: Promise<void> | undefined
  #lastError: Error | undefined

  constructor(options: RedisStoreOptions = {}) {
    const { url, client, prefix = '', name = 'redis' } = options
    if (url !== undefined && client !== undefined) {
      throw new InvalidArgumentError('redisStore: give either url or client, not both.')
    }
    if (typeof prefix !== 'string') {
      throw new InvalidArgumentError(`redisStore: prefix must be a string, not ${typeof prefix}.`)
    }
    if (typeof name !== 'string' || name === '') {
      throw new InvalidArgumentError('redisStore: name must be a non-empty string.')
    }
    this.name = name
    this.#prefix = prefix
    this.#owned = client === undefined
    if (client === undefined) {
      const own = new Redis(url ?? 'redis://127.0.0.1:6379', OWN_CLIENT_OPTIONS)
      // Without a listener a down server would make ioredis log every failed attempt;
      // the error reaches callers as the cause of StoreUnavailableError instead.
      own.on('error', (error: Error) => {
        this.#lastError = error
      })
      this.client = own
    } else {
      this.client = client
    }
  }

  /** {@inheritDoc Store.get} */
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.#run('get', async (c) => (await c.getBuffer(this.#key(key))) ?? undefined)
  }

  /** {@inheritDoc Store.getMany} */
  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    if (keys.length === 0) return this.#run('getMany', async () => [])
    return this.#run('getMany', async (c) => {
      const values = await this.#mget(
        c,
        keys.map((key) => this.#key(key)),
      )
      return values.map((value) => value ?? undefined)
    })
  }

  /** {@inheritDoc Store.set} */
  async set(key: string, value: Uint8Array, ttl?: number): Promise<void> {
    const px = toPx(ttl)
    await this.#run('set', async (c) => {
      const k = this.#key(key)
      await (px === undefined ? c.set(k, toBuffer(value)) : c.set(k, toBuffer(value), 'PX', px))
    })
  }

  /** {@inheritDoc Store.setMany} */
  async setMany(entries: readonly StoreWrite[]): Promise<void> {
    const writes = entries.map(({ key, value, ttl }) => ({
      key: this.#key(key),
      value: toBuffer(value),
      px: toPx(ttl),
    }))
    await this.#run('setMany', async (c) => {
      if (writes.length > 0) await this.#setAll(c, writes)
    })
  }

  /** {@inheritDoc Store.add} */
  async add(key: string, value: Uint8Array, ttl?: number): Promise<boolean> {
    const px = toPx(ttl)
    return this.#run('add', async (c) => {
      const k = this.#key(key)
      const reply = await (px === undefined
        ? c.set(k, toBuffer(value), 'NX')
        : c.set(k, toBuffer(value), 'PX', px, 'NX'))
      return reply === 'OK'
    })
  }

  /** {@inheritDoc Store.delete} */
  async delete(key: string): Promise<boolean> {
    return this.#run('delete', async (c) => (await this.#unlink(c, [this.#key(key)])) > 0)
  }

  /** {@inheritDoc Store.deleteMany} */
  async deleteMany(keys: readonly string[]): Promise<number> {
    return this.#run('deleteMany', async (c) =>
      keys.length === 0
        ? 0
        : this.#unlink(
            c,
            keys.map((key) => this.#key(key)),
          ),
    )
  }

  /** {@inheritDoc Store.take} */
  async take(key: string): Promise<Uint8Array | undefined> {
    return this.#run('take', async (c) => (await c.getdelBuffer(this.#key(key))) ?? undefined)
  }

  /** {@inheritDoc Store.increment} */
  async increment(key: string, delta: number, ttl?: number): Promise<number> {
    if (!Number.isSafeInteger(delta)) {
      throw new InvalidArgumentError(
        `increment: delta must be a safe integer, not ${String(delta)}.`,
      )
    }
    const px = toPx(ttl)
    return this.#run('increment', async (c) => {
      const args = [1, this.#key(key), String(delta), px === undefined ? '' : String(px)] as const
      let reply: unknown
      try {
        reply = await c.evalsha(INCREMENT_SHA, ...args)
      } catch (error) {
        if (!isReplyError(error) || !error.message.startsWith('NOSCRIPT')) throw error
        reply = await c.eval(INCREMENT_LUA, ...args)
      }
      if (typeof reply !== 'number') {
        throw new StoreUnavailableError(
          this.name,
          `Redis increment replied ${typeof reply}, expected an integer.`,
        )
      }
      return reply
    })
  }

  /** {@inheritDoc Store.clear} */
  async clear(prefix: string): Promise<void> {
    const match = `${globEscape(this.#prefix + prefix)}*`
    await this.#run('clear', async (c) => {
      let cursor = '0'
      do {
        const [next, found] = await c.scanBuffer(cursor, 'MATCH', match, 'COUNT', CLEAR_SCAN_COUNT)
        if (found.length > 0) await this.#unlink(c, found)
        cursor = next.toString()
      } while (cursor !== '0')
    })
  }

  /** {@inheritDoc Store.keys} */
  async keys(options: StoreListOptions = {}): Promise<StoreListPage> {
    const { prefix = '', cursor = '0', limit } = options
    if (!/^\d+$/.test(cursor)) {
      throw new InvalidArgumentError(
        `keys: cursor must be one returned by a previous keys() page, not ${JSON.stringify(cursor)}.`,
      )
    }
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      throw new InvalidArgumentError(
        `keys: limit must be a positive integer, not ${String(limit)}.`,
      )
    }
    const match = `${globEscape(this.#prefix + prefix)}*`
    return this.#run('keys', async (c) => {
      const count = limit ?? DEFAULT_LIST_COUNT
      const [next, found] = await c.scanBuffer(cursor, 'MATCH', match, 'COUNT', count)
      const entries = found.length === 0 ? [] : await this.#describe(c, found)
      const nextCursor = next.toString()
      return nextCursor === '0' ? { entries } : { entries, cursor: nextCursor }
    })
  }

  /** {@inheritDoc Store.ready} */
  async ready(): Promise<void> {
    await this.#run('ready', async (c) => {
      await c.ping()
    })
  }

  /** {@inheritDoc Store.close} */
  async close(): Promise<void> {
    this.#closing ??= this.#owned ? this.#shutdown() : Promise.resolve()
    return this.#closing
  }

  // ---------------------------------------------------------------------------

  /** `QUIT` (which lets calls in flight finish) when connected, else drop the socket. */
  async #shutdown(): Promise<void> {
    const client = this.client
    if (client.status === 'ready') {
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), QUIT_TIMEOUT_MS)
      })
      try {
        const outcome = await Promise.race([client.quit(), timedOut])
        if (outcome !== 'timeout') return
      } catch {
        // The connection broke during QUIT: dropping it below is all that is left.
      } finally {
        clearTimeout(timer)
      }
    }
    client.disconnect()
  }

  async #run<T>(op: string, call: (client: Redis) => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) throw new ClosedError(`${this.name} store`)
    try {
      return await call(this.client)
    } catch (error) {
      throw this.#translate(op, error)
    }
  }

  #translate(op: string, error: unknown): Error {
    if (error instanceof TierCacheError) return error
    if (isReplyError(error)) {
      const { message } = error
      if (message.startsWith('WRONGTYPE')) {
        return new WrongTypeError(`Redis ${op}: ${message}`)
      }
      if (op === 'increment' && message.includes('not an integer')) {
        return new WrongTypeError('increment: the value stored at the key is not an integer.')
      }
      if (op === 'increment' && message.includes('overflow')) {
        return new InvalidArgumentError('increment: the result would overflow a 64-bit integer.')
      }
    }
    const message = error instanceof Error ? error.message : String(error)
    const last =
      this.#lastError !== undefined && this.#lastError.message !== message
        ? ` (last connection error: ${this.#lastError.message})`
        : ''
    return new StoreUnavailableError(
      this.name,
      `Redis ${op} failed: ${message}${last}. Check that the server is up and reachable (client status: ${this.client.status}).`,
      { cause: error },
    )
  }

  #key(key: string): string {
    return this.#prefix + key
  }

  // One method per batched command: the place to group keys by hash slot for Cluster.

  async #mget(client: Redis, keys: string[]): Promise<Array<Buffer | null>> {
    return client.mgetBuffer(keys)
  }

  async #setAll(
    client: Redis,
    writes: ReadonlyArray<{ key: string; value: Buffer; px: number | undefined }>,
  ): Promise<void> {
    const pipeline = client.pipeline()
    for (const { key, value, px } of writes) {
      if (px === undefined) pipeline.set(key, value)
      else pipeline.set(key, value, 'PX', px)
    }
    throwFirst(await pipeline.exec())
  }

  async #unlink(client: Redis, keys: Array<string | Buffer>): Promise<number> {
    return client.unlink(...keys)
  }

  /** Size and expiry of the keys one SCAN page found, in one pipeline; keys gone meanwhile are left out. */
  async #describe(client: Redis, found: Buffer[]): Promise<StoreEntryInfo[]> {
    const pipeline = client.pipeline()
    for (const key of found) pipeline.strlen(key).pttl(key)
    const replies = throwFirst(await pipeline.exec(), (error) =>
      error.message.startsWith('WRONGTYPE'),
    )
    const now = Date.now()
    const entries: StoreEntryInfo[] = []
    for (const [i, raw] of found.entries()) {
      const size = replies[2 * i]
      const pttl = replies[2 * i + 1]
      const key = raw.toString('utf8')
      // Not a string (another client's data) or expired between SCAN and PTTL: not an entry.
      if (typeof size !== 'number' || typeof pttl !== 'number' || pttl === -2) continue
      if (!key.startsWith(this.#prefix)) continue
      entries.push({
        key: key.slice(this.#prefix.length),
        size,
        ...(pttl >= 0 ? { expiresAt: now + pttl } : {}),
      })
    }
    return entries
  }
}

/**
 * The replies of a pipeline; throws the first error, except reply errors `ignore` accepts
 * (their slot is `undefined`).
 */
function throwFirst(
  results: Array<[error: Error | null, result: unknown]> | null,
  ignore: (error: Error) => boolean = () => false,
): unknown[] {
  if (results === null) throw new Error('the pipeline was discarded')
  return results.map(([error, result]) => {
    if (error === null) return result
    if (isReplyError(error) && ignore(error)) return undefined
    throw error
  })
}

/** Milliseconds for `PX`: whole, at least 1 (Redis refuses `PX 0`), `undefined` for no expiry. */
function toPx(ttl: number | undefined): number | undefined {
  if (ttl === undefined) return undefined
  if (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl === Infinity) {
    throw new InvalidArgumentError(
      `ttl must be a finite number of milliseconds, not ${String(ttl)}.`,
    )
  }
  return Math.max(1, Math.ceil(ttl))
}

/** The viewed bytes as a Buffer, without copying (a view into a larger buffer stays a view). */
function toBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value)
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

/** Escapes the metacharacters of Redis glob patterns, so a prefix matches as a plain string. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

/** A Redis error reply (ioredis's `ReplyError`), as opposed to a connection failure. */
function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError'
}
