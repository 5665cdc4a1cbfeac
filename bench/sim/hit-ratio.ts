/**
 * Hit-ratio simulator for the memory tier's eviction policies: replays the shared
 * traces (/work/shared/traces) and seeded Zipf workloads against tiercache's
 * policies, lru-cache and OPT, at the sizes REFERENCES.md publishes numbers for,
 * and prints one Markdown table per trace with the reference columns and flags.
 *
 *   npm run bench:hitratio                          # everything (~minutes)
 *   npm run bench:hitratio -- --quick               # no P6, no orm-busy, no OPT at >= 100k entries
 *   npm run bench:hitratio -- --trace OLTP,gli --trace zipf
 *   npm run bench:hitratio -- --policies lru,arc,tinylfu   # also: lru-cache, opt
 *   npm run bench:hitratio -- --hash fnv --grow     # hash keys as the store does; grow slots as the store does
 *
 * Policies: `lru` is src/memory/lru.ts; `arc` and `tinylfu` are imported
 * dynamically from src/memory/arc.ts (ArcPolicy) and src/memory/tinylfu.ts
 * (TinyLfuPolicy), and print `n/a` when the module is missing or fails to load.
 *
 * Flags in the tables: `!` after LRU or lru-cache: off the exact reference LRU by
 * more than 0.01 pp; after ARC: off the reference ARC by more than 0.1 pp (0.05 pp
 * at the ARC paper's cells); after OPT: off the reference OPT by more than 0.01 pp;
 * after W-TinyLFU: more than 1 pp below LRU, or more than 1 pp below Caffeine 2.3; `!!`:
 * above OPT.
 */

import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { LruPolicy } from '../../src/memory/lru.js'
import type { EvictionPolicy, PolicyFactory } from '../../src/memory/policy.js'
import {
  REFERENCES,
  TINYLFU_FLOORS,
  TINYLFU_NOT_BELOW_LRU,
  TINYLFU_P3_VS_ARC,
  referencesFor,
  type ReferenceRow,
} from './references.js'
import {
  nextUses,
  replayLruCache,
  replayOpt,
  replayPolicy,
  type ReplayKeys,
  type ReplayResult,
} from './replay.js'
import {
  TRACE_SPECS,
  ZIPF_KEYS,
  ZIPF_REQUESTS,
  ZIPF_SEED,
  keyHashes,
  loadTrace,
  maxHitRatio,
  zipfTrace,
  type HashMode,
  type Trace,
} from './traces.js'

const COLUMNS = ['lru', 'lru-cache', 'arc', 'tinylfu', 'opt'] as const
type Column = (typeof COLUMNS)[number]
const TITLES: Record<Column, string> = {
  lru: 'LRU',
  'lru-cache': 'lru-cache',
  arc: 'ARC',
  tinylfu: 'W-TinyLFU',
  opt: 'OPT',
}

/** Trace order of the run: REFERENCES.md's sections, then its "computed only" traces. */
const TRACE_ORDER = [
  'OLTP',
  'gli',
  'loop',
  'sprite',
  'multi2',
  'cpp',
  'web07',
  'orm-busy',
  'P3',
  'P6',
  'multi1',
  'multi3',
  '2_pools',
  'cs',
  'ps',
  'scan',
]
const ZIPF_EXPONENTS = [0.8, 1.0, 1.2]
const ZIPF_SIZES = [100, 500, 1_000, 5_000, 10_000, 25_000]
const QUICK_SKIPS = new Set(['P6', 'orm-busy'])
/** In --quick, OPT runs only below this size. */
const QUICK_OPT_LIMIT = 100_000
/** When one OPT replay of a trace takes longer, OPT is skipped at the larger sizes of that trace. */
const OPT_BUDGET_MS = 60_000

const EPS = 1e-9
const LRU_TOLERANCE = 0.01
const ARC_TOLERANCE = 0.1
const ARC_PAPER_TOLERANCE = 0.05
const OPT_TOLERANCE = 0.01
const TINYLFU_SLACK = 1

/** A policy column: a factory, or why there is none. */
type Loaded = { factory: PolicyFactory; source: string } | { error: string; source: string }

interface Cell {
  /** Hit ratio in percent. */
  value?: number
  /** `n/a` (policy not available or not selected), `skip` (OPT not run), `err`. */
  status: 'ok' | 'n/a' | 'skip' | 'err'
}

interface RowResult {
  size: number
  cells: Record<Column, Cell>
  ref: ReferenceRow | undefined
}

