import { describe, expect, it } from 'vitest'
import { createCache, type LoaderContext } from '../../src/index.js'
import { deferred, tick } from '../helpers/deferred.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('stampede protection (S1)', () => {
  it('runs one load for 10 000 concurrent callers of one key', async () => {
    const cache = createCache()
    let calls = 0
    const loader = async () => {
      calls++
      await sleep(300)
      return { answer: 42 }
    }
    const heapBefore = process.memoryUsage().heapUsed
    // Half the callers carry their own signal: each adds one listener to its own signal only.
    const results = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) =>
        cache.getOrSet(
          'hot',
          loader,
          i % 2 === 0 ? { signal: new AbortController().signal } : undefined,
        ),
      ),
    )
    expect(calls).toBe(1)
    expect(results).toHaveLength(10_000)
    expect(results.every((r) => r === results[0])).toBe(true)
    expect(results[0]).toEqual({ answer: 42 })
    expect(cache.stats().inFlight).toBe(0)
    // Garbage may still be uncollected here, so this bounds the total, not just what is kept.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(50 * 1024 * 1024)
  })

  it('shares one signal among 1000 callers without listener warnings', async () => {
    const cache = createCache()
    const shared = new AbortController()
    let calls = 0
    const values = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        cache.getOrSet(`k${i % 10}`, async () => (calls++, await sleep(5), 'v'), {
          signal: shared.signal,
        }),
      ),
    )
    expect(calls).toBe(10)
    expect(new Set(values)).toEqual(new Set(['v']))
  })

  it('runs one batch load per key for concurrent getOrSetMany callers', async () => {
    const cache = createCache()
    const loadedPerKey = new Map<string, number>()
    const loader = async (keys: string[]) => {
      await sleep(20)
      for (const k of keys) loadedPerKey.set(k, (loadedPerKey.get(k) ?? 0) + 1)
      return new Map(keys.map((k) => [k, k.toUpperCase()]))
    }
    const callers = Array.from({ length: 1000 }, (_, i) => {
      const keys = [`k${i % 7}`, `k${(i + 1) % 7}`, `k${(i + 3) % 7}`]
      return cache.getOrSetMany(keys, loader).then((m) => ({ keys, m }))
    })
    for (const { keys, m } of await Promise.all(callers)) {
      expect([...m.keys()]).toEqual(keys)
      for (const k of keys) expect(m.get(k)).toBe(k.toUpperCase())
    }
    expect([...loadedPerKey.values()].every((n) => n === 1)).toBe(true)
    expect(loadedPerKey.size).toBe(7)
  })

  it('lets single and batch callers join each other', async () => {
    const cache = createCache()
    const gate = deferred<Map<string, number>>()
    let batchCalls = 0
    const batch = cache.getOrSetMany(['a', 'b'], () => (batchCalls++, gate.promise))
    await tick()
    let singleCalls = 0
    const single = cache.getOrSet('b', () => (singleCalls++, -1))
    gate.resolve(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    )
    expect(await single).toBe(2)
    expect(Object.fromEntries(await batch)).toEqual({ a: 1, b: 2 })
    expect([batchCalls, singleCalls]).toEqual([1, 0])
  })
})

