/**
 * Vitest setup file (see `setupFiles` in vitest.config.ts): a process warning is a bug.
 *
 * Node reports some real defects only as a `process` 'warning' event and a line on stderr,
 * and the test would otherwise pass: a listener leak (`MaxListenersExceededWarning`), a
 * timer longer than 2^31-1 ms silently firing after 1 ms (`TimeoutOverflowWarning`), a
 * deprecated API. This file collects every warning emitted while a test runs and fails
 * that test in `afterEach` with the warning's text. Warnings emitted outside any test
 * (while the file is collected, in `beforeAll`, or after the last test) fail the file in
 * `afterAll`.
 *
 * Unhandled rejections and uncaught exceptions need nothing here: vitest reports them as
 * "Unhandled Errors" and exits non-zero even when every test passed
 * (`dangerouslyIgnoreUnhandledErrors: false` in vitest.config.ts keeps it that way).
 *
 * Node emits 'warning' from `process.nextTick` after `process.emitWarning`, and vitest runs
 * hooks inside one promise chain, where next-tick callbacks wait until the microtask queue
 * drains. So each hook first yields one macrotask turn (`setImmediate`), or a warning raised
 * by a synchronous test would arrive only after its `afterEach` (verified: without the
 * yield, a `MaxListenersExceededWarning` from a sync test passed unnoticed). The
 * `setImmediate` used is the real one captured at load, so a test that leaves fake timers
 * installed cannot hang the hook.
 */
import { afterAll, afterEach, beforeEach } from 'vitest'

const pending: Error[] = []
const realSetImmediate = globalThis.setImmediate

async function nextMacrotask(): Promise<void> {
  await new Promise<void>((resolve) => {
    realSetImmediate(resolve)
  })
}

function onWarning(warning: Error): void {
  pending.push(warning)
}

function describeWarnings(warnings: readonly Error[]): string {
  return warnings
    .map((w) => {
      const code = (w as Error & { code?: unknown }).code
      return `  ${w.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${w.message}`
    })
    .join('\n')
}

function takeAndThrow(where: string): void {
  if (pending.length === 0) return
  const warnings = pending.splice(0, pending.length)
  const error = new Error(
    `${warnings.length} process warning(s) ${where} (test/helpers/strict-process.ts turns ` +
      `warnings into failures):\n${describeWarnings(warnings)}`,
  )
  // Point the stack at where the first warning was raised, which is where the fix is.
  if (warnings[0]?.stack !== undefined) error.stack = `${error.message}\n${warnings[0].stack}`
  throw error
}

process.on('warning', onWarning)

beforeEach(async () => {
  await nextMacrotask()
  // Anything left over was emitted between tests (e.g. by a previous test's teardown).
  takeAndThrow(
    'emitted before this test started (while collecting, in a hook, or in a previous test teardown)',
  )
})

afterEach(async () => {
  await nextMacrotask()
  takeAndThrow('emitted during this test')
})

afterAll(async () => {
  await nextMacrotask()
  process.off('warning', onWarning)
  takeAndThrow('emitted outside any test in this file')
})
