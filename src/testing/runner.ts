/**
 * The test runner a conformance suite registers its tests with: vitest's, jest's and
 * mocha's `describe` and `it` fit as they are; `timeout` is in milliseconds.
 */
import { createRequire } from 'node:module'
import type * as NodeTest from 'node:test'
import { InvalidArgumentError } from '../errors.js'

/** The two calls of a test runner a conformance suite needs. */
export interface ConformanceRunner {
  describe(name: string, fn: () => void): void
  it(name: string, fn: () => Promise<void> | void, timeout?: number): void
}

type RunnerFn = (...args: unknown[]) => unknown

/**
 * Picks the runner the caller's test file already uses (shared by every conformance
 * suite; `suite` names the suite in the error). vitest without `globals`
 * exposes nothing global, and `node:test` inside a vitest worker would register tests
 * vitest never sees, so that case asks for an explicit runner instead of passing empty.
 */
export function defaultRunner(suite: string): ConformanceRunner {
  const scope = globalThis as { describe?: unknown; it?: unknown }
  const globalDescribe = scope.describe
  const globalIt = scope.it
  if (typeof globalDescribe === 'function' && typeof globalIt === 'function') {
    return {
      describe: (name, fn) => void (globalDescribe as RunnerFn)(name, fn),
      it: (name, fn, timeout) => {
        const test = (globalIt as RunnerFn)(name, fn, timeout)
        // mocha ignores a third argument; its Test object takes the timeout instead.
        if (timeout !== undefined && hasTimeoutMethod(test)) test.timeout(timeout)
      },
    }
  }
  if (process.env.VITEST !== undefined) {
    throw new InvalidArgumentError(
      `${suite} runs under vitest without globals: pass { runner: { describe, it } } imported from 'vitest', or set test.globals: true.`,
    )
  }
  const { describe, it } = loadNodeTest()
  return {
    describe: (name, fn) => void describe(name, fn),
    it: (name, fn, timeout) =>
      void it(name, timeout === undefined ? {} : { timeout }, async () => {
        await fn()
      }),
  }
}

/**
 * Loads `node:test` only when it is the runner: a static import would make jest, whose
 * module registry may not know prefix-only builtins, fail on import even with its globals.
 */
function loadNodeTest(): typeof NodeTest {
  const getBuiltinModule = (process as { getBuiltinModule?: (id: string) => unknown })
    .getBuiltinModule
  if (typeof getBuiltinModule === 'function') {
    return getBuiltinModule('node:test') as typeof NodeTest
  }
  // Node < 20.16: any require resolves builtins, whatever file it is anchored to.
  return createRequire(`${process.cwd()}/`)('node:test') as typeof NodeTest
}

function hasTimeoutMethod(value: unknown): value is { timeout(ms: number): unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { timeout?: unknown }).timeout === 'function'
  )
}