/** Every measured row, by workload name, for the bars at the end. */
const measured = new Map<string, RowResult[]>()
const timeByColumn = new Map<Column, number>(COLUMNS.map((c) => [c, 0]))

async function loadPolicy(file: string, exportName: string): Promise<Loaded> {
  const source = `${exportName} from src/memory/${file.replace(/\.js$/, '.ts')}`
  try {
    const url = new URL(`../../src/memory/${file}`, import.meta.url).href
    const mod = (await import(url)) as Record<string, unknown>
    const exported = mod[exportName]
    if (typeof exported !== 'function') return { error: `no export ${exportName}`, source }
    const Policy = exported as new (maxEntries: number, capacity: number) => EvictionPolicy
    const factory: PolicyFactory = (maxEntries, capacity) => new Policy(maxEntries, capacity)
    factory(16, 17) // fail here, once, rather than in every cell
    return { factory, source }
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err)
    return { error: message, source }
  }
}

/**
 * A Markdown table (as bench/harness.ts `table`, with a choice of alignment):
 * numeric columns right-aligned, the columns in `left` left-aligned.
 */
function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  left: readonly number[] = [0],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const isLeft = (i: number): boolean => left.includes(i)
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (isLeft(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  const rule = `| ${widths.map((w, i) => (isLeft(i) ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

function pct(ratio: number): number {
  return ratio * 100
}

function fmt(value: number | undefined): string {
  return value === undefined ? '' : value.toFixed(2)
}

function lruCacheVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../node_modules/lru-cache/package.json', import.meta.url), 'utf8'),
    ) as { version?: string }
    return pkg.version ?? '?'
  } catch {
    return '?'
  }
}

interface Options {
  columns: Column[]
  quick: boolean
  hash: HashMode
  grow: boolean
  factories: Partial<Record<Column, Loaded>>
}

/** Replays one workload at every size and prints its table. */
function runWorkload(
  trace: Trace,
  sizes: readonly number[],
  options: Options,
  header: readonly string[],
): void {
  const refs = referencesFor(trace.name)
  const hashes = keyHashes(trace.keys, options.hash)
  const keys: ReplayKeys = { ids: trace.ids, hashes: hashes.hashes }
  const max = pct(maxHitRatio(trace))
  const errors = new Map<string, string>()
  const notes: string[] = []
  let next: Int32Array | undefined
  let optTooSlow = false
  const started = performance.now()

  const rowsOut: RowResult[] = []
  for (const size of sizes) {
    const cells = {} as Record<Column, Cell>
    for (const column of COLUMNS) {
      if (!options.columns.includes(column)) {
        cells[column] = { status: 'n/a' }
        continue
      }
      let run: () => ReplayResult
      if (column === 'lru-cache') {
        run = () => replayLruCache(keys, size)
      } else if (column === 'opt') {
        if (options.quick && size >= QUICK_OPT_LIMIT) {
          cells.opt = { status: 'skip' }
          continue
        }
        if (optTooSlow) {
          cells.opt = { status: 'skip' }
          continue
        }
        run = () => {
          next ??= nextUses(trace.ids, trace.unique)
          return replayOpt(keys, size, next)
        }
      } else {
        const loaded = options.factories[column]
        if (loaded === undefined || 'error' in loaded) {
          cells[column] = { status: 'n/a' }
          continue
        }
        const { factory } = loaded
        run = () => replayPolicy(factory, keys, size, { growLikeStore: options.grow })
      }
      try {
        const result = run()
        timeByColumn.set(column, timeByColumn.get(column)! + result.ms)
        cells[column] = { value: pct(result.hitRatio), status: 'ok' }
        if (column === 'opt' && result.ms > OPT_BUDGET_MS) {
          optTooSlow = true
          notes.push(
            `OPT took ${(result.ms / 1000).toFixed(0)} s at ${size.toLocaleString('en-US')}: skipped at larger sizes`,
          )
        }
      } catch (err) {
        cells[column] = { status: 'err' }
        const message = err instanceof Error ? err.message : String(err)
        if (!errors.has(column)) errors.set(column, `${TITLES[column]} at ${size}: ${message}`)
      }
    }
    rowsOut.push({ size, cells, ref: refs?.rows.find((r) => r.size === size) })
  }
  measured.set(trace.name, rowsOut)

  for (const line of header) console.log(line)
  console.log(`hashes: ${hashes.how}`)
  console.log('')
  console.log(renderTable(rowsOut, max, options))
  console.log('')
  for (const message of errors.values()) console.log(`error: ${message}`)
  for (const note of notes) console.log(`note: ${note}`)
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)\n`)
}

