/**
 * Child process of heap-per-entry.bench.ts: fills one contender with `n` small
 * entries (key `key:${i}`, value the number i) and prints the heap it took, as one
 * JSON line. Run with `node --expose-gc --import tsx bench/heap-child.ts <contender> <n>`.
 *
 * The baseline is taken before the cache is constructed, so capacity a cache
 * preallocates (lru-cache sizes its arrays from `max`) counts. Typed-array backing
 * stores live outside the JS heap, so `arrayBuffers` is reported next to `heapUsed`.
 *
 * `tiercache-arc` and `tiercache-tinylfu` are `memoryStore({ policy: 'arc' | 'tinylfu' })`;
 * while the store does not accept a policy name it throws InvalidArgumentError, and
 * the child prints `{ contender, unavailable }` instead of a measurement.
 */

import { LRUCache } from 'lru-cache'
import type { PolicyName } from '../src/memory/policy.js'

export const HEAP_CONTENDERS = [
  'tiercache-lru',
  'tiercache-arc',
  'tiercache-tinylfu',
  'tiercache',
  'lru-cache',
  'map',
] as const
export type HeapContender = (typeof HEAP_CONTENDERS)[number]

export interface HeapResult {
  contender: HeapContender
  n: number
  size: number
  heapUsedDelta: number
  arrayBuffersDelta: number
  fillMs: number
}

/** What the child prints when the contender cannot be built (a policy the store does not know yet). */
export interface HeapUnavailable {
  contender: HeapContender
  unavailable: string
}

/** The memory-store policy of each tiercache contender (`undefined`: the default). */
const POLICY_OF: Partial<Record<HeapContender, string>> = {
  'tiercache-lru': 'lru',
  'tiercache-arc': 'arc',
  'tiercache-tinylfu': 'tinylfu',
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  for (let i = 0; i < 4; i++) gc()
}

async function fill(
  contender: HeapContender,
  n: number,
): Promise<{ keep: unknown; size: number; unavailable?: string }> {
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
    case 'tiercache-lru':
    case 'tiercache-arc':
    case 'tiercache-tinylfu': {
      const { createCache, memoryStore, InvalidArgumentError } = await import('../src/index.js')
      // A string, not a PolicyName: the names the store accepts grow over time.
      const policy = POLICY_OF[contender]
      let store: ReturnType<typeof memoryStore>
      try {
        store =
          policy === undefined
            ? memoryStore({ maxEntries: capacity })
            : memoryStore({ maxEntries: capacity, policy: policy as PolicyName })
      } catch (err) {
        if (err instanceof InvalidArgumentError)
          return { keep: null, size: 0, unavailable: err.message }
        throw err
      }
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
  const { keep, size, unavailable } = await fill(contender, n)
  const fillMs = performance.now() - start
  if (unavailable !== undefined) {
    const result: HeapUnavailable = { contender, unavailable }
    console.log(JSON.stringify(result))
    return
  }
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
