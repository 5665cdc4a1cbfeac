/**
 * `fileStore`: a tier on the local file system, one file per key, shared by every
 * process that opens the same directory.
 *
 * Layout. A key never becomes a path: the file of `prefix + key` is
 * `dir/ab/cd/<sha256 hex>`, where `ab` and `cd` are the first four hex digits of the
 * hash, so no key (`../`, NUL, 1 KiB of emoji) can name anything outside `dir`. Each
 * file starts with a header, `'TCF'`, a format byte, the expiry (float64, epoch ms, 0 for
 * none), the key's length and the value's length (uint32 each), the key's UTF-8 bytes, then
 * the value. Listing and
 * prefix clear read keys back from the headers; a read compares the header's key with
 * the one asked for, so a truncated or foreign file is a miss, never someone else's value.
 *
 * Atomicity, within a process and across processes. Every write goes to a temp file in
 * the same folder and is `rename`d over the entry, so a reader (which takes no lock)
 * sees the old file or the new one, never half of one. Every call that changes an entry
 * (`set`, `add`, `increment`, `take`, `delete`, `clear`, and the lazy removal of expired
 * or corrupt files) holds the key's lock while it reads, decides and writes: a lock file
 * `<hash>.lock` created with `open(…, 'wx')`, which the OS creates for one caller only.
 * Others retry with a short random backoff. Calls of one process on one key queue in
 * memory first, so only processes contend on the lock file. A lock older than
 * {@link LOCK_STALE_MS} belongs to a crashed process: it is broken by renaming it to a
 * unique name (only one breaker's rename succeeds). The one window left is a breaker
 * that judged a lock stale just before another breaker replaced it; holders keep locks
 * for milliseconds, so this needs a lock already ten seconds stale and two breakers at once.
 */
import { createHash, randomUUID } from 'node:crypto'
import { mkdir, open, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
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

/** Options of {@link fileStore}. */
export interface FileStoreOptions {
  /** The directory that holds the entries; created when missing. Share it to share the data. */
  dir: string
  /** Prepended to every key, so several stores can share one directory. @default '' */
  prefix?: string | undefined
}

/** A lock file older than this belongs to a process that died holding it. */
const LOCK_STALE_MS = 10_000
/** How long a call waits for a key's lock before it fails with `StoreUnavailableError`. */
const LOCK_WAIT_MS = 15_000
/** Files read or written at once by the batch calls (file descriptors are finite). */
const PARALLEL = 32
const MAGIC = [0x54, 0x43, 0x46] as const // 'TCF'
const FORMAT = 1
const FIXED_HEADER = 20
const HASH_NAME = /^[0-9a-f]{64}$/
const DECIMAL = /^(?:0|-?[1-9]\d{0,15})$/
const CAPABILITIES: StoreCapabilities = Object.freeze({
  list: true,
  ttlGranularity: 'ms',
  shared: true,
})

/** A decoded entry file. */
interface Entry {
  readonly key: string
  /** Epoch ms; 0 when the entry never expires. */
  readonly expiresAt: number
  readonly value: Uint8Array
}

/** What reading a path found: nothing, a file that is not an entry of that key, or an entry. */
type ReadResult = undefined | 'corrupt' | Entry

/**
 * A store that keeps each entry in its own file under `dir`, shared by every process
 * that opens the same directory (`capabilities.shared`). Expired entries are misses and
 * are deleted when read, listed or cleared.
 *
 * @example
 * ```ts
 * import { fileStore } from 'tiercache'
 *
 * const store = fileStore({ dir: '/var/cache/my-app', prefix: 'v1:' })
 * await store.set('user:1', new TextEncoder().encode('{"name":"Ada"}'), 60_000)
 * const bytes = await store.get('user:1') // the same bytes, for a minute
 * await store.close()
 * ```
 */
export function fileStore(options: FileStoreOptions): Store {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('fileStore needs options: fileStore({ dir }).')
  }
  if (typeof options.dir !== 'string' || options.dir === '') {
    throw new InvalidArgumentError('fileStore: "dir" must be a non-empty directory path.')
  }
  const prefix = options.prefix ?? ''
  if (typeof prefix !== 'string') {
    throw new InvalidArgumentError('fileStore: "prefix" must be a string.')
  }
  return new FileStore(resolve(options.dir), prefix)
}

