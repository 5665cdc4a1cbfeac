/**
 * Heap bytes per entry with 1M small entries, each contender in a fresh child
 * process (bench/heap-child.ts). Run on its own with
 * `npx tsx bench/heap-per-entry.bench.ts [n]`; `npm run bench` runs it after the
 * L1 hit benchmark.
 */

import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { HeapContender, HeapResult, HeapUnavailable } from './heap-child.js'
import { table } from './harness.js'

const CHILD = fileURLToPath(new URL('./heap-child.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))

function runChild(contender: HeapContender, n: number): Promise<HeapResult | HeapUnavailable> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', CHILD, contender, String(n)],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => (out += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`heap child for ${contender} exited with ${code}`))
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line === undefined)
        return reject(new Error(`heap child for ${contender} printed no result`))
      resolve(JSON.parse(line) as HeapResult | HeapUnavailable)
    })
  })
}

export async function runHeapPerEntry(n: number, peersOnly = false): Promise<void> {
  const contenders: HeapContender[] = peersOnly
    ? ['lru-cache', 'map']
    : ['tiercache-lru', 'tiercache-arc', 'tiercache-tinylfu', 'tiercache', 'lru-cache', 'map']
  const results = new Map<HeapContender, HeapResult>()
  // Policies the memory store does not accept yet (InvalidArgumentError in the child).
  const unavailable = new Map<HeapContender, string>()
  for (const c of contenders) {
    const r = await runChild(c, n)
    if ('unavailable' in r) unavailable.set(c, r.unavailable)
    else results.set(c, r)
  }

  const total = (r: HeapResult): number => (r.heapUsedDelta + r.arrayBuffersDelta) / r.n
  const heapOnly = (r: HeapResult): number => r.heapUsedDelta / r.n
  const lru = results.get('lru-cache')!
  const label: Record<HeapContender, string> = {
    'tiercache-lru': "tiercache memoryStore (policy: 'lru')",
    'tiercache-arc': "tiercache memoryStore (policy: 'arc')",
    'tiercache-tinylfu': "tiercache memoryStore (policy: 'tinylfu')",
    tiercache: 'tiercache memoryStore (default policy)',
    'lru-cache': 'lru-cache',
    map: 'Map',
  }
  const rows = contenders.map((c) => {
    const r = results.get(c)
    if (r === undefined) return [label[c], 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a']
    return [
      label[r.contender],
      heapOnly(r).toFixed(1),
      (r.arrayBuffersDelta / r.n).toFixed(1),
      total(r).toFixed(1),
      `${(total(r) / total(lru)).toFixed(2)}x`,
      r.size === r.n ? 'yes' : `NO (${r.size})`,
      (r.fillMs / 1000).toFixed(2),
    ]
  })
  console.log(
    `## Heap per entry (${n.toLocaleString('en-US')} entries, key \`key:\${i}\`, value i)\n`,
  )
  console.log(
    'Each contender in a fresh `node --expose-gc --import tsx bench/heap-child.ts <contender> <n>`;\n' +
      'bytes = (heapUsed + arrayBuffers after filling) - (before constructing the cache), after gc, / n;\n' +
      'capacity (max / maxEntries) = n + n/8.\n',
  )
  console.log(
    table(
      [
        'contender',
        'heapUsed B/entry',
        'arrayBuffers B/entry',
        'total B/entry',
        'vs lru-cache',
        'all present',
        'fill s',
      ],
      rows,
    ),
  )
  console.log('')
  for (const [c, why] of unavailable) console.log(`${label[c]}: n/a (${why})`)
  if (unavailable.size > 0) console.log('')
  const tier = results.get('tiercache-lru')
  if (tier !== undefined) {
    const r = total(tier) / total(lru)
    console.log(
      `heap per entry, tiercache LRU / lru-cache: ${r.toFixed(2)}x (target ≤ 1.25)${r <= 1.25 ? ' -> met' : ' -> NOT met'}` +
        ` [heapUsed only: ${(heapOnly(tier) / heapOnly(lru)).toFixed(2)}x]`,
    )
  }
  // The other policies, against their own target (LRU's, above, is the stricter 1.25).
  const policies: [HeapContender, string][] = [
    ['tiercache-arc', 'ARC'],
    ['tiercache-tinylfu', 'W-TinyLFU'],
  ]
  for (const [c, name] of policies) {
    if (peersOnly) break
    const res = results.get(c)
    if (res === undefined) {
      console.log(`heap per entry, tiercache ${name} / lru-cache: n/a (target ≤ 1.5)`)
      continue
    }
    const r = total(res) / total(lru)
    console.log(
      `heap per entry, tiercache ${name} / lru-cache: ${r.toFixed(2)}x (target ≤ 1.5)${r <= 1.5 ? ' -> met' : ' -> NOT met'}` +
        ` [heapUsed only: ${(heapOnly(res) / heapOnly(lru)).toFixed(2)}x]`,
    )
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]
if (invokedDirectly)
  await runHeapPerEntry(Number(process.argv[2] ?? 1_000_000), process.argv.includes('--peers-only'))
