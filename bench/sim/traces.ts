/**
 * Trace readers for the hit-ratio simulator, and seeded Zipf workloads.
 *
 * Every trace becomes the same thing: one dense id per request (`ids`, an
 * Int32Array; id = order of first appearance of the key), and the exact original
 * key of each id (`keys`, a Float64Array, so block numbers past 2^31 stay exact).
 * Traces are decoded once and replayed against every policy and size.
 *
 * Formats and counting rules are those of /work/shared/traces/README.md:
 * - ARC `.lis`: `start count ignore reqno` per line, expanded to `count` requests
 *   for the keys `start .. start+count-1`;
 * - LIRS `.trace`: one integer key per line; trimmed, empty lines and `*` skipped;
 * - cache2k: big-endian signed 32-bit integers, 4 bytes per request.
 *
 * Files are gunzipped as a stream and parsed chunk by chunk (P6 expands 10.7 MB
 * of text into 12.7M requests: no line strings, no per-request objects), and the
 * uncompressed bytes are hashed on the way, so the request count, the unique key
 * count and the sha256 prefix can be checked against README.md's table.
 */

import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import { createGunzip } from 'node:zlib'
import { hashKey } from '../../src/memory/hash.js'

/** Where the shared traces live (README.md, REFERENCES.md and the `.gz` files). */
export const TRACE_DIR = process.env.TIERCACHE_TRACES ?? '/work/shared/traces'

export type TraceFormat = 'arc' | 'lirs' | 'cache2k'

/** One row of README.md's "Files" table. */
export interface TraceSpec {
  name: string
  /** Path under {@link TRACE_DIR}. */
  file: string
  format: TraceFormat
  requests: number
  unique: number
  /** First 16 hex digits of the sha256 of the uncompressed bytes. */
  sha16: string
}

/** README.md, "Files" (requests, unique keys, sha256/16 as listed there). */
export const TRACE_SPECS: readonly TraceSpec[] = [
  spec('OLTP', 'arc/OLTP.lis.gz', 'arc', 914_145, 186_880, '01fc36ce7c40a474'),
  spec('P3', 'arc/P3.lis.gz', 'arc', 3_912_296, 762_543, 'bad2e26607cb7c07'),
  spec('P6', 'arc/P6.lis.gz', 'arc', 12_672_123, 773_770, 'a44714ce487035e1'),
  spec('loop', 'lirs/loop.trace.gz', 'lirs', 505_500, 1_011, 'a6a7dba751c93361'),
  spec('gli', 'lirs/gli.trace.gz', 'lirs', 6_015, 2_529, '9c1696e46979dbb6'),
  spec('sprite', 'lirs/sprite.trace.gz', 'lirs', 133_996, 7_075, 'e4620bb83c09fb22'),
  spec('multi1', 'lirs/multi1.trace.gz', 'lirs', 15_858, 2_606, '99b394840da4e187'),
  spec('multi2', 'lirs/multi2.trace.gz', 'lirs', 26_311, 5_684, '1eb04dca3c294970'),
  spec('multi3', 'lirs/multi3.trace.gz', 'lirs', 30_241, 7_454, '34253744f3fe334a'),
  spec('2_pools', 'lirs/2_pools.trace.gz', 'lirs', 100_000, 9_939, '9812f3d467c5b630'),
  spec('cpp', 'lirs/cpp.trace.gz', 'lirs', 9_047, 1_223, 'd965136830d3fcf2'),
  spec('cs', 'lirs/cs.trace.gz', 'lirs', 6_781, 1_409, '5b7d58a227cf1c75'),
  spec('ps', 'lirs/ps.trace.gz', 'lirs', 10_448, 3_083, 'b3da01d0fc2fa76a'),
  spec('scan', 'lirs/scan.trace.gz', 'lirs', 50_025, 2_001, '8fcebce2af57993d'),
  spec('web07', 'cache2k/web07.trace.gz', 'cache2k', 76_118, 20_484, '6959eddd318157e0'),
  spec('orm-busy', 'cache2k/orm-busy.trace.gz', 'cache2k', 5_000_000, 76_349, '016768842d9dc66a'),
]

function spec(
  name: string,
  file: string,
  format: TraceFormat,
  requests: number,
  unique: number,
  sha16: string,
): TraceSpec {
  return { name, file, format, requests, unique, sha16 }
}

