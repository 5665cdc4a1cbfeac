/**
 * Child process of heap-per-entry.bench.ts: fills one contender with `n` small
 * entries (key `key:${i}`, value the number i) and prints the heap it took, as one
 * JSON line. Run with `node --expose-gc --import tsx bench/heap-child.ts <contender> <n>`.
 *
 * The baseline is taken before the cache is constructed, so capacity a cache
 * preallocates (lru-cache sizes its arrays from `max`) counts. Typed-array backing
 * stores live outside the JS heap, so `arrayBuffers` is reported next to `heapUsed`.
 */

import { LRUCache } from 'lru-cache'

export const HEAP_CONTENDERS = ['tiercache-lru', 'tiercache', 'lru-cache', 'map'] as const
export type HeapContender = (typeof HEAP_CONTENDERS)[number]

export interface HeapResult {
  contender: HeapContender
  n: number
  size: number
  heapUsedDelta: number
  arrayBuffersDelta: number
  fillMs: number
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  for (let i = 0; i < 4; i++) gc()
}

async function fill(contender: HeapContender, n: number): Promise<{ keep: unknown; size: number }> {
  const capacity = Math.max(n + (n >> 3), 16)
  switch (contender) {
    case 'map': {
      const map = new Map<string, number>()
      for (let i = 0; i < n; i++) map.set(`key:${i}`, i)
      return { keep: map, size: map.size }
    }
    case 'lru-cache': {
      const lru = new LRUCache<string, number>({ max: capacity })
      for (let i = 0; i < n; i++) lru.set(`key:${i}`, i)
      return { keep: lru, size: lru.size }
    }
    case 'tiercache':
    case 'tiercache-lru': {
      const { createCache, memoryStore } = await import('../src/index.js')
      const store =
        contender === 'tiercache-lru'
          ? memoryStore({ maxEntries: capacity, policy: 'lru' })
          : memoryStore({ maxEntries: capacity })
      const cache = createCache({ tiers: [store] })
      for (let i = 0; i < n; i++) await cache.set(`key:${i}`, i)
      let size = 0
      for (const i of [0, n >> 1, n - 1]) if ((await cache.get(`key:${i}`)) === i) size++
      // Only three keys are probed; report n when they are all present.
      return { keep: cache, size: size === 3 ? n : -1 }
    }
  }
}

async function main(): Promise<void> {
  const [name, nArg] = process.argv.slice(2)
  if (!HEAP_CONTENDERS.includes(name as HeapContender)) {
    throw new Error(`contender must be one of ${HEAP_CONTENDERS.join(', ')}`)
  }
  const contender = name as HeapContender
  const n = Number(nArg ?? 1_000_000)
  collect()
  const before = process.memoryUsage()
  const start = performance.now()
  const { keep, size } = await fill(contender, n)
  const fillMs = performance.now() - start
  collect()
  const after = process.memoryUsage()
  const result: HeapResult = {
    contender,
    n,
    size,
    heapUsedDelta: after.heapUsed - before.heapUsed,
    arrayBuffersDelta: after.arrayBuffers - before.arrayBuffers,
    fillMs,
  }
  console.log(JSON.stringify(result))
  // Keep the cache reachable until after the second measurement.
  if (keep === null) console.log('unreachable')
}

await main()
