import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb'
import { randomUUID } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClosedError, StoreUnavailableError } from '../../src/errors.js'
import { dynamoStore } from '../../src/stores/dynamodb.js'
import type { DynamoStore } from '../../src/stores/dynamodb.js'
import { expectEveryCallUnavailable } from '../helpers/unavailable.js'
import { describeStoreConformance } from '../../src/testing/store-conformance/index.js'

// dynalite (an in-process DynamoDB API on LevelDB in memory) ships no types.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: {
  createTableMs?: number
}) => Server

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' }
const region = 'us-east-1'
const table = `tc-${randomUUID().slice(0, 8)}`
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

// The SDK warns once per process that its releases after January 2027 need Node >= 22;
// tiercache supports Node 20, and strict-process.ts would fail the file on that warning.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

let server: Server
let endpoint = ''
let client: DynamoDBClient

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  client = new DynamoDBClient({ endpoint, region, credentials })
})

afterAll(async () => {
  client?.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describeStoreConformance(
  'dynamoStore (dynalite)',
  ({ prefix }) => dynamoStore({ table, client, prefix }),
  {
    runner: { describe, it },
    // DynamoDB caps an item at 400 KB, so the large-value round trip uses 300 KiB, not 1 MiB.
    largeValueBytes: 300 * 1024,
    timeoutMs: 30_000,
  },
)

describe('dynamoStore', () => {
  const open = (prefix = `t-${randomUUID().slice(0, 8)}:`): DynamoStore =>
    dynamoStore({ table, client, prefix })

  it('declares its capabilities', () => {
    expect(open().capabilities).toEqual({ list: true, ttlGranularity: 'ms', shared: true })
    expect(open().name).toBe('dynamodb')
  })

  it('getMany of 250 keys goes in chunks of 100 and keeps order and duplicates', async () => {
    const store = open()
    const keys = Array.from({ length: 250 }, (_, i) => `k${i}`)
    await store.setMany(keys.map((key) => ({ key, value: bytes(key) })))
    const values = await store.getMany([...keys, 'missing', 'k0'])
    expect(values).toHaveLength(252)
    for (const [i, key] of keys.entries()) expect(values[i]).toEqual(bytes(key))
    expect(values[250]).toBeUndefined()
    expect(values[251]).toEqual(bytes('k0'))
    expect(await store.deleteMany(keys)).toBe(250)
    await store.clear('')
  })

  it('writes k, v, exp (ms) and ttl (s) on the item', async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}:`
    const store = open(prefix)
    const before = Date.now()
    await store.set('k', bytes('v'), 60_000)
    const { Item } = await client.send(
      new GetItemCommand({ TableName: table, Key: { k: { S: `${prefix}k` } } }),
    )
    expect(Item?.v?.B).toEqual(bytes('v'))
    const exp = Number(Item?.exp?.N)
    expect(exp).toBeGreaterThanOrEqual(before + 60_000)
    expect(Number(Item?.ttl?.N)).toBe(Math.ceil(exp / 1000))
    await store.clear('')
  })

  it('creates a missing table on first use, with a client it owns, and close() destroys it', async () => {
    const own = `tc-own-${randomUUID().slice(0, 8)}`
    process.env.AWS_ACCESS_KEY_ID ??= credentials.accessKeyId
    process.env.AWS_SECRET_ACCESS_KEY ??= credentials.secretAccessKey
    const store = dynamoStore({ table: own, endpoint, region })
    await store.ready()
    await store.set('k', bytes('v'))
    expect(await store.get('k')).toEqual(bytes('v'))
    await store.close()
    await store.close()
    await expect(store.get('k')).rejects.toBeInstanceOf(ClosedError)
  })

  it('close() leaves a client passed in usable', async () => {
    const store = open()
    await store.set('k', bytes('v'))
    await store.close()
    await expect(store.get('k')).rejects.toBeInstanceOf(ClosedError)
    const other = open()
    await other.ready()
  })

  it('a closed endpoint rejects with StoreUnavailableError', async () => {
    const store = dynamoStore({
      table,
      client: new DynamoDBClient({
        endpoint: 'http://127.0.0.1:1',
        region,
        credentials,
        maxAttempts: 1,
      }),
    })
    await expectEveryCallUnavailable(store, 'dynamodb')
    store.client.destroy()
    await store.close()
  })

  it('createTable: false does not create a missing table', async () => {
    const store = dynamoStore({
      table: `tc-none-${randomUUID().slice(0, 8)}`,
      client,
      createTable: false,
    })
    await expect(store.get('k')).rejects.toBeInstanceOf(StoreUnavailableError)
  })
})