/** A decoded workload: one dense id per request, and the original key of each id. */
export interface Trace {
  name: string
  /** Dense key id of each request, 0 .. unique - 1 in order of first appearance. */
  ids: Int32Array
  /** The exact original key of each id (integers up to 2^53 are exact). */
  keys: Float64Array
  requests: number
  unique: number
  /** sha256 of the uncompressed file, first 16 hex digits (files only). */
  sha16?: string
  /** Mismatches with README.md's table, format oddities; printed by the caller. */
  warnings: string[]
  /** Facts worth printing that are not problems (skipped marker lines). */
  notes: string[]
  decodeMs: number
}

/** `1 - unique / requests`: the hit ratio of an infinite cache. */
export function maxHitRatio(trace: Pick<Trace, 'requests' | 'unique'>): number {
  return trace.requests === 0 ? 0 : 1 - trace.unique / trace.requests
}

/**
 * Maps keys to dense ids in order of first appearance and records the request
 * sequence, growing its typed arrays by doubling.
 */
class Interner {
  ids: Int32Array
  keys: Float64Array
  requests = 0
  unique = 0
  readonly #index = new Map<number, number>()

  constructor(expectedRequests: number, expectedUnique: number) {
    this.ids = new Int32Array(Math.max(16, expectedRequests))
    this.keys = new Float64Array(Math.max(16, expectedUnique))
  }

  add(key: number): void {
    let id = this.#index.get(key)
    if (id === undefined) {
      id = this.unique++
      this.#index.set(key, id)
      if (id === this.keys.length) this.keys = growF64(this.keys)
      this.keys[id] = key
    }
    if (this.requests === this.ids.length) this.ids = growI32(this.ids)
    this.ids[this.requests++] = id
  }

  finish(name: string, warnings: string[], startMs: number, sha16: string | undefined): Trace {
    const trace: Trace = {
      name,
      ids: this.ids.subarray(0, this.requests),
      keys: this.keys.subarray(0, this.unique),
      requests: this.requests,
      unique: this.unique,
      warnings,
      notes: [],
      decodeMs: performance.now() - startMs,
    }
    if (sha16 !== undefined) trace.sha16 = sha16
    return trace
  }
}

function growI32(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2)
  b.set(a)
  return b
}

function growF64(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2)
  b.set(a)
  return b
}

const MAX_FIELDS = 8

/**
 * A byte-level tokenizer of whitespace-separated non-negative decimal integers,
 * fed chunk by chunk (a number or a line may straddle two chunks). Each line is
 * handed to `onLine` with its numeric fields; `other` counts bytes that are
 * neither digits nor blanks (`*` markers, signs, garbage).
 */
class LineTokenizer {
  readonly fields = new Float64Array(MAX_FIELDS)
  count = 0
  other = 0
  /** The first non-numeric byte of the line, for diagnostics (-1: none). */
  firstOther = -1
  #value = 0
  #inNumber = false

  constructor(private readonly onLine: (t: LineTokenizer) => void) {}

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!
      if (b >= 48 && b <= 57) {
        this.#value = this.#value * 10 + (b - 48)
        this.#inNumber = true
      } else if (b === 10) {
        this.#endField()
        this.#endLine()
      } else if (b === 32 || b === 9 || b === 13) {
        this.#endField()
      } else {
        this.#endField()
        if (this.other === 0) this.firstOther = b
        this.other++
      }
    }
  }

  end(): void {
    this.#endField()
    if (this.count > 0 || this.other > 0) this.#endLine()
  }

  #endField(): void {
    if (!this.#inNumber) return
    if (this.count < MAX_FIELDS) this.fields[this.count] = this.#value
    this.count++
    this.#value = 0
    this.#inNumber = false
  }

  #endLine(): void {
    this.onLine(this)
    this.count = 0
    this.other = 0
    this.firstOther = -1
  }
}

