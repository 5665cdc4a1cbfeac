/**
 * Bytes allocated per L1 hit, measured in a process started with --expose-gc
 * (bench/alloc-per-hit.bench.ts spawns it). Calls are issued without awaiting, in
 * batches small enough that no scavenge runs inside a batch, so the heap growth of
 * a batch is what the calls allocated. The baseline is lru-cache's `get` behind an
 * `async` function: one promise per call and nothing else.
 */
import { LRUCache } from 'lru-cache'
import { createCache, memoryStore } from '../src/index.js'

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc')

const N = 10_000
const BATCH = 2_000
const ROUNDS = 25
const keys = Array.from({ length: N }, (_, i) => `user:${i}`)

async function main(): Promise<void> {
  const cache = createCache({ tiers: [memoryStore({ maxEntries: 20_000 })] })
  const lru = new LRUCache<string, object>({ max: 20_000 })
  const map = new Map<string, object>()
  for (const [i, key] of keys.entries()) {
    await cache.set(key, { i })
    lru.set(key, { i })
    map.set(key, { i })
  }
  const lruGet = async (key: string): Promise<object | undefined> => lru.get(key)
  const contenders: Array<[string, (key: string) => Promise<unknown>]> = [
    ['tiercache get', (key) => cache.get(key)],
    ['tiercache getOrSet hit', (key) => cache.getOrSet(key, () => null)],
    ['lru-cache get (async)', lruGet],
    ['Promise.resolve(map.get)', (key) => Promise.resolve(map.get(key))],
    // A control that allocates one small object per call, to show the method sees it.
    ['control: async get + { value }', async (key) => ({ value: map.get(key) })],
  ]
  const results: Record<string, number> = {}
  for (const [name, call] of contenders) {
    for (let i = 0; i < BATCH; i++) void call(keys[i % N]!) // warm up and optimize
    const perCall: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      gc!()
      const before = process.memoryUsage().heapUsed
      for (let i = 0; i < BATCH; i++) void call(keys[(round * BATCH + i) % N]!)
      perCall.push((process.memoryUsage().heapUsed - before) / BATCH)
    }
    perCall.sort((a, b) => a - b)
    results[name] = perCall[Math.floor(perCall.length / 2)]!
  }
  process.stdout.write(JSON.stringify(results) + '\n')
}

await main()
