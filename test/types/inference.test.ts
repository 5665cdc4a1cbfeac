import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import {
  createCache,
  type CacheStatus,
  type LoaderContext,
  type BatchLoaderContext,
  type ValueSource,
} from '../../src/index.js'

// These assertions are checked by `tsc --noEmit` (part of `npm test`); at run time they only run.
describe('type inference', () => {
  const cache = createCache()

  it('getOrSet returns the loader type', () => {
    expectTypeOf(cache.getOrSet('k', () => 1)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(cache.getOrSet('k', async () => ({ id: 1 }))).toEqualTypeOf<
      Promise<{ id: number }>
    >()
    expectTypeOf(
      cache.getOrSet('k', async (): Promise<string | undefined> => undefined),
    ).toEqualTypeOf<Promise<string | undefined>>()
    expectTypeOf(cache.getOrSet).parameter(1).parameter(0).toEqualTypeOf<LoaderContext>()
  })

  it('get is T | undefined and no any leaks', () => {
    expectTypeOf(cache.get<number>('k')).toEqualTypeOf<Promise<number | undefined>>()
    expectTypeOf(cache.get('k')).toEqualTypeOf<Promise<unknown>>()
    expectTypeOf(cache.get('k')).not.toBeAny()
    expectTypeOf(cache.getMany<string>(['k'])).toEqualTypeOf<Promise<Map<string, string>>>()
  })

  it('a schema gives get its output type', () => {
    const User = z.object({ id: z.number() })
    expectTypeOf(cache.get('k', { schema: User })).toEqualTypeOf<
      Promise<{ id: number } | undefined>
    >()
  })

  it('getOrSetMany returns a Map of the loader value type', () => {
    const result = cache.getOrSetMany(['a'], async (keys, ctx) => {
      expectTypeOf(keys).toEqualTypeOf<string[]>()
      expectTypeOf(ctx).toEqualTypeOf<BatchLoaderContext>()
      return new Map(keys.map((k) => [k, k.length]))
    })
    expectTypeOf(result).toEqualTypeOf<Promise<Map<string, number>>>()
  })

  it('status.source is the documented union', () => {
    expectTypeOf<CacheStatus['source']>().toEqualTypeOf<ValueSource | undefined>()
    expectTypeOf<ValueSource>().toEqualTypeOf<'local' | 'remote' | 'loader' | 'stale' | 'peer'>()
  })

  it('events are typed by name', () => {
    cache.on('evict', (event) => {
      expectTypeOf(event.reason).toEqualTypeOf<'size' | 'expired' | 'policy'>()
    })
    // @ts-expect-error an unknown event name does not compile
    expectTypeOf(cache.on).toBeCallableWith('nope', () => {})
  })

  it('durations take units only in their documented shapes', () => {
    expectTypeOf(cache.set).toBeCallableWith('k', 1, { ttl: '5m' })
    expectTypeOf(cache.set).toBeCallableWith('k', 1, { ttl: 300 })
    expectTypeOf(cache.set).toBeCallableWith('k', 1, { ttl: null })
    // @ts-expect-error 'minutes' is not a unit
    expectTypeOf(cache.set).toBeCallableWith('k', 1, { ttl: '5minutes' })
  })
})