class FileStore implements Store {
  readonly name = 'file'
  readonly capabilities = CAPABILITIES
  readonly #root: string
  readonly #prefix: string
  readonly #pending = new Set<Promise<unknown>>()
  readonly #queues = new Map<string, Promise<void>>()
  #closed = false

  constructor(root: string, prefix: string) {
    this.#root = root
    this.#prefix = prefix
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.#run('get', () => this.#get(key))
  }

  getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    return this.#run('getMany', () => mapLimited(keys, (key) => this.#get(key)))
  }

  set(key: string, value: Uint8Array, ttl?: number): Promise<void> {
    return this.#run('set', () => this.#set(key, value, ttl))
  }

  setMany(entries: readonly StoreWrite[]): Promise<void> {
    return this.#run('setMany', async () => {
      await mapLimited(entries, (e) => this.#set(e.key, e.value, e.ttl))
    })
  }

  add(key: string, value: Uint8Array, ttl?: number): Promise<boolean> {
    return this.#run('add', () =>
      this.#locked(key, async (file, full) => {
        const found = await readEntry(file, full)
        if (isLive(found)) return false
        await writeEntry(file, encode(full, value, deadline(ttl)))
        return true
      }),
    )
  }

  delete(key: string): Promise<boolean> {
    return this.#run('delete', () => this.#delete(key))
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    return this.#run('deleteMany', async () => {
      const deleted = await mapLimited(keys, (key) => this.#delete(key))
      return deleted.filter(Boolean).length
    })
  }

  take(key: string): Promise<Uint8Array | undefined> {
    return this.#run('take', () =>
      this.#locked(key, async (file, full) => {
        const found = await readEntry(file, full)
        if (found === undefined) return undefined
        await removeFile(file)
        return isLive(found) ? found.value : undefined
      }),
    )
  }

  increment(key: string, delta: number, ttl?: number): Promise<number> {
    return this.#run('increment', async () => {
      if (!Number.isSafeInteger(delta)) {
        throw new InvalidArgumentError(`increment: delta must be an integer, not ${String(delta)}.`)
      }
      return this.#locked(key, async (file, full) => {
        const found = await readEntry(file, full)
        let current = 0
        let expiresAt = deadline(ttl)
        if (isLive(found)) {
          const text = found.value.length <= 17 ? String.fromCharCode(...found.value) : ''
          if (!DECIMAL.test(text) || !Number.isSafeInteger(Number(text))) {
            throw new WrongTypeError(`increment: the value at '${key}' is not an integer.`)
          }
          current = Number(text)
          expiresAt = found.expiresAt
        }
        const next = current + delta
        if (!Number.isSafeInteger(next)) {
          throw new WrongTypeError(
            `increment: the counter at '${key}' would leave the safe integer range.`,
          )
        }
        await writeEntry(file, encode(full, new TextEncoder().encode(String(next)), expiresAt))
        return next
      })
    })
  }

  clear(prefix: string): Promise<void> {
    return this.#run('clear', async () => {
      const wanted = this.#prefix + prefix
      await this.#walk(undefined, async (file) => {
        const header = await readHeader(file)
        if (header === undefined || header === 'corrupt') return false
        if (header.key.startsWith(wanted)) {
          await this.#lockedFile(file, () => removeFile(file))
        } else if (isExpired(header.expiresAt) && header.key.startsWith(this.#prefix)) {
          await this.#removeIfDead(file, header.key)
        }
        return false
      })
    })
  }

  keys(options: StoreListOptions = {}): Promise<StoreListPage> {
    return this.#run('keys', async () => {
      const { prefix = '', cursor, limit = 100 } = options
      if (cursor !== undefined && !HASH_NAME.test(cursor)) {
        throw new InvalidArgumentError(`keys: invalid cursor '${String(cursor)}'.`)
      }
      if (!(Number.isInteger(limit) && limit > 0)) {
        throw new InvalidArgumentError(
          `keys: limit must be a positive integer, not ${String(limit)}.`,
        )
      }
      const wanted = this.#prefix + prefix
      const entries: StoreEntryInfo[] = []
      let last: string | undefined
      const complete = await this.#walk(cursor, async (file, name) => {
        const header = await readHeader(file)
        if (header === undefined || header === 'corrupt' || !header.key.startsWith(wanted)) {
          return false
        }
        if (isExpired(header.expiresAt)) {
          await this.#removeIfDead(file, header.key)
          return false
        }
        entries.push({
          key: header.key.slice(this.#prefix.length),
          size: header.size,
          ...(header.expiresAt === 0 ? {} : { expiresAt: header.expiresAt }),
        })
        last = name
        return entries.length >= limit
      })
      return complete || last === undefined ? { entries } : { entries, cursor: last }
    })
  }

  ready(): Promise<void> {
    return this.#run('ready', async () => {
      await mkdir(this.#root, { recursive: true })
    })
  }

  async close(): Promise<void> {
    this.#closed = true
    // Let calls in flight finish, so none writes into a directory its owner is removing.
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  /** Runs one call: rejects after close, tracks it for close, and maps fs errors. */
  #run<T>(op: string, body: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError('file store'))
    const promise = body().catch((error: unknown) => {
      throw toStoreError(op, this.#root, error)
    })
    this.#pending.add(promise)
    const forget = (): void => void this.#pending.delete(promise)
    promise.then(forget, forget)
    return promise
  }

  async #get(key: string): Promise<Uint8Array | undefined> {
    const full = this.#prefix + key
    const file = this.#file(full)
    const found = await readEntry(file, full)
    if (found === undefined) return undefined
    if (isLive(found)) return found.value
    await this.#removeIfDead(file, full)
    return undefined
  }

  async #set(key: string, value: Uint8Array, ttl: number | undefined): Promise<void> {
    const expiresAt = deadline(ttl)
    await this.#locked(key, (file, full) => writeEntry(file, encode(full, value, expiresAt)))
  }

  async #delete(key: string): Promise<boolean> {
    return this.#locked(key, async (file, full) => {
      const found = await readEntry(file, full)
      if (found === undefined) return false
      await removeFile(file)
      return isLive(found)
    })
  }

  /** Deletes an expired or corrupt file, re-checking under the lock that it still is one. */
  async #removeIfDead(file: string, full: string): Promise<void> {
    await this.#lockedFile(file, async () => {
      const found = await readEntry(file, full)
      if (found !== undefined && !isLive(found)) await removeFile(file)
    })
  }

  #file(full: string): string {
    const hash = createHash('sha256').update(full, 'utf8').digest('hex')
    return join(this.#root, hash.slice(0, 2), hash.slice(2, 4), hash)
  }

  #locked<T>(key: string, body: (file: string, full: string) => Promise<T>): Promise<T> {
    const full = this.#prefix + key
    const file = this.#file(full)
    return this.#lockedFile(file, () => body(file, full))
  }

  /** Holds the key's in-process queue slot, then its lock file, while `body` runs. */
  async #lockedFile<T>(file: string, body: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(file) ?? Promise.resolve()
    let release = (): void => {}
    const mine = new Promise<void>((done) => (release = done))
    const tail = previous.then(() => mine)
    this.#queues.set(file, tail)
    await previous
    try {
      const lock = await acquireLock(file)
      try {
        return await body()
      } finally {
        await removeFile(lock)
      }
    } finally {
      release()
      if (this.#queues.get(file) === tail) this.#queues.delete(file)
    }
  }

  /**
   * Visits every entry file in hash order, after `cursor` when given, until `visit`
   * returns true. Resolves true when the walk reached the end of the tree.
   */
  async #walk(
    cursor: string | undefined,
    visit: (file: string, name: string) => Promise<boolean>,
  ): Promise<boolean> {
    for (const first of await listDir(this.#root)) {
      if (first.length !== 2 || (cursor !== undefined && first < cursor.slice(0, 2))) continue
      const firstDir = join(this.#root, first)
      for (const second of await listDir(firstDir)) {
        const folder = first + second
        if (second.length !== 2 || (cursor !== undefined && folder < cursor.slice(0, 4))) continue
        const secondDir = join(firstDir, second)
        for (const name of await listDir(secondDir)) {
          const file = join(secondDir, name)
          if (!HASH_NAME.test(name)) {
            await removeLeftover(file, name)
            continue
          }
          if (cursor !== undefined && name <= cursor) continue
          if (await visit(file, name)) return false
        }
      }
    }
    return true
  }
}

/** A ttl in ms → the expiry in epoch ms: 0 for none (or an infinite ttl), at least 1 otherwise. */
function deadline(ttl: number | undefined): number {
  if (ttl === undefined || ttl === Infinity) return 0
  if (typeof ttl !== 'number' || Number.isNaN(ttl)) {
    throw new InvalidArgumentError(`ttl must be a number of milliseconds, not ${String(ttl)}.`)
  }
  return Math.max(1, Date.now() + ttl)
}

function isExpired(expiresAt: number): boolean {
  return expiresAt !== 0 && expiresAt <= Date.now()
}

function isLive(found: ReadResult): found is Entry {
  return found !== undefined && found !== 'corrupt' && !isExpired(found.expiresAt)
}

function encode(full: string, value: Uint8Array, expiresAt: number): Buffer {
  const key = Buffer.from(full, 'utf8')
  const out = Buffer.allocUnsafe(FIXED_HEADER + key.length + value.byteLength)
  out[0] = MAGIC[0]
  out[1] = MAGIC[1]
  out[2] = MAGIC[2]
  out[3] = FORMAT
  out.writeDoubleBE(expiresAt, 4)
  out.writeUInt32BE(key.length, 12)
  out.writeUInt32BE(value.byteLength, 16)
  key.copy(out, FIXED_HEADER)
  out.set(value, FIXED_HEADER + key.length)
  return out
}

/** Parses the fixed header; `undefined` when `data` is not an entry file of this format. */
function parseFixed(
  data: Buffer,
): { expiresAt: number; keyLength: number; valueLength: number } | undefined {
  if (data.length < FIXED_HEADER) return undefined
  if (data[0] !== MAGIC[0] || data[1] !== MAGIC[1] || data[2] !== MAGIC[2]) return undefined
  if (data[3] !== FORMAT) return undefined
  const expiresAt = data.readDoubleBE(4)
  if (!Number.isFinite(expiresAt) || expiresAt < 0) return undefined
  return { expiresAt, keyLength: data.readUInt32BE(12), valueLength: data.readUInt32BE(16) }
}

/** Reads the entry at `file` and checks it holds `full`. */
async function readEntry(file: string, full: string): Promise<ReadResult> {
  let data: Buffer
  try {
    data = await readFile(file)
  } catch (error) {
    if (errno(error) === 'ENOENT') return undefined
    throw error
  }
  const fixed = parseFixed(data)
  const key = Buffer.from(full, 'utf8')
  if (fixed === undefined || fixed.keyLength !== key.length) return 'corrupt'
  // A truncated file (or one with bytes appended) does not add up to its header's lengths.
  if (data.length !== FIXED_HEADER + key.length + fixed.valueLength) return 'corrupt'
  if (!key.equals(data.subarray(FIXED_HEADER, FIXED_HEADER + key.length))) return 'corrupt'
  // A copy, so the caller never holds a view into a pooled or larger buffer.
  const value = new Uint8Array(data.subarray(FIXED_HEADER + key.length))
  return { key: full, expiresAt: fixed.expiresAt, value }
}

/** Reads only the header of `file`: its key, expiry and value size. */
async function readHeader(
  file: string,
): Promise<undefined | 'corrupt' | { key: string; expiresAt: number; size: number }> {
  let handle
  try {
    handle = await open(file, 'r')
  } catch (error) {
    if (errno(error) === 'ENOENT') return undefined
    throw error
  }
  try {
    const { size } = await handle.stat()
    const head = Buffer.alloc(Math.min(size, 4096))
    await handle.read(head, 0, head.length, 0)
    const fixed = parseFixed(head)
    if (fixed === undefined || size !== FIXED_HEADER + fixed.keyLength + fixed.valueLength) {
      return 'corrupt'
    }
    let keyBytes = head.subarray(FIXED_HEADER, FIXED_HEADER + fixed.keyLength)
    if (keyBytes.length < fixed.keyLength) {
      keyBytes = Buffer.alloc(fixed.keyLength)
      await handle.read(keyBytes, 0, fixed.keyLength, FIXED_HEADER)
    }
    return {
      key: keyBytes.toString('utf8'),
      expiresAt: fixed.expiresAt,
      size: fixed.valueLength,
    }
  } finally {
    await handle.close()
  }
}

/** Writes `data` to a temp file beside `file`, then renames it over `file` (atomic). */
async function writeEntry(file: string, data: Uint8Array): Promise<void> {
  const temp = `${file}.${randomUUID()}.tmp`
  try {
    await writeFile(temp, data, { flag: 'wx' })
  } catch (error) {
    if (errno(error) !== 'ENOENT') throw error
    await mkdir(dirname(file), { recursive: true })
    await writeFile(temp, data, { flag: 'wx' })
  }
  try {
    await rename(temp, file)
  } catch (error) {
    await removeFile(temp).catch(() => {})
    throw error
  }
}

async function acquireLock(file: string): Promise<string> {
  const lock = `${file}.lock`
  const giveUp = Date.now() + LOCK_WAIT_MS
  for (let attempt = 0; ; attempt++) {
    try {
      await (await open(lock, 'wx')).close()
      return lock
    } catch (error) {
      const code = errno(error)
      if (code === 'ENOENT') {
        await mkdir(dirname(lock), { recursive: true })
        continue
      }
      if (code !== 'EEXIST') throw error
    }
    try {
      const { mtimeMs } = await stat(lock)
      if (Date.now() - mtimeMs > LOCK_STALE_MS) {
        // Renaming succeeds for one breaker only; the others find the lock gone and retry.
        const broken = `${lock}.${randomUUID()}.stale`
        await rename(lock, broken)
        await removeFile(broken)
        continue
      }
    } catch (error) {
      if (errno(error) === 'ENOENT') continue
      throw error
    }
    if (Date.now() > giveUp) {
      throw new StoreUnavailableError(
        'file',
        `fileStore: the lock '${lock}' was held for over ${LOCK_WAIT_MS} ms; another process may be stuck.`,
      )
    }
    await sleep(Math.min(2 ** attempt, 20) * (0.5 + Math.random()))
  }
}

/** Removes temp files and broken locks left behind by a process that crashed. */
async function removeLeftover(file: string, name: string): Promise<void> {
  if (!name.endsWith('.tmp') && !name.endsWith('.stale')) return
  try {
    const { mtimeMs } = await stat(file)
    if (Date.now() - mtimeMs > LOCK_STALE_MS) await removeFile(file)
  } catch (error) {
    if (errno(error) !== 'ENOENT') throw error
  }
}

async function removeFile(file: string): Promise<void> {
  try {
    await unlink(file)
  } catch (error) {
    if (errno(error) !== 'ENOENT') throw error
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort()
  } catch (error) {
    if (errno(error) === 'ENOENT' || errno(error) === 'ENOTDIR') return []
    throw error
  }
}

/** Maps `items` through `fn` with at most {@link PARALLEL} calls at once, keeping order. */
async function mapLimited<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker))
  return out
}

function errno(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined
}

function toStoreError(op: string, root: string, error: unknown): TierCacheError {
  if (error instanceof TierCacheError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new StoreUnavailableError(
    'file',
    `fileStore: ${op} failed in '${root}': ${message}. Check that the directory exists and is writable.`,
    { cause: error },
  )
}