/** Marks and reasons for one row. */
function flagsOf(row: RowResult): { marks: Partial<Record<Column, string>>; reasons: string[] } {
  const marks: Partial<Record<Column, string>> = {}
  const reasons: string[] = []
  const { cells, ref } = row
  const v = (c: Column): number | undefined => cells[c].value
  const mark = (c: Column, m: string, reason: string): void => {
    marks[c] = (marks[c] ?? '') === '!!' ? '!!' : m
    reasons.push(reason)
  }
  for (const c of ['lru', 'lru-cache'] as const) {
    const x = v(c)
    if (x !== undefined && ref?.lru !== undefined && Math.abs(x - ref.lru) > LRU_TOLERANCE + EPS) {
      mark(c, '!', `${TITLES[c]} ≠ ref ${signed(x - ref.lru)}`)
    }
  }
  const arc = v('arc')
  if (
    arc !== undefined &&
    ref?.arc !== undefined &&
    Math.abs(arc - ref.arc) > ARC_TOLERANCE + EPS
  ) {
    mark('arc', '!', `ARC vs ref ${signed(arc - ref.arc)}`)
  }
  if (
    arc !== undefined &&
    ref?.paperArc !== undefined &&
    Math.abs(arc - ref.paperArc) > ARC_PAPER_TOLERANCE + EPS
  ) {
    mark('arc', '!', `ARC vs paper ${signed(arc - ref.paperArc)}`)
  }
  const opt = v('opt')
  if (
    opt !== undefined &&
    ref?.opt !== undefined &&
    Math.abs(opt - ref.opt) > OPT_TOLERANCE + EPS
  ) {
    mark('opt', '!', `OPT ≠ ref ${signed(opt - ref.opt)}`)
  }
  const tinylfu = v('tinylfu')
  const lru = v('lru') ?? ref?.lru
  if (tinylfu !== undefined && lru !== undefined && tinylfu < lru - TINYLFU_SLACK - EPS) {
    mark('tinylfu', '!', `W-TinyLFU < LRU ${signed(tinylfu - lru)}`)
  }
  if (
    tinylfu !== undefined &&
    ref?.caffeine !== undefined &&
    tinylfu < ref.caffeine - TINYLFU_SLACK - EPS
  ) {
    mark('tinylfu', '!', `W-TinyLFU < Caffeine ${signed(tinylfu - ref.caffeine)}`)
  }
  // Nothing above OPT: the measured OPT, else the reference OPT (rounded: 0.005 slack).
  const bound = opt ?? (ref?.opt === undefined ? undefined : ref.opt + 0.005)
  if (bound !== undefined) {
    for (const c of ['lru', 'lru-cache', 'arc', 'tinylfu'] as const) {
      const x = v(c)
      if (x !== undefined && x > bound + EPS) {
        marks[c] = '!!'
        reasons.push(`${TITLES[c]} > OPT`)
      }
    }
  }
  return { marks, reasons }
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(2)}`
}

function renderTable(rowsOut: readonly RowResult[], max: number, options: Options): string {
  const shown = COLUMNS.filter((c) => options.columns.includes(c))
  const refColumns: { key: keyof ReferenceRow; title: string }[] = [
    { key: 'lru', title: 'LRU ref' },
    { key: 'arc', title: 'ARC ref' },
    { key: 'opt', title: 'OPT ref' },
    { key: 'caffeine', title: 'Caffeine 2.3 ref' },
    { key: 'theine', title: 'theine ref' },
    { key: 'paperArc', title: 'ARC paper' },
  ]
  const usedRefs = refColumns.filter((rc) => rowsOut.some((r) => r.ref?.[rc.key] !== undefined))
  const header = [
    'size',
    ...shown.map((c) => TITLES[c]),
    'max',
    ...usedRefs.map((rc) => rc.title),
    'flags',
  ]
  const rows = rowsOut.map((row) => {
    const { marks, reasons } = flagsOf(row)
    return [
      row.size.toLocaleString('en-US'),
      ...shown.map((c) => {
        const cell = row.cells[c]
        if (cell.status === 'ok') return `${fmt(cell.value)}${marks[c] ?? ''}`
        return cell.status === 'skip' ? '—' : cell.status
      }),
      max.toFixed(2),
      ...usedRefs.map((rc) => fmt(row.ref?.[rc.key])),
      reasons.join('; '),
    ]
  })
  return table(header, rows, [0, header.length - 1])
}

// ---------------------------------------------------------------------------
// Suggested bars (REFERENCES.md, "Suggested bars for issue 3")
// ---------------------------------------------------------------------------

function cellAt(trace: string, size: number, column: Column): number | undefined {
  return measured.get(trace)?.find((r) => r.size === size)?.cells[column].value
}

function where(trace: string, size: number): string {
  return `${trace} ${size.toLocaleString('en-US')}`
}

/** Checks every measured cell with a reference of `refKey` against `tolerance`. */
function closeness(
  column: Column,
  refKey: 'lru' | 'arc' | 'opt' | 'paperArc',
  tolerance: number,
): [string, string] {
  let count = 0
  let worst = -1
  let worstAt = ''
  const off: string[] = []
  for (const [trace, rowsOut] of measured) {
    for (const row of rowsOut) {
      const ref = row.ref?.[refKey]
      const value = row.cells[column].value
      if (ref === undefined || value === undefined) continue
      count++
      const gap = Math.abs(value - ref)
      if (gap > worst) {
        worst = gap
        worstAt = where(trace, row.size)
      }
      if (gap > tolerance + EPS) off.push(`${where(trace, row.size)} ${signed(value - ref)}`)
    }
  }
  if (count === 0) return ['no cell measured', 'n/a']
  const summary = `${count} cells, worst gap ${worst.toFixed(3)} (${worstAt})`
  if (off.length === 0) return [summary, 'met']
  const shown = off.slice(0, 6).join(', ') + (off.length > 6 ? `, … (${off.length} in all)` : '')
  return [`${summary}; off: ${shown}`, 'NOT met']
}

function printBars(options: Options): void {
  const rows: string[][] = []
  const add = (bar: string, check: string, [measuredText, verdict]: [string, string]): void => {
    rows.push([bar, check, measuredText, verdict])
  }
  add('1', 'LRU (tiercache LruPolicy) = ours LRU ±0.01', closeness('lru', 'lru', LRU_TOLERANCE))
  add(
    '1',
    'lru-cache = ours LRU ±0.01 (replay check)',
    closeness('lru-cache', 'lru', LRU_TOLERANCE),
  )
  add('2', 'ARC within 0.1 of ours ARC', closeness('arc', 'arc', ARC_TOLERANCE))
  add(
    '2',
    'ARC at the paper cells ±0.05 (OLTP 1,000; P3, P6 32,768)',
    closeness('arc', 'paperArc', ARC_PAPER_TOLERANCE),
  )
  for (const floor of TINYLFU_FLOORS) {
    const value = cellAt(floor.trace, floor.size, 'tinylfu')
    const ran = measured.has(floor.trace)
    add('3', `W-TinyLFU ${where(floor.trace, floor.size)} ≥ ${floor.min} (${floor.why})`, [
      value === undefined ? (ran ? 'n/a' : 'trace not run') : value.toFixed(2),
      value === undefined ? 'n/a' : value >= floor.min - EPS ? 'met' : 'NOT met',
    ])
  }
  for (const rule of TINYLFU_NOT_BELOW_LRU) {
    const range =
      rule.from === undefined
        ? 'all sizes'
        : `${rule.from.toLocaleString('en-US')}..${rule.to!.toLocaleString('en-US')}`
    const rowsOut = (measured.get(rule.trace) ?? []).filter(
      (r) => rule.from === undefined || (r.size >= rule.from && r.size <= rule.to!),
    )
    let worst: number | undefined
    let worstSize = 0
    for (const r of rowsOut) {
      const t = r.cells.tinylfu.value
      const l = r.cells.lru.value ?? r.ref?.lru
      if (t === undefined || l === undefined) continue
      if (worst === undefined || t - l < worst) {
        worst = t - l
        worstSize = r.size
      }
    }
    add('3', `W-TinyLFU ≥ LRU − 1 on ${rule.trace} (${range})`, [
      worst === undefined
        ? measured.has(rule.trace)
          ? 'n/a'
          : 'trace not run'
        : `worst ${signed(worst)} pp (at ${worstSize.toLocaleString('en-US')})`,
      worst === undefined ? 'n/a' : worst >= -TINYLFU_SLACK - EPS ? 'met' : 'NOT met',
    ])
  }
  {
    let worst: number | undefined
    let worstSize = 0
    let against = ''
    for (const r of measured.get('P3') ?? []) {
      const t = r.cells.tinylfu.value
      const a = r.cells.arc.value ?? r.ref?.arc
      if (t === undefined || a === undefined) continue
      against = r.cells.arc.value === undefined ? 'ours ARC ref' : 'measured ARC'
      if (worst === undefined || t - a < worst) {
        worst = t - a
        worstSize = r.size
      }
    }
    add('3', `W-TinyLFU on P3 within ${TINYLFU_P3_VS_ARC} pp of ARC (all sizes)`, [
      worst === undefined
        ? measured.has('P3')
          ? 'n/a'
          : 'trace not run'
        : `worst ${signed(worst)} pp vs ${against} (at ${worstSize.toLocaleString('en-US')})`,
      worst === undefined ? 'n/a' : worst >= -TINYLFU_P3_VS_ARC - EPS ? 'met' : 'NOT met',
    ])
  }
  rows.push([
    '4',
    'TinyLFU admission alone (Ristretto-style)',
    'not a tiercache policy; not measured',
    'n/a',
  ])
  {
    let cells = 0
    const above: string[] = []
    for (const [trace, rowsOut] of measured) {
      for (const r of rowsOut) {
        const bound =
          r.cells.opt.value ?? (r.ref?.opt === undefined ? undefined : r.ref.opt + 0.005)
        if (bound === undefined) continue
        for (const c of ['lru', 'lru-cache', 'arc', 'tinylfu'] as const) {
          const x = r.cells[c].value
          if (x === undefined) continue
          cells++
          if (x > bound + EPS) above.push(`${TITLES[c]} ${where(trace, r.size)}`)
        }
      }
    }
    rows.push([
      '5',
      'nothing above OPT (measured OPT, else ours OPT)',
      `${cells} cells${above.length > 0 ? `; above: ${above.slice(0, 6).join(', ')}` : ''}`,
      cells === 0 ? 'n/a' : above.length === 0 ? 'met' : 'NOT met',
    ])
  }
  rows.push([
    '—',
    'OPT (this replay) = ours OPT ±0.01 (replay check)',
    ...closeness('opt', 'opt', OPT_TOLERANCE),
  ])
  console.log('#### Suggested bars (REFERENCES.md, "Suggested bars for issue 3")\n')
  console.log(table(['bar', 'check', 'measured', 'result'], rows, [0, 1, 2, 3]))
  console.log('')
  if (options.quick)
    console.log('(--quick: P6 and orm-busy not run, OPT not run at ≥ 100,000 entries)\n')
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = performance.now()
  const { values: args } = parseArgs({
    options: {
      trace: { type: 'string', multiple: true },
      quick: { type: 'boolean', default: false },
      policies: { type: 'string' },
      hash: { type: 'string', default: 'identity' },
      grow: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  const workloadNames = [...TRACE_ORDER, ...ZIPF_EXPONENTS.map((s) => `zipf-${s.toFixed(1)}`)]
  if (args.help) {
    console.log(
      'npm run bench:hitratio -- [--trace NAME[,NAME]]... [--quick] [--policies lru,lru-cache,arc,tinylfu,opt] [--hash identity|fnv] [--grow]\n' +
        `traces: ${workloadNames.join(', ')} (zipf = the three zipf workloads)`,
    )
    return
  }
  let selected = workloadNames
  if (args.trace !== undefined) {
    const wanted = args.trace.flatMap((t) => t.split(',')).map((t) => t.trim().toLowerCase())
    const unknown = wanted.filter(
      (w) => w !== 'zipf' && !workloadNames.some((n) => n.toLowerCase() === w),
    )
    if (unknown.length > 0) {
      throw new Error(`unknown trace ${unknown.join(', ')}; use ${workloadNames.join(', ')}, zipf`)
    }
    selected = workloadNames.filter(
      (n) => wanted.includes(n.toLowerCase()) || (wanted.includes('zipf') && n.startsWith('zipf-')),
    )
  }
  if (args.quick) selected = selected.filter((n) => !QUICK_SKIPS.has(n))
  let columns: Column[] = [...COLUMNS]
  if (args.policies !== undefined) {
    const wanted = args.policies.split(',').map((p) => p.trim().toLowerCase())
    const unknown = wanted.filter((w) => !(COLUMNS as readonly string[]).includes(w))
    if (unknown.length > 0) {
      throw new Error(`unknown policy ${unknown.join(', ')}; use ${COLUMNS.join(', ')}`)
    }
    columns = COLUMNS.filter((c) => wanted.includes(c))
  }
  if (args.hash !== 'identity' && args.hash !== 'fnv') {
    throw new Error(`--hash must be identity or fnv, not ${args.hash}`)
  }

  const factories: Partial<Record<Column, Loaded>> = {
    lru: {
      factory: (_maxEntries, capacity) => new LruPolicy(capacity),
      source: 'LruPolicy from src/memory/lru.ts',
    },
  }
  if (columns.includes('arc')) factories.arc = await loadPolicy('arc.js', 'ArcPolicy')
  if (columns.includes('tinylfu'))
    factories.tinylfu = await loadPolicy('tinylfu.js', 'TinyLfuPolicy')
  const options: Options = {
    columns,
    quick: args.quick,
    hash: args.hash,
    grow: args.grow,
    factories,
  }

  console.log('# Hit ratios (L1 policies)\n')
  console.log(
    `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; ${new Date().toISOString()}`,
  )
  console.log(
    `command: npm run bench:hitratio${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  )
  console.log('policies:')
  for (const c of columns) {
    if (c === 'lru-cache') console.log(`- lru-cache: lru-cache ${lruCacheVersion()}, max = size`)
    else if (c === 'opt') console.log("- OPT: Belady's MIN with bypass (exact)")
    else {
      const loaded = factories[c]!
      console.log(
        `- ${TITLES[c]}: ${loaded.source}${'error' in loaded ? ` — n/a (${loaded.error})` : ''}`,
      )
    }
  }
  console.log(
    `replay: the memory store's driving (insert, then victim()/remove while over the bound), ` +
      `${args.grow ? 'slots grown like the store (64, doubling to size + 1)' : 'size + 1 slots'}; ` +
      'cold start, every request counted, hit ratio in %',
  )
  console.log('flags: ! off a reference or below a bar (see flags column), !! above OPT\n')

  for (const name of selected) {
    if (name.startsWith('zipf-')) {
      const s = Number(name.slice(5))
      const trace = zipfTrace(s)
      runWorkload(trace, ZIPF_SIZES, options, [
        `#### ${name}`,
        '',
        `${ZIPF_REQUESTS.toLocaleString('en-US')} requests over ${ZIPF_KEYS.toLocaleString('en-US')} keys, P(rank k) ∝ 1/k^${s.toFixed(1)}, ` +
          `inverse CDF + binary search, xoshiro128** seed 0x${ZIPF_SEED.toString(16)} ^ round(1000 s); ` +
          `${trace.unique.toLocaleString('en-US')} distinct keys drawn; generated in ${(trace.decodeMs / 1000).toFixed(1)} s; no published reference`,
      ])
      continue
    }
    const traceSpec = TRACE_SPECS.find((t) => t.name === name)!
    const refs = REFERENCES.find((r) => r.trace === name)!
    const trace = await loadTrace(traceSpec)
    const check = (got: number, want: number): string =>
      got === want ? '(= README)' : `(README: ${want.toLocaleString('en-US')})`
    runWorkload(
      trace,
      refs.rows.map((r) => r.size),
      options,
      [
        `#### ${name}`,
        '',
        `${traceSpec.file}: ${trace.requests.toLocaleString('en-US')} requests ${check(trace.requests, traceSpec.requests)}, ` +
          `${trace.unique.toLocaleString('en-US')} unique ${check(trace.unique, traceSpec.unique)}, ` +
          `sha256/16 ${trace.sha16} ${trace.sha16 === traceSpec.sha16 ? '(= README)' : `(README: ${traceSpec.sha16})`}; ` +
          `decoded in ${(trace.decodeMs / 1000).toFixed(1)} s${trace.notes.length > 0 ? `; ${trace.notes.join('; ')}` : ''}`,
        `references: REFERENCES.md, ${refs.section}`,
        ...trace.warnings.map((w) => `WARNING: ${w}`),
      ],
    )
  }

  printBars(options)
  console.log(
    'replay time per column: ' +
      columns
        .map((c) => `${TITLES[c]} ${((timeByColumn.get(c) ?? 0) / 1000).toFixed(1)} s`)
        .join(', '),
  )
  console.log(`total elapsed: ${((performance.now() - startedAt) / 1000).toFixed(1)} s`)
}

await main()
