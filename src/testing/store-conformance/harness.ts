/**
 * The shared machinery of the store conformance suite: how a test gets a fresh store,
 * how it waits for a ttl to pass, and the few assertions every group needs. Kept apart
 * from `index.ts` so that each capability file depends on this small surface only.
 */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Store } from '../../stores/store.js'

/** The runner calls the suite needs; see `StoreConformanceRunner` in `index.ts`. */
export interface HarnessRunner {
  describe(name: string, fn: () => void): void
  it(name: string, fn: () => Promise<void> | void, timeout?: number): void
}

/** A clock the ttl tests can move instead of sleeping; `ManualClock` fits. */
export interface AdvanceableClock {
  now(): number
  advance(ms: number): void
}

/** Options after defaults, as the capability files read them. */
export interface HarnessOptions {
  /** Overrides the ttl derived from `ttlGranularity` when set. */
  readonly ttlMs: number | undefined
  /** Overrides the wait derived from the ttl when set. */
  readonly ttlWaitMs: number | undefined
  readonly largeValueBytes: number
  readonly concurrency: number
  readonly timeoutMs: number
  readonly clock: AdvanceableClock | undefined
}

/** What one test body receives. */
export interface ConformanceTest {
  /** A fresh, ready store under a prefix no other test uses. */
  readonly store: Store
  /** The prefix `store` was created with, to open a second store on the same data. */
  readonly prefix: string
  /** A ttl short enough to wait out, and long enough to read the entry back before it passes. */
  readonly ttl: number
  /** Waits (or advances the clock) until an entry written with `ttl` just before is gone. */
  expire(): Promise<void>
  /** The time the store's expiry is measured against. */
  now(): number
  /** Another store from the factory, cleaned up with the first; a new prefix unless given. */
  openStore(prefix?: string): Promise<Store>
  readonly options: HarnessOptions
}

/** How a capability file registers its tests. */
export interface Harness {
  readonly options: HarnessOptions
  describe(name: string, fn: () => void): void
  /**
   * Registers a test. `waits` is how many times the body calls `expire()`, so the
   * runner's timeout leaves room for them instead of failing a slow but correct store.
   */
  test(name: string, body: (t: ConformanceTest) => Promise<void>, waits?: number): void
}

/** Default ttl per granularity: what Keyv's suite found to be stable against real servers. */
const DEFAULT_TTL = { ms: 300, s: 1_000 } as const
/** Slack past the ttl: server-side expiry is lazy or runs on a coarse tick (memcached: 1 s). */
const EXPIRY_SLACK = { ms: 400, s: 1_200 } as const
/** The longest default wait, used for timeouts because the granularity is unknown at registration. */
const LONGEST_DEFAULT_WAIT = DEFAULT_TTL.s + EXPIRY_SLACK.s

/**
 * Builds the harness. Each test gets its own prefix and its own store, and whatever
 * it opened is cleared and closed afterwards, even when the body failed, so one failing
 * test never leaves data behind on a shared server for the next run to trip over.
 *
 * @example
 * ```ts
 * const h = createHarness({ describe, it }, () => memoryStore(), options, () => `p${++n}:`)
 * h.test('get of a missing key is undefined', async ({ store }) => {
 *   assertMiss(await store.get('missing'), 'get')
 * })
 * ```
 */
export function createHarness(
  runner: HarnessRunner,
  factory: (ctx: { prefix: string }) => Store | Promise<Store>,
  options: HarnessOptions,
  nextPrefix: () => string,
): Harness {
  const longestWait = options.ttlWaitMs ?? LONGEST_DEFAULT_WAIT
  return {
    options,
    describe: (name, fn) => runner.describe(name, fn),
    test(name, body, waits = 0) {
      runner.it(
        name,
        () => runTest(factory, options, nextPrefix, body),
        options.timeoutMs + waits * longestWait,
      )
    },
  }
}

async function runTest(
  factory: (ctx: { prefix: string }) => Store | Promise<Store>,
  options: HarnessOptions,
  nextPrefix: () => string,
  body: (t: ConformanceTest) => Promise<void>,
): Promise<void> {
  const opened: Array<{ store: Store; prefix: string }> = []
  const openStore = async (prefix: string = nextPrefix()): Promise<Store> => {
    const store = await factory({ prefix })
    opened.push({ store, prefix })
    // Warming the connection first keeps connect time out of the ttl tests' windows.
    await store.ready()
    return store
  }
  let failure: { error: unknown } | undefined
  try {
    const prefix = nextPrefix()
    const store = await openStore(prefix)
    const granularity = store.capabilities.ttlGranularity === 's' ? 's' : 'ms'
    const ttl = options.ttlMs ?? DEFAULT_TTL[granularity]
    const wait = options.ttlWaitMs ?? ttl + EXPIRY_SLACK[granularity]
    assert.ok(wait > ttl, `ttlWaitMs (${wait}) must be longer than the ttl (${ttl}).`)
    const clock = options.clock
    await body({
      store,
      prefix,
      ttl,
      options,
      openStore,
      now: () => (clock === undefined ? Date.now() : clock.now()),
      expire: async () => {
        if (clock === undefined) {
          await sleep(wait)
        } else {
          clock.advance(wait)
          // Let callbacks scheduled by the store on the same tick run, as a real wait would.
          await sleep(0)
        }
      },
    })
  } catch (error) {
    failure = { error }
  }
  let closeError: unknown
  for (const { store, prefix } of opened) {
    try {
      await store.clear('')
    } catch {
      // The test may have closed the store itself: clean its keys up through a fresh
      // store on the same prefix, so that a shared server keeps nothing of the run.
      await cleanUpWithFreshStore(factory, prefix)
    }
    try {
      await store.close()
    } catch (error) {
      closeError ??= error
    }
  }
  if (failure !== undefined) throw failure.error
  if (closeError !== undefined) {
    throw new assert.AssertionError({
      message: `close() rejected after the test: ${describeError(closeError)}`,
    })
  }
}

