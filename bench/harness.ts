/**
 * A small timing harness for sequential awaited calls. Each measurement runs one
 * operation of one contender for about `roundMs`, in batches of `BATCH` awaited
 * calls, cycling through the shared shuffled key order. The caller interleaves
 * contenders round by round and takes the median, which spreads machine noise
 * over everyone instead of letting it land on one contender.
 */

import type { Dataset, User } from './fixtures.js'

/** One operation under test: called with a key and the value to write, if any. */
export type Op = (key: string, value: User) => Promise<unknown>

const BATCH = 1_000

export interface Sample {
  ops: number
  ns: number
}

/** Where each (contender, operation) pair is in the key order, so rounds continue it. */
export class Cursor {
  pos = 0
}

/** Runs `op` for at least `ms` milliseconds of awaited calls. */
export async function runFor(
  op: Op,
  data: Dataset,
  useAltValues: boolean,
  cursor: Cursor,
  ms: number,
): Promise<Sample> {
  const { keys, order } = data
  const values = useAltValues ? data.altValues : data.values
  const budget = BigInt(Math.round(ms * 1e6))
  const length = order.length
  let pos = cursor.pos
  let ops = 0
  const start = process.hrtime.bigint()
  let elapsed = 0n
  do {
    for (let j = 0; j < BATCH; j++) {
      const index = order[pos]!
      await op(keys[index]!, values[index]!)
      pos++
      if (pos === length) pos = 0
    }
    ops += BATCH
    elapsed = process.hrtime.bigint() - start
  } while (elapsed < budget)
  cursor.pos = pos
  return { ops, ns: Number(elapsed) }
}

export function opsPerSecond(sample: Sample): number {
  return (sample.ops * 1e9) / sample.ns
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Rotates `items` left by `by`, so each round starts with a different contender. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return []
  const k = by % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

export function formatOps(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** Renders rows as a Markdown table, so the output can go to docs unedited. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    '| ' +
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') +
    ' |'
  const rule =
    '| ' +
    widths.map((w, i) => (i === 0 ? '-'.repeat(w) : '-'.repeat(w - 1) + ':')).join(' | ') +
    ' |'
  return [line(header), rule, ...rows.map(line)].join('\n')
}
