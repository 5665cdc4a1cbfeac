// Prints the one-line test summary `.ci/run` ends with, from vitest's JSON report:
//
//   N passed, N failed[, N skipped]
//
// Usage: node .ci/summary.mjs <vitest.json> [npm test exit code]
// Exits 1 when the report is missing or unreadable, when any test or test file failed,
// or when the given exit code is non-zero. The summary line is always the last line.
import console from 'node:console'
import { existsSync, readFileSync } from 'node:fs'
import process from 'node:process'

/**
 * The parts of vitest's JSON report (Jest-compatible shape) this script reads.
 * @typedef {{ status?: string }} AssertionResult
 * @typedef {{ name?: string, status?: string, message?: string,
 *             assertionResults?: AssertionResult[] }} FileResult
 * @typedef {{ numPassedTests?: number, numFailedTests?: number, numPendingTests?: number,
 *             numTodoTests?: number, testResults?: FileResult[] }} VitestReport
 */

const [reportPath = '.test-results/vitest.json', exitCodeArg = '0'] = process.argv.slice(2)
const exitCode = Number(exitCodeArg)

/**
 * Prints the summary line and exits.
 * @param {number} passed
 * @param {number} failed
 * @param {number} skipped
 * @param {boolean} ok
 * @returns {never}
 */
function finish(passed, failed, skipped, ok) {
  console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
  process.exit(ok ? 0 : 1)
}

if (!existsSync(reportPath)) {
  console.log(
    `summary: no vitest report at ${reportPath}: the build, typecheck or lint step failed, ` +
      `or vitest crashed (npm test exited with ${exitCode}). Counting the run as 1 failure.`,
  )
  finish(0, 1, 0, false)
}

/**
 * `JSON.parse` typed as returning `unknown`, so the cast below is the only claim about its shape.
 * @param {string} text
 * @returns {unknown}
 */
const parseJson = (text) => JSON.parse(text)

/** @type {VitestReport} */
let report = {}
try {
  report = /** @type {VitestReport} */ (parseJson(readFileSync(reportPath, 'utf8')))
} catch (err) {
  const reason = err instanceof Error ? err.message : String(err)
  console.log(`summary: cannot read ${reportPath}: ${reason}. Counting the run as 1 failure.`)
  finish(0, 1, 0, false)
}

const passed = report.numPassedTests ?? 0
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
// A file that fails outside any test (import error, failing beforeAll/afterAll hook) has no
// failed test of its own, so count each such file as one failure.
const fileFailures = (report.testResults ?? []).filter(
  (file) =>
    file.status === 'failed' && !(file.assertionResults ?? []).some((t) => t.status === 'failed'),
)
for (const file of fileFailures) {
  const where = file.name ?? '(unnamed file)'
  console.log(`summary: ${where} failed outside any test: ${file.message || '(no message)'}`)
}
const failed = (report.numFailedTests ?? 0) + fileFailures.length

if (exitCode !== 0 && failed === 0) {
  // vitest exits 1 without any failed test on unhandled errors/rejections (see "Unhandled
  // Errors" in the output above), which its JSON report does not record.
  console.log(`summary: npm test exited with ${exitCode} although no test failed; see above.`)
}
if (passed + failed === 0) console.log('summary: no test ran.')

finish(passed, failed, skipped, failed === 0 && exitCode === 0 && passed > 0)