/** Reads one trace file of README.md's table. */
export async function loadTrace(traceSpec: TraceSpec): Promise<Trace> {
  const start = performance.now()
  const { name, format, requests, unique } = traceSpec
  const interner = new Interner(requests, unique)
  const warnings: string[] = []
  const sha = createHash('sha256')
  const source = createReadStream(join(TRACE_DIR, traceSpec.file), {
    highWaterMark: 1 << 20,
  }).pipe(createGunzip({ chunkSize: 1 << 20 }))

  let badLines = 0
  let skippedLines = 0
  const bad = (what: string): void => {
    if (badLines++ < 3) warnings.push(`${name}: ${what}`)
  }
  let tokenizer: LineTokenizer | undefined
  if (format === 'arc') {
    tokenizer = new LineTokenizer((t) => {
      if (t.other !== 0 || t.count < 2) {
        if (t.count === 0 && t.other === 0) skippedLines++
        else bad(`unexpected ARC line (${t.count} numeric fields)`)
        return
      }
      const first = t.fields[0]!
      const count = t.fields[1]!
      if (!Number.isSafeInteger(first + count)) bad('block number past 2^53')
      for (let j = 0; j < count; j++) interner.add(first + j)
    })
  } else if (format === 'lirs') {
    tokenizer = new LineTokenizer((t) => {
      if (t.count === 1 && t.other === 0) {
        interner.add(t.fields[0]!)
      } else if (t.count === 0 && (t.other === 0 || (t.other === 1 && t.firstOther === 42))) {
        skippedLines++ // empty line or a `*` checkpoint marker
      } else {
        bad(`unexpected LIRS line (${t.count} numeric fields, ${t.other} other bytes)`)
      }
    })
  }

  // cache2k: big-endian int32s; up to 3 bytes of a value may be left from the previous chunk.
  const carry = new Uint8Array(4)
  let carried = 0
  for await (const chunk of source as AsyncIterable<Buffer>) {
    sha.update(chunk)
    if (tokenizer !== undefined) {
      tokenizer.push(chunk)
      continue
    }
    let i = 0
    if (carried > 0) {
      while (carried < 4 && i < chunk.length) carry[carried++] = chunk[i++]!
      if (carried < 4) continue
      interner.add((carry[0]! << 24) | (carry[1]! << 16) | (carry[2]! << 8) | carry[3]! | 0)
      carried = 0
    }
    const whole = i + ((chunk.length - i) & ~3)
    for (; i < whole; i += 4) interner.add(chunk.readInt32BE(i))
    while (i < chunk.length) carry[carried++] = chunk[i++]!
  }
  tokenizer?.end()
  if (carried !== 0) bad(`${carried} trailing bytes (not a multiple of 4)`)
  if (badLines > 3) warnings.push(`${name}: ${badLines - 3} more unexpected lines`)

  const sha16 = sha.digest('hex').slice(0, 16)
  const trace = interner.finish(name, warnings, start, sha16)
  if (trace.requests !== requests) {
    warnings.push(`${name}: ${trace.requests} requests, README.md says ${requests}`)
  }
  if (trace.unique !== unique) {
    warnings.push(`${name}: ${trace.unique} unique keys, README.md says ${unique}`)
  }
  if (sha16 !== traceSpec.sha16) {
    warnings.push(`${name}: sha256/16 ${sha16}, README.md says ${traceSpec.sha16}`)
  }
  if (skippedLines > 0) trace.notes.push(`skipped ${skippedLines} empty or '*' lines`)
  return trace
}

// ---------------------------------------------------------------------------
// Key hashes handed to EvictionPolicy.insert
// ---------------------------------------------------------------------------

/**
 * How a trace key becomes the uint32 `hash` of `EvictionPolicy.insert`:
 * - `identity`: `key >>> 0`, exact and collision-free when every key of the trace
 *   is an integer in [0, 2^32) or in [-2^31, 2^31) (true of every bundled trace);
 *   otherwise keys are folded with a 64-to-32-bit mix (collisions possible). This
 *   is what Caffeine's simulator does with `Long.hashCode()` on these traces.
 * - `fnv`: `hashKey(String(key))`, the FNV-1a hash the memory store computes for a
 *   string key, as if the application used the decimal key as its cache key.
 */
export type HashMode = 'identity' | 'fnv'

export interface KeyHashes {
  hashes: Uint32Array
  /** How the keys were mapped (printed with each trace). */
  how: string
}