describe('failed loads are not cached (S2)', () => {
  it('gives all 100 callers the one rejection, then loads again', async () => {
    const cache = createCache({ negativeTtl: '1m' })
    const failure = new Error('database down')
    let calls = 0
    const loader = async () => {
      calls++
      await sleep(10)
      if (calls === 1) throw failure
      return 'recovered'
    }
    const settled = await Promise.allSettled(
      Array.from({ length: 100 }, () => cache.getOrSet('k', loader)),
    )
    expect(calls).toBe(1)
    for (const result of settled) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toBe(failure)
    }
    expect(cache.stats()).toMatchObject({ loadErrors: 1, inFlight: 0 })
    expect(await cache.has('k')).toBe(false)
    expect(await cache.getOrSet('k', loader)).toBe('recovered')
    expect(calls).toBe(2)
  })

  it('does not cache a loader that throws synchronously, nor a batch loader failure', async () => {
    const cache = createCache()
    await expect(
      cache.getOrSet('k', () => {
        throw new TypeError('sync')
      }),
    ).rejects.toThrow('sync')
    expect(await cache.getOrSet('k', () => 'ok')).toBe('ok')

    const failure = new Error('batch down')
    const results = await Promise.allSettled([
      cache.getOrSetMany(['x', 'y'], async () => {
        throw failure
      }),
      cache.getOrSet('y', () => 'never'),
    ])
    expect(results.map((r) => (r as PromiseRejectedResult).reason as unknown)).toEqual([
      failure,
      failure,
    ])
    expect(await cache.hasMany(['x', 'y'])).toEqual(
      new Map([
        ['x', false],
        ['y', false],
      ]),
    )
    expect(cache.stats().inFlight).toBe(0)
  })
})

describe('cancellation (S4)', () => {
  it('rejects only the aborting caller; the shared load goes on', async () => {
    const cache = createCache()
    const gate = deferred<string>()
    let ctx: LoaderContext | undefined
    const first = new AbortController()
    const p1 = cache.getOrSet('k', (c) => ((ctx = c), gate.promise), { signal: first.signal })
    const p2 = cache.getOrSet('k', () => 'unused', { signal: new AbortController().signal })
    const p3 = cache.getOrSet('k', () => 'unused')
    await tick()
    const reason = new Error('caller 1 gave up')
    first.abort(reason)
    await expect(p1).rejects.toBe(reason)
    expect(ctx?.signal.aborted).toBe(false)
    gate.resolve('value')
    expect(await Promise.all([p2, p3])).toEqual(['value', 'value'])
    expect(await cache.get('k')).toBe('value')
    expect(cache.stats().inFlight).toBe(0)
  })

  it('aborts the loader signal once every caller has aborted', async () => {
    const cache = createCache()
    const controllers = [new AbortController(), new AbortController()]
    let ctx: LoaderContext | undefined
    const loader = (c: LoaderContext) => {
      ctx = c
      return new Promise<string>((_, reject) =>
        c.signal.addEventListener('abort', () => reject(c.signal.reason)),
      )
    }
    const calls = controllers.map((c) => cache.getOrSet('k', loader, { signal: c.signal }))
    const outcome = Promise.allSettled(calls)
    await tick()
    controllers[0]!.abort()
    await tick()
    expect(ctx?.signal.aborted).toBe(false)
    controllers[1]!.abort()
    const settled = await outcome
    expect(settled.every((s) => s.status === 'rejected')).toBe(true)
    expect(ctx?.signal.aborted).toBe(true)
    await tick()
    expect(cache.stats().inFlight).toBe(0)
    expect(await cache.getOrSet('k', () => 'next')).toBe('next')
  })

  it('rejects at once for an already aborted signal, without loading', async () => {
    const cache = createCache()
    let calls = 0
    const reason = new Error('already')
    await expect(
      cache.getOrSet('k', () => ++calls, { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason)
    await expect(
      cache.getOrSetMany(['a'], () => (calls++, {}), { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason)
    expect(calls).toBe(0)
  })

  it('aborts a batch load only when its callers are gone', async () => {
    const cache = createCache()
    const controller = new AbortController()
    let batchSignal: AbortSignal | undefined
    const batch = cache.getOrSetMany(
      ['a', 'b'],
      (_keys, ctx) => {
        batchSignal = ctx.signal
        return new Promise<Record<string, number>>(() => {})
      },
      { signal: controller.signal },
    )
    await tick()
    const patient = cache.getOrSet('a', () => 0, { signal: new AbortController().signal })
    controller.abort()
    await expect(batch).rejects.toBeDefined()
    // 'a' still has a caller: the shared load must go on.
    expect(batchSignal?.aborted).toBe(false)
    void patient.catch(() => {})
  })
})
