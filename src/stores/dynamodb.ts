/**
 * `dynamoStore`: a `Store` on one DynamoDB table through `@aws-sdk/client-dynamodb` v3.
 *
 * Items are `{ k: S (partition key), v: B, exp?: N (epoch ms), ttl?: N (epoch s) }`.
 * `ttl` is for DynamoDB's own TTL deletion, which runs lazily (up to days late), so
 * every read also checks `exp` against the client's clock and ignores expired items.
 *
 * Atomic primitives: `add` is a conditional `PutItem`; `take` and `delete` are
 * `DeleteItem` with `ReturnValues: ALL_OLD`; `increment` is an optimistic loop, a
 * consistent read, then an `UpdateItem` conditioned on the value read (or a `PutItem`
 * conditioned on absence), retried on conflict. The counter stays decimal text in `v`,
 * so `get` returns its bytes as the contract requires, with no second attribute to keep
 * in sync.
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient as Client,
  GetItemCommand,
  PutItemCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb'
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

/** Options of {@link dynamoStore}. Give `client`, or let the store create one from `endpoint`/`region`. */
export interface DynamoStoreOptions {
  /** The table name. */
  table: string
  /** An endpoint URL (DynamoDB Local, dynalite, a VPC endpoint); ignored with `client`. */
  endpoint?: string | undefined
  /** The AWS region; ignored with `client`. @default the SDK's resolution (env, config) */
  region?: string | undefined
  /** A client to use instead of creating one. The store never destroys it. */
  client?: DynamoDBClient | undefined
  /**
   * Prepended to every key; `keys()` returns keys without it.
   * @default ''
   */
  prefix?: string | undefined
  /**
   * Create the table (PAY_PER_REQUEST, TTL on `ttl`) on first use when it is missing.
   * @default true
   */
  createTable?: boolean | undefined
}

const CAPABILITIES: StoreCapabilities = Object.freeze({
  list: true,
  ttlGranularity: 'ms',
  shared: true,
})

const NAME = 'dynamodb'
/** BatchGetItem's limit of keys per request. */
const GET_CHUNK = 100
/** BatchWriteItem's limit of writes per request. */
const WRITE_CHUNK = 25
/** Attempts of a batch before its unprocessed rest fails the call. */
const BATCH_ATTEMPTS = 8
/** Backoff between batch retries: base × 2^attempt, capped. */
const BACKOFF_BASE_MS = 25
const BACKOFF_CAP_MS = 1_000
/** Conflicting writers an increment outlasts before giving up. */
const INCREMENT_ATTEMPTS = 500
/** How long the store waits for a table it created to turn ACTIVE. */
const TABLE_ACTIVE_TIMEOUT_MS = 60_000
/** Items per Scan page in keys() when the caller gives no limit. */
const DEFAULT_LIST_LIMIT = 1_000

/** The attribute names, aliased since `TTL` is a DynamoDB reserved word. */
const NAMES = { '#k': 'k', '#v': 'v', '#e': 'exp', '#t': 'ttl' } as const

type Item = Record<string, AttributeValue>
/** One write of a `BatchWriteItem`. */
type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } }

/**
 * A store on a DynamoDB table. Reads are strongly consistent; batches are chunked to
 * DynamoDB's limits (100 keys per `BatchGetItem`, 25 writes per `BatchWriteItem`) and
 * their unprocessed rest retried with a bounded backoff; `clear` and `keys` are
 * `Scan`s filtered with `begins_with(k, prefix)`, so they read the whole table (fine for
 * a cache table, costly on a big shared one).
 *
 * @example
 * ```ts
 * import { dynamoStore } from 'tiercache/dynamodb'
 * const store = dynamoStore({ table: 'cache', region: 'eu-west-1', prefix: 'app:' })
 * await store.set('k', new TextEncoder().encode('v'), 60_000)
 * ```
 */
export function dynamoStore(options: DynamoStoreOptions): DynamoStore {
  return new DynamoStore(options)
}

/**
 * The class behind {@link dynamoStore}; see there.
 *
 * @example
 * ```ts
 * const store = new DynamoStore({ table: 'cache', client: existingClient })
 * await store.close() // existingClient stays usable
 * ```
 */