export function keyHashes(keys: Float64Array, mode: HashMode): KeyHashes {
  const hashes = new Uint32Array(keys.length)
  if (mode === 'fnv') {
    for (let i = 0; i < keys.length; i++) hashes[i] = hashKey(String(keys[i]!))
    return { hashes, how: 'fnv: hashKey(String(key)), as the memory store hashes string keys' }
  }
  let min = Infinity
  let max = -Infinity
  let integers = true
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!
    if (k < min) min = k
    if (k > max) max = k
    if (!Number.isInteger(k)) integers = false
  }
  const range = `keys ${min} .. ${max}`
  const unsigned = min >= 0 && max < 2 ** 32
  const signed = min >= -(2 ** 31) && max < 2 ** 31
  if (integers && (unsigned || signed)) {
    for (let i = 0; i < keys.length; i++) hashes[i] = keys[i]! >>> 0
    return { hashes, how: `identity: key >>> 0 (${range}: exact, no collision)` }
  }
  const seen = new Set<number>()
  for (let i = 0; i < keys.length; i++) {
    hashes[i] = fold64(keys[i]!)
    seen.add(hashes[i]!)
  }
  const collisions = keys.length - seen.size
  return {
    hashes,
    how: `folded: mix(hi, lo) (${range} do not fit one 32-bit range; ${collisions} hash collisions)`,
  }
}

/** Folds an integer of up to 53 bits (or any double) to 32 bits with a murmur3-style finalizer. */
function fold64(key: number): number {
  const lo = key >>> 0
  const hi = Math.floor(key / 2 ** 32) | 0
  let h = lo ^ Math.imul(hi, 0x9e3779b1)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

// ---------------------------------------------------------------------------
// Zipf
// ---------------------------------------------------------------------------

/** Requests and key space of the synthetic Zipf workloads. */
export const ZIPF_REQUESTS = 1_000_000
export const ZIPF_KEYS = 100_000
export const ZIPF_SEED = 0x7ca4e

/**
 * `ZIPF_REQUESTS` requests over `ZIPF_KEYS` keys, P(rank k) ∝ 1 / k^s, k = 1..n.
 * Exact inverse-CDF sampling: the unnormalised CDF is precomputed in a Float64Array
 * and each request is a binary search for a uniform double (53 bits from a seeded
 * xoshiro128**). Ranks are mapped to keys through a seeded shuffle, so popular keys
 * are not the small integers (their hashes are spread like any other key's).
 * Deterministic: the same `s` and seed give the same trace on every machine.
 */
export function zipfTrace(
  s: number,
  requests = ZIPF_REQUESTS,
  keyCount = ZIPF_KEYS,
  seed = ZIPF_SEED,
): Trace {
  const start = performance.now()
  const random = xoshiro128ss(seed ^ Math.round(s * 1000))
  const cdf = new Float64Array(keyCount)
  let total = 0
  for (let k = 0; k < keyCount; k++) {
    total += 1 / Math.pow(k + 1, s)
    cdf[k] = total
  }
  const rankToKey = new Int32Array(keyCount)
  for (let k = 0; k < keyCount; k++) rankToKey[k] = k
  for (let k = keyCount - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1))
    const t = rankToKey[k]!
    rankToKey[k] = rankToKey[j]!
    rankToKey[j] = t
  }
  const interner = new Interner(requests, keyCount)
  for (let i = 0; i < requests; i++) {
    const u = random() * total
    // First rank whose cumulative weight exceeds u.
    let lo = 0
    let hi = keyCount - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid]! > u) hi = mid
      else lo = mid + 1
    }
    interner.add(rankToKey[lo]!)
  }
  return interner.finish(`zipf-${s.toFixed(1)}`, [], start, undefined)
}

/** xoshiro128** (Blackman & Vigna), seeded through splitmix32; returns doubles in [0, 1) with 53 bits. */
function xoshiro128ss(seed: number): () => number {
  let x = seed | 0
  const splitmix = (): number => {
    x = (x + 0x9e3779b9) | 0
    let z = x
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
    return (z ^ (z >>> 15)) >>> 0
  }
  let a = splitmix()
  let b = splitmix()
  let c = splitmix()
  let d = splitmix()
  const next32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0
    const t = b << 9
    c ^= a
    d ^= b
    b ^= c
    a ^= d
    c ^= t
    d = rotl(d, 11)
    return result
  }
  return () => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
