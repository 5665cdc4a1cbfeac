/**
 * `describeStoreConformance`: the one suite every `Store` passes, in-repo or third
 * party. It registers tests with whatever runner the caller uses (vitest, jest, mocha,
 * node:test) and asserts with `node:assert/strict` only, so it needs no runner's
 * `expect`. Each capability lives in its own file, as in `@keyv/test-suite`.
 */
import { randomUUID } from 'node:crypto'
import { InvalidArgumentError } from '../../errors.js'
import type { Store } from '../../stores/store.js'
import { registerAtomicTests } from './atomic.js'
import { registerBasicTests } from './basic.js'
import { registerBatchTests } from './batch.js'
import { registerCloseTests } from './close.js'
import type { HarnessOptions } from './harness.js'
import { createHarness } from './harness.js'
import { registerListTests } from './list.js'
import { type ConformanceRunner, defaultRunner } from '../runner.js'
import { registerPrefixClearTests } from './prefix-clear.js'
import { registerTtlTests } from './ttl.js'

/** What the suite passes to a {@link StoreFactory}. */
export interface StoreFactoryContext {
  /**
   * A prefix no other test uses (`tc-conf-<run>-<n>:`). A store for a shared server
   * should scope all its keys under it, so parallel runs never see each other's data.
   */
  readonly prefix: string
}

/**
 * Creates a fresh store for one test. Called once per test, and a second time with the
 * same prefix by the test of `capabilities.shared`: a shared store must then reach the
 * same data, a store that is not shared must not.
 */
export type StoreFactory = (ctx: StoreFactoryContext) => Store | Promise<Store>

/**
 * The two calls of a test runner the suite needs. vitest's, jest's and mocha's
 * `describe` and `it` fit as they are; `timeout` is in milliseconds.
 */
export type StoreConformanceRunner = ConformanceRunner

/** The capability groups of the suite, each in its own file; see {@link StoreConformanceOptions.skip}. */
export type StoreConformanceGroup =
  'basic' | 'batch' | 'ttl' | 'atomic' | 'prefix-clear' | 'list' | 'close'

/** Options of {@link describeStoreConformance}. */
export interface StoreConformanceOptions {
  /**
   * The test runner. Default: the global `describe`/`it` when present (vitest with
   * `globals: true`, jest, mocha), otherwise those of `node:test`. Under vitest without
   * globals, pass `{ describe, it }` imported from `vitest`.
   */
  runner?: StoreConformanceRunner | undefined
  /**
   * The ttl of the expiry tests, in milliseconds.
   * @default 300 for `ttlGranularity: 'ms'`, 1000 for `'s'`
   */
  ttlMs?: number | undefined
  /**
   * How long the expiry tests wait for that ttl to pass. Raise it for a server that
   * expires lazily on a slow tick.
   * @default ttl + 400 for `'ms'` (700), ttl + 1200 for `'s'` (2200)
   */
  ttlWaitMs?: number | undefined
  /** Size of the large-value round trip. @default 1 MiB */
  largeValueBytes?: number | undefined
  /** How many calls race in the atomicity tests. @default 50 */
  concurrency?: number | undefined
  /** Per-test timeout for tests that do not wait for a ttl; those get their waits on top. @default 10000 */
  timeoutMs?: number | undefined
  /**
   * Groups to leave out, for a store that by design lacks them (a `nullStore` stores
   * nothing). Capabilities a store declares as data, such as `list`, are not skipped
   * this way: the suite checks the declaration instead.
   */
  skip?: readonly StoreConformanceGroup[] | undefined
  /**
   * A clock the factory's stores read (a `ManualClock`). When given, the ttl tests
   * advance it instead of sleeping, so an in-process store runs them in no time.
   */
  clock?: { now(): number; advance(ms: number): void } | undefined
}

const GROUPS: ReadonlyArray<[StoreConformanceGroup, typeof registerBasicTests]> = [
  ['basic', registerBasicTests],
  ['batch', registerBatchTests],
  ['ttl', registerTtlTests],
  ['atomic', registerAtomicTests],
  ['prefix-clear', registerPrefixClearTests],
  ['list', registerListTests],
  ['close', registerCloseTests],
]

/**
 * Registers the store conformance suite under `describe(name)`. Every test gets a
 * fresh store from `factory` under a unique prefix, and afterwards the suite clears
 * and closes it, whether the test passed or not. Assertions use `node:assert/strict`.
 *
 * @example
 * ```ts
 * // test/stores/redis.test.ts (vitest)
 * import { describe, it } from 'vitest'
 * import { describeStoreConformance } from 'tiercache/testing'
 * import { redisStore } from 'tiercache/redis'
 *
 * describeStoreConformance('redisStore', ({ prefix }) => redisStore({ url, prefix }), {
 *   runner: { describe, it },
 * })
 * ```
 */
export function describeStoreConformance(
  name: string,
  factory: StoreFactory,
  options: StoreConformanceOptions = {},
): void {
  if (typeof name !== 'string' || name === '') {
    throw new InvalidArgumentError('describeStoreConformance needs a non-empty suite name.')
  }
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError(
      'describeStoreConformance needs a factory: ({ prefix }) => Store | Promise<Store>.',
    )
  }
  const resolved: HarnessOptions = {
    ttlMs: optionalPositive(options.ttlMs, 'ttlMs'),
    ttlWaitMs: optionalPositive(options.ttlWaitMs, 'ttlWaitMs'),
    largeValueBytes: optionalPositive(options.largeValueBytes, 'largeValueBytes') ?? 1024 * 1024,
    concurrency: optionalPositive(options.concurrency, 'concurrency') ?? 50,
    timeoutMs: optionalPositive(options.timeoutMs, 'timeoutMs') ?? 10_000,
    clock: options.clock,
  }
  if (
    resolved.ttlMs !== undefined &&
    resolved.ttlWaitMs !== undefined &&
    resolved.ttlWaitMs <= resolved.ttlMs
  ) {
    throw new InvalidArgumentError(
      `ttlWaitMs (${resolved.ttlWaitMs}) must be longer than ttlMs (${resolved.ttlMs}).`,
    )
  }
  const skip = new Set(options.skip ?? [])
  for (const group of skip) {
    if (!GROUPS.some(([known]) => known === group)) {
      throw new InvalidArgumentError(
        `skip has an unknown group '${String(group)}'; the groups are ${GROUPS.map(([g]) => g).join(', ')}.`,
      )
    }
  }
  const runner = options.runner ?? defaultRunner('describeStoreConformance')
  // One id per suite call keeps parallel runs (CI shards, two developers) apart on a shared server.
  const run = randomUUID().slice(0, 8)
  let count = 0
  const harness = createHarness(runner, factory, resolved, () => `tc-conf-${run}-${++count}:`)
  runner.describe(name, () => {
    for (const [group, register] of GROUPS) {
      if (!skip.has(group)) register(harness)
    }
  })
}

function optionalPositive(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(
      `${what} must be a positive finite number, not ${String(value)}.`,
    )
  }
  return value
}
