/**
 * Value pipeline benchmark (remote tiers): run with `npx tsx bench/codec.bench.ts`.
 *
 * 1. Serializers on a ~1 KB object: tiercache's msgpack (msgpackr plus the checks on each
 *    side, see src/codec/msgpack.ts) against JSON.stringify + JSON.parse, with raw msgpackr
 *    in three modes to show what the checks cost and what msgpackr's options change.
 * 2. What compression and encryption add per value size (100 B, 1 KB, 100 KB), through
 *    the whole codec (envelope included).
 *
 * Method: every case runs for ~100 ms per round, cases interleaved, 1 warm-up round and
 * 9 timed rounds; tables show the median. Synchronous calls, one value reused (the same
 * for every case), so this measures CPU per call, not allocation pressure of a real mix.
 */
import { randomBytes } from 'node:crypto'
import { cpus, loadavg } from 'node:os'
import { Packr, Unpackr } from 'msgpackr'
import type { ValueCodecOptions } from '../src/codec/codec.js'
import { jsonSerializer, msgpackSerializer } from '../src/codec/serializers.js'
import { createValueCodec } from '../src/codec/value-codec.js'

const ROUND_MS = 100
const ROUNDS = 9

interface Case {
  readonly name: string
  readonly run: () => unknown
}

/** Median ns per call of each case, interleaved round by round. */
function measure(cases: readonly Case[]): Map<string, number> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]))
  let sink: unknown
  for (let round = -1; round < ROUNDS; round++) {
    for (const c of cases) {
      const budget = BigInt(ROUND_MS * 1e6)
      let calls = 0
      const start = process.hrtime.bigint()
      let elapsed = 0n
      do {
        for (let i = 0; i < 100; i++) sink = c.run()
        calls += 100
        elapsed = process.hrtime.bigint() - start
      } while (elapsed < budget)
      if (round >= 0) samples.get(c.name)!.push(Number(elapsed) / calls)
    }
  }
  if (sink === Symbol.for('never')) console.log(sink)
  return new Map([...samples].map(([name, xs]) => [name, median(xs)]))
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

const us = (ns: number): string => (ns / 1000).toFixed(2)
const ratio = (x: number): string => `${x.toFixed(2)}x`

// ------------------------------------------------------------------ the values

/** An order of about 1 KB as JSON: strings, numbers, booleans, nested objects and a list. */
function order(items: number, noteLength: number): Record<string, unknown> {
  return {
    id: 12345,
    sku: 'ORD-2026-000123',
    status: 'shipped',
    total: 199.95,
    currency: 'EUR',
    paid: true,
    customer: {
      id: 987,
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      vip: false,
      address: { street: '12 Analytical Way', city: 'London', zip: 'NW1 6XE', country: 'GB' },
    },
    items: Array.from({ length: items }, (_, i) => ({
      sku: `SKU-${1000 + i}`,
      name: `Item number ${i}`,
      qty: (i % 5) + 1,
      price: 9.99 + i,
      tags: ['a', 'b'],
    })),
    notes: 'Leave at the door if nobody answers. Fragile! '
      .repeat(Math.ceil(noteLength / 46))
      .slice(0, noteLength),
    createdAt: 1_763_900_000_000,
    updatedAt: 1_763_900_500_000,
  }
}

const oneKb = order(6, 46)

/** An order whose msgpack encoding is at most `bytes` long, as close as items allow. */
function orderOfSize(bytes: number): Record<string, unknown> {
  const msgpack = msgpackSerializer()
  let items = 0
  while (msgpack.encode(order(items + 1, 46)).length <= bytes) items++
  return order(items, 46)
}

// Sizes are those of the msgpack encoding, before compression.
const sized: ReadonlyArray<readonly [string, unknown]> = [
  ['100 B', { id: 1, name: 'Ada Lovelace', email: 'ada@example.com', roles: ['admin'], n: 42 }],
  ['1 KB', orderOfSize(1024)],
  ['100 KB', orderOfSize(100 * 1024)],
]

// ------------------------------------------------------------------ 1. serializers

