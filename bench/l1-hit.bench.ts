/**
 * L1 hit benchmark: tiercache's memory tier against lru-cache, a Map and the
 * multi-tier peers (BentoCache, cache-manager, cacheable), all in one run, on the
 * same 10k keys of ~100-byte objects, prefilled.
 *
 * Calls are sequential and awaited (`await cache.get(key)` over a shuffled key
 * order, cycling), since that is how the targets are stated. After a warm-up
 * round, every (operation, contender) pair is timed for `--ms` in each of
 * `--rounds` rounds; contenders are interleaved and the starting contender rotates
 * each round. The tables show the median ops/s. Nothing here fails on timings.
 *
 *   npm run bench                       # this, then bench/heap-per-entry.bench.ts and bench/alloc-per-hit.bench.ts
 *   npx tsx bench/l1-hit.bench.ts --rounds 7 --ms 500 --no-heap
 *   npx tsx bench/l1-hit.bench.ts --peers-only   # without tiercache
 *   npx tsx bench/l1-hit.bench.ts --only tiercache,lru --no-heap   # contenders by name
 */

import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { peerContenders, type Contender, type Loader } from './contenders.js'
import { makeDataset, makeUser, type Dataset, type User } from './fixtures.js'
import {
  Cursor,
  formatOps,
  median,
  opsPerSecond,
  rotate,
  runFor,
  table,
  type Op,
} from './harness.js'
import { runAllocPerHit } from './alloc-per-hit.bench.js'
import { runHeapPerEntry } from './heap-per-entry.bench.js'

const KEY_COUNT = 10_000

type OpName = 'get' | 'getOrSet' | 'set'

interface OpSpec {
  name: OpName
  title: string
  /** `set` writes the alternate values so that every call really replaces an entry. */
  useAltValues: boolean
  bind: (c: Contender) => Op
}

let loaderCalls = 0
const fallback = makeUser(-1)
const loader: Loader = async () => {
  loaderCalls++
  return fallback
}

const OPS: OpSpec[] = [
  { name: 'get', title: 'L1 hit `get`', useAltValues: false, bind: (c) => c.get },
  {
    name: 'getOrSet',
    title: '`getOrSet` hit (loader never called)',
    useAltValues: false,
    bind: (c) => c.getOrSetWith(loader),
  },
  {
    name: 'set',
    title: '`set` (overwrite of an existing key)',
    useAltValues: true,
    bind: (c) => c.set,
  },
]

async function loadContenders(peersOnly: boolean): Promise<Contender[]> {
  const peers = peerContenders()
  if (peersOnly) return peers
  const { tiercacheContender } = await import('./tiercache-contender.js')
  return [tiercacheContender(), ...peers]
}