export class DynamoStore implements Store {
  readonly name = NAME
  readonly capabilities = CAPABILITIES
  /** The DynamoDB client, for calls the `Store` contract does not cover. */
  readonly client: DynamoDBClient
  /** The table name. */
  readonly table: string
  readonly #prefix: string
  readonly #owned: boolean
  readonly #createTable: boolean
  #tableReady: Promise<void> | undefined
  #closed = false

  constructor(options: DynamoStoreOptions) {
    const { table, endpoint, region, client, prefix = '', createTable = true } = options ?? {}
    if (typeof table !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(table)) {
      throw new InvalidArgumentError(
        `dynamoStore: table must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), not ${JSON.stringify(table)}.`,
      )
    }
    if (typeof prefix !== 'string') {
      throw new InvalidArgumentError(`dynamoStore: prefix must be a string, not ${typeof prefix}.`)
    }
    if (client !== undefined && (endpoint !== undefined || region !== undefined)) {
      throw new InvalidArgumentError(
        'dynamoStore: give either client or endpoint/region, not both.',
      )
    }
    this.table = table
    this.#prefix = prefix
    this.#createTable = createTable
    this.#owned = client === undefined
    this.client =
      client ??
      new Client({
        ...(endpoint === undefined ? {} : { endpoint }),
        ...(region === undefined ? {} : { region }),
      })
  }