function serializerTable(): string {
  const json = jsonSerializer()
  const msgpack = msgpackSerializer()
  const codec = createValueCodec()
  const meta = { expiresAt: 0, graceUntil: 0, createdAt: 1 }
  const records = new Packr({ moreTypes: true, useToJSON: false })
  const recordsIn = new Unpackr({ copyBuffers: true })
  const plain = new Packr({ useRecords: false, moreTypes: true, useToJSON: false })
  const plainIn = new Unpackr({ useRecords: false, copyBuffers: true })
  const clone = new Packr({ structuredClone: true, useToJSON: false })
  const cloneIn = new Unpackr({ structuredClone: true, copyBuffers: true })

  const text = JSON.stringify(oneKb)
  const jsonBytes = Buffer.from(text)
  const rows: Array<[string, () => unknown, () => unknown, number]> = [
    [
      'JSON.stringify + JSON.parse (strings)',
      () => JSON.stringify(oneKb),
      () => JSON.parse(text) as unknown,
      text.length,
    ],
    [
      'JSON via bytes (+ Buffer.from / toString)',
      () => Buffer.from(JSON.stringify(oneKb)),
      () => JSON.parse(jsonBytes.toString()) as unknown,
      jsonBytes.length,
    ],
    [
      "tiercache 'json' serializer",
      () => json.encode(oneKb),
      () => json.decode(jsonBytes),
      jsonBytes.length,
    ],
    [
      "tiercache 'msgpack' serializer (default)",
      () => msgpack.encode(oneKb),
      () => msgpack.decode(msgpackBytes),
      0,
    ],
    [
      'raw msgpackr, records + moreTypes (no checks)',
      () => records.pack(oneKb),
      () => recordsIn.unpack(recordsBytes) as unknown,
      0,
    ],
    [
      'raw msgpackr, useRecords: false',
      () => plain.pack(oneKb),
      () => plainIn.unpack(plainBytes) as unknown,
      0,
    ],
    [
      'raw msgpackr, structuredClone: true',
      () => clone.pack(oneKb),
      () => cloneIn.unpack(cloneBytes) as unknown,
      0,
    ],
    [
      'tiercache codec (msgpack + envelope)',
      () => codec.encode('order:1', oneKb, meta),
      () => codec.decode('order:1', envelopeBytes),
      0,
    ],
    [
      "tiercache 'msgpack', items in a Map (tagged form)",
      () => msgpack.encode(withMap),
      () => msgpack.decode(withMapBytes),
      0,
    ],
  ]
  const withMap = {
    ...oneKb,
    items: new Map((oneKb.items as unknown[]).map((item, i) => [i, item])),
  }
  const withMapBytes = Buffer.from(msgpack.encode(withMap))
  const msgpackBytes = Buffer.from(msgpack.encode(oneKb))
  const recordsBytes = Buffer.from(records.pack(oneKb))
  const plainBytes = Buffer.from(plain.pack(oneKb))
  const cloneBytes = Buffer.from(clone.pack(oneKb))
  const envelopeBytes = Buffer.from(codec.encode('order:1', oneKb, meta))
  const sizes = [
    text.length,
    jsonBytes.length,
    jsonBytes.length,
    msgpackBytes.length,
    recordsBytes.length,
    plainBytes.length,
    cloneBytes.length,
    envelopeBytes.length,
    withMapBytes.length,
  ]

  const cases: Case[] = rows.flatMap(([name, encode, decode]) => [
    { name: `${name}|encode`, run: encode },
    { name: `${name}|decode`, run: decode },
    { name: `${name}|both`, run: () => (encode(), decode()) },
  ])
  const results = measure(cases)
  const base = results.get(`${rows[0]![0]}|both`)!
  return table(
    [
      '1 KB object (encode + decode)',
      'bytes',
      'encode µs',
      'decode µs',
      'both µs',
      'JSON (strings) / this',
    ],
    rows.map(([name], i) => {
      const both = results.get(`${name}|both`)!
      return [
        name,
        String(sizes[i]),
        us(results.get(`${name}|encode`)!),
        us(results.get(`${name}|decode`)!),
        us(both),
        ratio(base / both),
      ]
    }),
  )
}

// ---------------------------------------------------------- 2. compression, encryption

function pipelineTable(): string {
  const key = randomBytes(32)
  const meta = { expiresAt: 0, graceUntil: 0, createdAt: 1 }
  const setups: ReadonlyArray<readonly [string, ValueCodecOptions]> = [
    ['msgpack only', {}],
    ['+ gzip', { compression: { algorithm: 'gzip', threshold: 0 } }],
    ['+ brotli (quality 4)', { compression: { algorithm: 'brotli', threshold: 0 } }],
    ['+ snappy', { compression: { algorithm: 'snappy', threshold: 0 } }],
    ['+ AES-256-GCM', { encryption: { key } }],
    [
      '+ brotli + AES-256-GCM',
      { compression: { algorithm: 'brotli', threshold: 0 }, encryption: { key } },
    ],
  ]
  const rows: string[][] = []
  for (const [size, value] of sized) {
    const cases: Case[] = []
    const stored = new Map<string, number>()
    for (const [name, options] of setups) {
      const codec = createValueCodec(options)
      const bytes = codec.encode('k', value, meta)
      stored.set(name, bytes.length)
      cases.push({ name: `${name}|encode`, run: () => codec.encode('k', value, meta) })
      cases.push({ name: `${name}|decode`, run: () => codec.decode('k', bytes) })
    }
    const results = measure(cases)
    const baseEncode = results.get('msgpack only|encode')!
    const baseDecode = results.get('msgpack only|decode')!
    for (const [name] of setups) {
      const encode = results.get(`${name}|encode`)!
      const decode = results.get(`${name}|decode`)!
      rows.push([
        size,
        name,
        String(stored.get(name)),
        us(encode),
        us(decode),
        name === 'msgpack only' ? '–' : `+${us(encode - baseEncode)}`,
        name === 'msgpack only' ? '–' : `+${us(decode - baseDecode)}`,
      ])
    }
  }
  return table(
    [
      'value',
      'pipeline',
      'stored bytes',
      'encode µs',
      'decode µs',
      'added encode µs',
      'added decode µs',
    ],
    rows,
  )
}

const cpu = cpus()[0]?.model ?? 'unknown CPU'
console.log(
  `node ${process.version}, ${cpu}, ${cpus().length} cores; load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
)
console.log(
  `${ROUNDS} timed rounds of ~${ROUND_MS} ms per case after 1 warm-up round, cases interleaved; medians.\n`,
)
console.log('#### Serializers: a ~1 KB object\n')
console.log(serializerTable())
console.log(
  '\n#### Compression and encryption per value size (whole codec, envelope included; threshold 0)\n',
)
console.log(pipelineTable())
