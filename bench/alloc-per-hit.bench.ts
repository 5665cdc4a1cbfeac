/**
 * Heap bytes allocated per awaited-style L1 hit (one call, not awaited), for
 * tiercache and for the promise-only baselines. Runs bench/alloc-child.ts in a
 * fresh process with --expose-gc; `npm run bench` runs it last.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { table } from './harness.js'

const CHILD = fileURLToPath(new URL('./alloc-child.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))

export function runAllocPerHit(): void {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const line = out.split('\n').find((l) => l.startsWith('{'))
  if (line === undefined) throw new Error('alloc child printed no result')
  const results = JSON.parse(line) as Record<string, number>
  const baseline = results['lru-cache get (async)']!
  console.log('\n## Heap bytes allocated per hit (median of 25 batches of 2,000 calls)\n')
  console.log(
    table(
      ['call', 'bytes per call', 'minus lru-cache async get'],
      Object.entries(results).map(([name, bytes]) => [
        name,
        bytes.toFixed(1),
        (bytes - baseline).toFixed(1),
      ]),
    ),
  )
  const extra = results['tiercache get']! - baseline
  console.log(
    `\nallocation per tiercache get hit beyond the promise: ${extra.toFixed(1)} bytes (target: none) -> ${
      extra < 8 ? 'met' : 'NOT met'
    }`,
  )
}

if (import.meta.url === `file://${process.argv[1]}`) runAllocPerHit()