async function prefillAndCheck(contenders: Contender[], data: Dataset): Promise<void> {
  for (const c of contenders) {
    for (let i = 0; i < data.keys.length; i++) await c.set(data.keys[i]!, data.values[i]!)
  }
  for (const c of contenders) {
    for (let i = 0; i < data.keys.length; i++) {
      const v = (await c.get(data.keys[i]!)) as User | undefined
      if (v === undefined || v.id !== i || v.email !== data.values[i]!.email) {
        throw new Error(
          `${c.name}: prefilled key ${data.keys[i]} is not a hit (got ${JSON.stringify(v)})`,
        )
      }
    }
  }
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      rounds: { type: 'string', default: '9' },
      ms: { type: 'string', default: '300' },
      'peers-only': { type: 'boolean', default: false },
      only: { type: 'string' },
      'no-heap': { type: 'boolean', default: false },
      'heap-n': { type: 'string', default: '1000000' },
    },
  })
  const rounds = Number(args.rounds)
  const ms = Number(args.ms)

  console.log('# L1 hit, getOrSet hit and set (memory tier)\n')
  console.log(
    `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores`,
  )
  console.log(
    `${KEY_COUNT.toLocaleString('en-US')} keys of ~100-byte objects, prefilled; sequential awaited calls ` +
      `over a shuffled key order; 1 warm-up round + ${rounds} timed rounds of ~${ms} ms per ` +
      `contender and operation, interleaved; median ops/s\n`,
  )

  const load = (): string =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')
  console.log(`load average at start: ${load()}\n`)
  const data = makeDataset(KEY_COUNT)
  const filters = args.only?.split(',').map((f) => f.trim().toLowerCase())
  const contenders = (await loadContenders(args['peers-only'])).filter(
    (c) => filters === undefined || filters.some((f) => c.name.toLowerCase().includes(f)),
  )
  await prefillAndCheck(contenders, data)

  const cursors = new Map<string, Cursor>()
  const samples = new Map<string, number[]>()
  const id = (op: OpName, c: Contender): string => `${op}\u0000${c.name}`

  const runRound = async (round: number, record: boolean): Promise<void> => {
    for (const spec of OPS) {
      for (const c of rotate(contenders, round)) {
        const op = spec.bind(c)
        const key = id(spec.name, c)
        let cursor = cursors.get(key)
        if (cursor === undefined) cursors.set(key, (cursor = new Cursor()))
        const sample = await runFor(op, data, spec.useAltValues, cursor, ms)
        if (!record) continue
        let list = samples.get(key)
        if (list === undefined) samples.set(key, (list = []))
        list.push(opsPerSecond(sample))
      }
    }
  }

  await runRound(0, false)
  for (let r = 1; r <= rounds; r++) await runRound(r, true)

  const list = (op: OpName, c: Contender | undefined): number[] | undefined =>
    c === undefined ? undefined : samples.get(id(op, c))
  const result = (op: OpName, c: Contender | undefined): number | undefined => {
    const xs = list(op, c)
    return xs === undefined ? undefined : median(xs)
  }
  /**
   * Median over rounds of a/b measured in the same round. Contenders of one round
   * run close together in time, so this cancels slow drift in machine load better
   * than a ratio of two medians.
   */
  const paired = (
    opA: OpName,
    a: Contender | undefined,
    opB: OpName,
    b: Contender | undefined,
  ): number | undefined => {
    const xs = list(opA, a)
    const ys = list(opB, b)
    if (xs === undefined || ys === undefined) return undefined
    return median(xs.map((x, i) => x / ys[i]!))
  }
  const fmt = (x: number | undefined, digits = 2): string =>
    x === undefined ? 'n/a' : x.toFixed(digits)
  const tier = contenders.find((c) => c.kind === 'tiercache')

  for (const spec of OPS) {
    const rows: string[][] = []
    for (const c of contenders) {
      const xs = list(spec.name, c)
      if (xs === undefined) continue
      const m = median(xs)
      const spread = ((Math.max(...xs) - Math.min(...xs)) / m) * 100
      rows.push([
        c.name,
        formatOps(m),
        `${spread.toFixed(0)}%`,
        `${fmt(tier === undefined ? undefined : result(spec.name, tier)! / m)}x`,
        `${fmt(paired(spec.name, tier, spec.name, c))}x`,
      ])
    }
    console.log(`## ${spec.title}\n`)
    console.log(
      table(
        [
          'contender',
          'ops/s (median)',
          'spread (max-min)/median',
          'tiercache / contender (medians)',
          'tiercache / contender (per round)',
        ],
        rows,
      ),
    )
    console.log('')
  }

  const lru = contenders.find((c) => c.name.startsWith('lru-cache'))
  const peers = contenders.filter((c) => c.kind === 'peer')
  let bestPeer: Contender | undefined
  for (const c of peers) {
    if (bestPeer === undefined || (result('get', c) ?? 0) > (result('get', bestPeer) ?? 0))
      bestPeer = c
  }
  const verdict = (x: number | undefined, ok: (x: number) => boolean): string =>
    x === undefined ? '' : ok(x) ? ' -> met' : ' -> NOT met'
  const ofMedians = (a: number | undefined, b: number | undefined): string =>
    a === undefined || b === undefined ? 'n/a' : (a / b).toFixed(2)

  const vsLru = paired('get', tier, 'get', lru)
  const vsPeer = paired('get', tier, 'get', bestPeer)
  const gos = paired('getOrSet', tier, 'get', tier)
  console.log('## Targets\n')
  console.log('(median of per-round ratios; the ratio of the medians in brackets)\n')
  if (vsLru !== undefined) {
    console.log(
      `L1 get vs lru-cache (async): ${fmt(vsLru, 3)}x (target ≥ 0.80)${verdict(vsLru, (x) => x >= 0.8)}` +
        ` [${ofMedians(result('get', tier), result('get', lru))}x]`,
    )
  }
  if (vsPeer !== undefined) {
    console.log(
      `L1 get vs best multi-tier peer (BentoCache/cache-manager/cacheable): ${fmt(vsPeer, 3)}x` +
        ` vs ${bestPeer?.name ?? 'n/a'} (target ≥ 5x)${verdict(vsPeer, (x) => x >= 5)}` +
        ` [${ofMedians(result('get', tier), result('get', bestPeer))}x]`,
    )
  }
  if (gos !== undefined) {
    console.log(
      `getOrSet hit / get hit: ${fmt(gos, 3)} (target ≥ 0.85)${verdict(gos, (x) => x >= 0.85)}` +
        ` [${ofMedians(result('getOrSet', tier), result('get', tier))}]`,
    )
  }
  console.log('')
  console.log('getOrSet hit / get hit, every contender (context, per round):')
  for (const c of contenders) {
    console.log(`  ${c.name}: ${fmt(paired('getOrSet', c, 'get', c))}`)
  }
  console.log(`\nloader calls during the getOrSet-hit runs: ${loaderCalls} (must be 0)\n`)
  if (loaderCalls !== 0)
    console.log('WARNING: a loader ran, so some getOrSet numbers are not pure hits\n')

  console.log(`load average at end of the timed rounds: ${load()}\n`)
  for (const c of contenders) await c.close()

  if (!args['no-heap']) await runHeapPerEntry(Number(args['heap-n']), args['peers-only'])
  if (!args['no-heap'] && !args['peers-only']) runAllocPerHit()
}

await main()