  /** {@inheritDoc Store.get} */
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.#run('get', async () => {
      const { Item } = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: this.#keyOf(key),
          ConsistentRead: true,
        }),
      )
      return liveValue(Item, Date.now())
    })
  }

  /** {@inheritDoc Store.getMany} `BatchGetItem` in chunks of 100 distinct keys. */
  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    return this.#run('getMany', async () => {
      const unique = [...new Set(keys.map((key) => this.#prefix + key))]
      const found = new Map<string, Item>()
      await Promise.all(chunk(unique, GET_CHUNK).map((part) => this.#batchGet(part, found)))
      const now = Date.now()
      return keys.map((key) => liveValue(found.get(this.#prefix + key), now))
    })
  }

  /** {@inheritDoc Store.set} */
  async set(key: string, value: Uint8Array, ttl?: number): Promise<void> {
    const item = this.#item(key, value, ttl)
    await this.#run('set', async () => {
      await this.client.send(new PutItemCommand({ TableName: this.table, Item: item }))
    })
  }

  /** {@inheritDoc Store.setMany} `BatchWriteItem` in chunks of 25 (the last write of a key wins). */
  async setMany(entries: readonly StoreWrite[]): Promise<void> {
    const byKey = new Map<string, Item>()
    for (const { key, value, ttl } of entries) {
      byKey.delete(this.#prefix + key)
      byKey.set(this.#prefix + key, this.#item(key, value, ttl))
    }
    await this.#run('setMany', async () => {
      const writes = [...byKey.values()].map((Item): WriteRequest => ({ PutRequest: { Item } }))
      await Promise.all(chunk(writes, WRITE_CHUNK).map((part) => this.#batchWrite(part)))
    })
  }

  /** {@inheritDoc Store.add} A `PutItem` conditioned on no live item. */
  async add(key: string, value: Uint8Array, ttl?: number): Promise<boolean> {
    const item = this.#item(key, value, ttl)
    return this.#run('add', async () => {
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#k) OR #e <= :now',
            ExpressionAttributeNames: { '#k': NAMES['#k'], '#e': NAMES['#e'] },
            ExpressionAttributeValues: { ':now': { N: String(Date.now()) } },
          }),
        )
        return true
      } catch (error) {
        if (isConditionFailed(error)) return false
        throw error
      }
    })
  }

  /** {@inheritDoc Store.delete} `DeleteItem` with `ALL_OLD`: true when the old item was live. */
  async delete(key: string): Promise<boolean> {
    return this.#run(
      'delete',
      async () => (await this.#deleteItem(this.#prefix + key)) !== undefined,
    )
  }

  /** {@inheritDoc Store.deleteMany} One `DeleteItem` per distinct key, counting live old items. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    return this.#run('deleteMany', async () => {
      const unique = [...new Set(keys.map((key) => this.#prefix + key))]
      let count = 0
      for (const part of chunk(unique, WRITE_CHUNK)) {
        const old = await Promise.all(part.map((k) => this.#deleteItem(k)))
        count += old.filter((value) => value !== undefined).length
      }
      return count
    })
  }

  /** {@inheritDoc Store.take} `DeleteItem` with `ALL_OLD`, atomic on the server. */
  async take(key: string): Promise<Uint8Array | undefined> {
    return this.#run('take', async () => this.#deleteItem(this.#prefix + key))
  }

  /**
   * {@inheritDoc Store.increment} An optimistic loop: a consistent read, then an
   * `UpdateItem` conditioned on the value read (or a `PutItem` conditioned on no live
   * item), retried when another writer got there first. No increment is lost.
   */
  async increment(key: string, delta: number, ttl?: number): Promise<number> {
    if (!Number.isSafeInteger(delta)) {
      throw new InvalidArgumentError(
        `increment: delta must be a safe integer, not ${String(delta)}.`,
      )
    }
    checkTtl(ttl)
    return this.#run('increment', async () => {
      const Key = this.#keyOf(key)
      for (let attempt = 0; attempt < INCREMENT_ATTEMPTS; attempt++) {
        const { Item } = await this.client.send(
          new GetItemCommand({ TableName: this.table, Key, ConsistentRead: true }),
        )
        const now = Date.now()
        const current = liveValue(Item, now)
        let base = 0
        if (current !== undefined) {
          const text = Buffer.from(current).toString('latin1')
          if (!/^-?\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
            throw new WrongTypeError('increment: the value stored at the key is not an integer.')
          }
          base = Number(text)
        }
        const next = base + delta
        if (!Number.isSafeInteger(next)) {
          throw new InvalidArgumentError('increment: the result would overflow a safe integer.')
        }
        const bytes = new TextEncoder().encode(String(next))
        try {
          if (current === undefined) {
            await this.client.send(
              new PutItemCommand({
                TableName: this.table,
                Item: this.#item(key, bytes, ttl, now),
                ConditionExpression: 'attribute_not_exists(#k) OR #e <= :now',
                ExpressionAttributeNames: { '#k': NAMES['#k'], '#e': NAMES['#e'] },
                ExpressionAttributeValues: { ':now': { N: String(now) } },
              }),
            )
          } else {
            // The existing expiry stays: the ttl applies only when the call creates the key.
            await this.client.send(
              new UpdateItemCommand({
                TableName: this.table,
                Key,
                UpdateExpression: 'SET #v = :new',
                ConditionExpression: '#v = :old AND (attribute_not_exists(#e) OR #e > :now)',
                ExpressionAttributeNames: { '#v': NAMES['#v'], '#e': NAMES['#e'] },
                ExpressionAttributeValues: {
                  ':new': { B: bytes },
                  ':old': { B: current },
                  ':now': { N: String(now) },
                },
              }),
            )
          }
          return next
        } catch (error) {
          if (!isConditionFailed(error)) throw error
          await sleep(Math.random() * Math.min(50, 2 + attempt))
        }
      }
      throw new StoreUnavailableError(
        NAME,
        `DynamoDB increment gave up after ${INCREMENT_ATTEMPTS} conflicting writes to the same key.`,
      )
    })
  }

  /** {@inheritDoc Store.clear} A paged `Scan` filtered on `begins_with(k, prefix)`, deleted in batches of 25. */
  async clear(prefix: string): Promise<void> {
    await this.#run('clear', async () => {
      let start: Item | undefined
      do {
        const page = await this.client.send(
          new ScanCommand({
            TableName: this.table,
            ConsistentRead: true,
            ProjectionExpression: '#k',
            ...this.#filter(this.#prefix + prefix, ['#k']),
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        )
        const deletes = (page.Items ?? []).flatMap((item): WriteRequest[] =>
          item.k?.S === undefined ? [] : [{ DeleteRequest: { Key: { k: { S: item.k.S } } } }],
        )
        await Promise.all(chunk(deletes, WRITE_CHUNK).map((part) => this.#batchWrite(part)))
        start = page.LastEvaluatedKey
      } while (start !== undefined)
    })
  }

  /**
   * {@inheritDoc Store.keys} One `Scan` page per call; `limit` is the Scan's `Limit`
   * (items read before the prefix filter, so a page may hold fewer or none), and the
   * cursor is `LastEvaluatedKey` encoded as base64url.
   */
  async keys(options: StoreListOptions = {}): Promise<StoreListPage> {
    const { prefix = '', cursor, limit = DEFAULT_LIST_LIMIT } = options
    if (!(Number.isInteger(limit) && limit > 0)) {
      throw new InvalidArgumentError(
        `keys: limit must be a positive integer, not ${String(limit)}.`,
      )
    }
    const start = cursor === undefined ? undefined : decodeCursor(cursor)
    return this.#run('keys', async () => {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.table,
          ConsistentRead: true,
          Limit: limit,
          ProjectionExpression: '#k, #v, #e',
          ...this.#filter(this.#prefix + prefix, ['#k', '#v', '#e']),
          ...(start === undefined ? {} : { ExclusiveStartKey: { k: { S: start } } }),
        }),
      )
      const now = Date.now()
      const entries: StoreEntryInfo[] = []
      for (const item of page.Items ?? []) {
        const k = item.k?.S
        const value = liveValue(item, now)
        if (k === undefined || value === undefined || !k.startsWith(this.#prefix)) continue
        const exp = item.exp?.N
        entries.push({
          key: k.slice(this.#prefix.length),
          size: value.byteLength,
          ...(exp === undefined ? {} : { expiresAt: Number(exp) }),
        })
      }
      const last = page.LastEvaluatedKey?.k?.S
      return last === undefined
        ? { entries }
        : { entries, cursor: Buffer.from(last, 'utf8').toString('base64url') }
    })
  }

  /** {@inheritDoc Store.ready} Creates the table when missing (with `createTable`), then describes it. */
  async ready(): Promise<void> {
    await this.#run('ready', async () => {
      await this.client.send(new DescribeTableCommand({ TableName: this.table }))
    })
  }

  /** {@inheritDoc Store.close} Destroys the client only when the store created it. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#owned) this.client.destroy()
  }

  // ---------------------------------------------------------------------------

  async #run<T>(op: string, call: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new ClosedError(`${NAME} store`)
    try {
      await this.#ensureTable()
      return await call()
    } catch (error) {
      if (error instanceof TierCacheError) throw error
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      throw new StoreUnavailableError(
        NAME,
        `DynamoDB ${op} on table '${this.table}' failed: ${message}. Check the endpoint, region, credentials and the table.`,
        { cause: error },
      )
    }
  }

  /** Creates the table once when `createTable` is on; a failure is retried on the next call. */
  async #ensureTable(): Promise<void> {
    if (!this.#createTable) return
    this.#tableReady ??= this.#createIfMissing().catch((error: unknown) => {
      this.#tableReady = undefined
      throw error
    })
    await this.#tableReady
  }

  async #createIfMissing(): Promise<void> {
    try {
      const { Table } = await this.client.send(new DescribeTableCommand({ TableName: this.table }))
      if (Table?.TableStatus === 'ACTIVE') return
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error
      try {
        await this.client.send(
          new CreateTableCommand({
            TableName: this.table,
            AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }],
            KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        )
      } catch (createError) {
        // Another process created it meanwhile: wait for it below.
        if (!(createError instanceof ResourceInUseException)) throw createError
      }
    }
    const deadline = Date.now() + TABLE_ACTIVE_TIMEOUT_MS
    for (;;) {
      const { Table } = await this.client.send(new DescribeTableCommand({ TableName: this.table }))
      if (Table?.TableStatus === 'ACTIVE') break
      if (Date.now() > deadline) {
        throw new Error(`table '${this.table}' is not ACTIVE after ${TABLE_ACTIVE_TIMEOUT_MS} ms`)
      }
      await sleep(100)
    }
    try {
      await this.client.send(
        new UpdateTimeToLiveCommand({
          TableName: this.table,
          TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        }),
      )
    } catch {
      // Best effort: some emulators lack UpdateTimeToLive, and reads check `exp` anyway.
    }
  }

  async #batchGet(keys: string[], found: Map<string, Item>): Promise<void> {
    let pending: Item[] = keys.map((k) => ({ k: { S: k } }))
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= BATCH_ATTEMPTS) {
        throw new Error(
          `BatchGetItem left ${pending.length} keys unprocessed after ${BATCH_ATTEMPTS} attempts`,
        )
      }
      if (attempt > 0) await sleep(backoff(attempt))
      const reply = await this.client.send(
        new BatchGetItemCommand({
          RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } },
        }),
      )
      for (const item of reply.Responses?.[this.table] ?? []) {
        const k = item.k?.S
        if (k !== undefined) found.set(k, item)
      }
      pending = reply.UnprocessedKeys?.[this.table]?.Keys ?? []
    }
  }

  async #batchWrite(writes: readonly WriteRequest[]): Promise<void> {
    let pending: WriteRequest[] = [...writes]
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= BATCH_ATTEMPTS) {
        throw new Error(
          `BatchWriteItem left ${pending.length} writes unprocessed after ${BATCH_ATTEMPTS} attempts`,
        )
      }
      if (attempt > 0) await sleep(backoff(attempt))
      const reply = await this.client.send(
        new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } }),
      )
      pending = (reply.UnprocessedItems?.[this.table] ?? []).flatMap((request): WriteRequest[] =>
        request.PutRequest?.Item !== undefined
          ? [{ PutRequest: { Item: request.PutRequest.Item } }]
          : request.DeleteRequest?.Key !== undefined
            ? [{ DeleteRequest: { Key: request.DeleteRequest.Key } }]
            : [],
      )
    }
  }

  /** Deletes the item at full key `k`; its value when it was live. */
  async #deleteItem(k: string): Promise<Uint8Array | undefined> {
    const { Attributes } = await this.client.send(
      new DeleteItemCommand({
        TableName: this.table,
        Key: { k: { S: k } },
        ReturnValues: 'ALL_OLD',
      }),
    )
    return liveValue(Attributes, Date.now())
  }

  #filter(
    full: string,
    used: ReadonlyArray<keyof typeof NAMES>,
  ): {
    FilterExpression?: string
    ExpressionAttributeNames: Record<string, string>
    ExpressionAttributeValues?: Item
  } {
    const names: Record<string, string> = {}
    for (const alias of used) names[alias] = NAMES[alias]
    if (full === '') return { ExpressionAttributeNames: names }
    names['#k'] = NAMES['#k']
    return {
      FilterExpression: 'begins_with(#k, :p)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':p': { S: full } },
    }
  }

  #keyOf(key: string): Item {
    return { k: { S: this.#prefix + key } }
  }

  #item(key: string, value: Uint8Array, ttl: number | undefined, now = Date.now()): Item {
    checkTtl(ttl)
    const item: Item = {
      k: { S: this.#prefix + key },
      v: { B: Uint8Array.from(value) },
    }
    if (ttl !== undefined) {
      const exp = now + Math.max(1, Math.ceil(ttl))
      item.exp = { N: String(exp) }
      item.ttl = { N: String(Math.ceil(exp / 1000)) }
    }
    return item
  }
}

/** The value of an item that exists and has not expired at `now`. */
function liveValue(item: Item | undefined, now: number): Uint8Array | undefined {
  if (item === undefined) return undefined
  const exp = item.exp?.N
  if (exp !== undefined && Number(exp) <= now) return undefined
  const value = item.v?.B
  return value === undefined ? undefined : new Uint8Array(value)
}

function isConditionFailed(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  )
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

function backoff(attempt: number): number {
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt) * (0.5 + Math.random() / 2)
}

function checkTtl(ttl: number | undefined): void {
  if (ttl === undefined) return
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) {
    throw new InvalidArgumentError(
      `ttl must be a positive number of milliseconds, not ${String(ttl)}.`,
    )
  }
}

function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new InvalidArgumentError(
      `keys: cursor must be one returned by a previous keys() page, not ${JSON.stringify(cursor)}.`,
    )
  }
  return Buffer.from(cursor, 'base64url').toString('utf8')
}