async function cleanUpWithFreshStore(
  factory: (ctx: { prefix: string }) => Store | Promise<Store>,
  prefix: string,
): Promise<void> {
  try {
    const fresh = await factory({ prefix })
    try {
      await fresh.clear('')
    } finally {
      await fresh.close()
    }
  } catch {
    // Best effort: a store that cannot be reopened has nothing more to clean.
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: false })

/**
 * UTF-8 bytes of `text`.
 *
 * @example
 * ```ts
 * await store.set('k', bytes('value'))
 * ```
 */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text)
}

/**
 * The text of `value`, for messages and counter checks; `undefined` stays `undefined`.
 *
 * @example
 * ```ts
 * assert.equal(text(await store.get('counter')), '5')
 * ```
 */
export function text(value: Uint8Array | undefined): string | undefined {
  return value === undefined ? undefined : decoder.decode(value)
}

/**
 * Deterministic bytes that are neither constant nor text, so truncation, a text
 * round trip or an offset mistake all change them.
 *
 * @example
 * ```ts
 * const large = patternBytes(1024 * 1024, 3) // the same 1 MiB on every run
 * ```
 */
export function patternBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

/**
 * Asserts `actual` holds exactly the bytes of `expected`. `deepStrictEqual` is no use
 * here: a Buffer and a Uint8Array with the same bytes differ by prototype, and on a
 * mismatch of 1 MiB its diff is unreadable. This names the first differing byte instead.
 *
 * @example
 * ```ts
 * assertBytes(await store.get('k'), bytes('value'), "get('k')")
 * ```
 */
export function assertBytes(actual: unknown, expected: Uint8Array, what: string): void {
  if (actual === undefined) {
    assert.fail(`${what}: expected ${expected.length} bytes, got undefined (a miss)`)
  }
  if (!(actual instanceof Uint8Array)) {
    assert.fail(`${what}: expected a Uint8Array, got ${describeValue(actual)}`)
  }
  if (actual.length !== expected.length) {
    assert.fail(
      `${what}: expected ${expected.length} bytes, got ${actual.length} (${preview(actual)})`,
    )
  }
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(
        `${what}: byte ${i} is ${String(actual[i])}, expected ${String(expected[i])} (of ${expected.length} bytes)`,
      )
    }
  }
}

/**
 * Asserts a miss: `undefined`, not `null`, not an empty array.
 *
 * @example
 * ```ts
 * assertMiss(await store.get('expired'), 'get after the ttl')
 * ```
 */
export function assertMiss(actual: unknown, what: string): void {
  if (actual !== undefined) {
    assert.fail(`${what}: expected undefined (a miss), got ${describeValue(actual)}`)
  }
}

/**
 * The `code` of a thrown value. Compared instead of `instanceof`, so error classes
 * from another copy of the module (a store built against its own tiercache) still match.
 *
 * @example
 * ```ts
 * errorCode(new ClosedError('store')) // 'E_CLOSED'
 * ```
 */
export function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined
}

/**
 * Asserts that `call` returns a promise that rejects with one of `codes`. A synchronous
 * throw fails too: callers chain `.catch()` on store calls and would miss it.
 *
 * @example
 * ```ts
 * await assertRejectsWithCode(() => store.get('k'), 'E_CLOSED', 'get after close')
 * ```
 */
export async function assertRejectsWithCode(
  call: () => Promise<unknown>,
  codes: string | readonly string[],
  what: string,
): Promise<void> {
  const wanted = typeof codes === 'string' ? [codes] : codes
  let promise: Promise<unknown>
  try {
    promise = call()
  } catch (error) {
    assert.fail(`${what}: threw synchronously instead of rejecting: ${describeError(error)}`)
  }
  try {
    await promise
  } catch (error) {
    const code = errorCode(error)
    if (typeof code === 'string' && wanted.includes(code)) return
    assert.fail(
      `${what}: expected a rejection with code ${wanted.join(' or ')}, got ${describeError(error)}`,
    )
  }
  assert.fail(`${what}: expected a rejection with code ${wanted.join(' or ')}, but it resolved`)
}

/**
 * A short description of an error for assertion messages.
 *
 * @example
 * ```ts
 * describeError(new ClosedError('store')) // 'ClosedError [E_CLOSED]: The store is closed; …'
 * ```
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = errorCode(error)
    const tag =
      code === undefined ? '' : ` [${typeof code === 'string' ? code : describeValue(code)}]`
    return `${error.name}${tag}: ${error.message}`
  }
  return describeValue(error)
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (value instanceof Uint8Array) return `${value.length} bytes (${preview(value)})`
  if (Array.isArray(value)) return `an array of ${value.length}`
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return `${typeof value} ${String(value)}`
    default:
      return `a ${typeof value} (${Object.prototype.toString.call(value)})`
  }
}

function preview(value: Uint8Array): string {
  const head = Array.from(value.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join(' ')
  return value.length > 16 ? `${head} …` : head
}
