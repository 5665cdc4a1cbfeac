import { setTimeout as sleep } from 'node:timers/promises'
import { createCache, memoryStore } from '../index.js'

/** How long the fake "database" takes per call, so that a load and a hit look different. */
const LOADER_DELAY_MS = 50

interface User {
  id: string
  name: string
}

function userFromKey(key: string): User {
  const id = key.slice(key.indexOf(':') + 1)
  return { id, name: `user ${id}` }
}

function since(start: number): string {
  const ms = performance.now() - start
  return ms < 1 ? '<1 ms' : `${Math.round(ms)} ms`
}

function times(n: number): string {
  return n === 1 ? '1 time' : `${n} times`
}

/**
 * Runs the `tiercache demo` walkthrough on a memory-only cache and reports each step
 * through `print`, one line at a time (about 15 lines):
 *
 * 1. read-through with `getOrSet` and a slow fake loader: the first call loads, the second
 *    is a hit, and 100 concurrent calls for a new key run the loader once;
 * 2. batch loading with `getOrSetMany` over 5 keys of which 2 are cached: the batch loader
 *    runs once, with only the 3 missing keys;
 * 3. the cache's `stats()`.
 *
 * @example
 * ```ts
 * import { runDemo } from './demo.js'
 * await runDemo((line) => console.log(line))
 * ```
 */
export async function runDemo(print: (line: string) => void): Promise<void> {
  const cache = createCache({
    tiers: [memoryStore({ maxEntries: 1_000 })],
    ttl: '1m',
    namespace: 'demo',
  })
  try {
    let loaderCalls = 0
    const loadUser = async (key: string): Promise<User> => {
      loaderCalls += 1
      await sleep(LOADER_DELAY_MS)
      return userFromKey(key)
    }

    print(`tiercache demo (memory tier, ttl 1m; the fake loader takes ${LOADER_DELAY_MS} ms)`)
    print('')
    print('read-through with getOrSet:')
    for (const attempt of ['1st', '2nd']) {
      const before = loaderCalls
      const start = performance.now()
      await cache.getOrSet('user:1', () => loadUser('user:1'))
      const outcome = loaderCalls > before ? 'loaded' : 'hit   '
      print(
        `  user:1, ${attempt} call     ${outcome}  (loader calls so far: ${loaderCalls}, ${since(start)})`,
      )
    }

    loaderCalls = 0
    const start = performance.now()
    const concurrent = await Promise.all(
      Array.from({ length: 100 }, () => cache.getOrSet('user:2', () => loadUser('user:2'))),
    )
    const same = concurrent.every((user) => user.name === 'user 2')
    print(
      `  user:2, 100 at once  loader ran ${times(loaderCalls)} for ${concurrent.length} callers, ` +
        `${same ? 'all got the same value' : 'NOT all got the same value'} (${since(start)})`,
    )

    print('')
    print('batch loading with getOrSetMany(user:3..user:7), user:3 and user:4 already cached:')
    await cache.set('user:3', userFromKey('user:3'))
    await cache.set('user:4', userFromKey('user:4'))
    const batches: string[][] = []
    const keys = ['user:3', 'user:4', 'user:5', 'user:6', 'user:7']
    const users = await cache.getOrSetMany(keys, async (missing: string[]) => {
      batches.push([...missing])
      await sleep(LOADER_DELAY_MS)
      return new Map(missing.map((key) => [key, userFromKey(key)] as const))
    })
    print(
      `  batch loader ran ${times(batches.length)}, with: ${batches.map((b) => b.join(', ')).join(' | ')}`,
    )
    print(`  got ${users.size} users: ${[...users.values()].map((u) => u.name).join(', ')}`)

    const stats = cache.stats()
    const ratio = Number.isFinite(stats.hitRatio) ? `${(stats.hitRatio * 100).toFixed(1)}%` : 'n/a'
    print('')
    print(
      `stats: hits ${stats.hits}, misses ${stats.misses}, loads ${stats.loads}, ` +
        `load errors ${stats.loadErrors}, hit ratio ${ratio}`,
    )
  } finally {
    await cache.close()
  }
}
