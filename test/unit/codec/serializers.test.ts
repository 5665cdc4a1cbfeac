/**
 * The serializers beyond the conformance suite: C1 fidelity details, C2 prototype
 * pollution from values and from raw bytes, msgpack extensions tiercache does not
 * register, nesting depth (C3), and error translation.
 */
import { addExtension } from 'msgpackr'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, SerializationError } from '../../../src/errors.js'
import {
  createSerializer,
  customSerializer,
  jsonSerializer,
  msgpackSerializer,
  v8Serializer,
} from '../../../src/codec/serializers.js'
import { MAX_NESTING_DEPTH } from '../../../src/codec/value-walk.js'
import { assertSameValue } from '../../../src/testing/codec-conformance.js'
import { valueOf } from './values.js'

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex')

function refusal(fn: () => unknown): SerializationError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(SerializationError)
    return error as SerializationError
  }
  throw new Error('expected a SerializationError, and nothing was thrown')
}

function nested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 1
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { n: value }
  return value
}

describe('msgpack: C1 fidelity, identical types', () => {
  const msgpack = msgpackSerializer()
  const roundTrip = (value: unknown): unknown => msgpack.decode(msgpack.encode(value))

  it('keeps Buffer and Uint8Array apart, also as Map keys and in Sets', () => {
    const value = new Map<unknown, unknown>([
      [Buffer.from([1]), new Uint8Array([2])],
      [new Uint8Array([3]), new Set([Buffer.from([4]), new Uint8Array([5])])],
    ])
    const back = roundTrip(value) as Map<unknown, unknown>
    assertSameValue(back, value)
    const [[k1, v1], [k2]] = [...back.entries()] as [[unknown, unknown], [unknown, unknown]]
    expect(Buffer.isBuffer(k1)).toBe(true)
    expect(Buffer.isBuffer(v1)).toBe(false)
    expect(v1).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(k2)).toBe(false)
  })

  it('round-trips an invalid Date, BigInt ±2^70, a Map with object keys and -0', () => {
    const value = {
      invalid: new Date(Number.NaN),
      big: [2n ** 70n, -(2n ** 70n)],
      map: new Map<unknown, unknown>([
        [{ id: 1 }, 'one'],
        [[2], 'two'],
      ]),
      zero: -0,
    }
    const back = roundTrip(value) as typeof value
    assertSameValue(back, value)
    expect(Number.isNaN(back.invalid.getTime())).toBe(true)
    expect(Object.is(back.zero, -0)).toBe(true)
    expect(typeof back.big[0]).toBe('bigint')
  })

  it('gives holes of sparse arrays back as undefined (msgpack arrays have no holes)', () => {
    // eslint-disable-next-line no-sparse-arrays
    const back = roundTrip([1, , 3]) as unknown[]
    expect(back).toHaveLength(3)
    expect(1 in back).toBe(true)
    expect(back[1]).toBeUndefined()
  })

  it('keeps -0 and lone surrogates anywhere, through the tagged form', () => {
    const value = new Map<unknown, unknown>([
      ['\udc00', { 'k\ud800': [-0, 'x\ud83d'] }],
      [-0, new Set(['\udfff', -0])],
    ])
    const bytes = msgpack.encode(value)
    expect(bytes[0]).toBe(0xc1)
    assertSameValue(msgpack.decode(bytes), value)
  })

  it('writes plain values without the tagged form', () => {
    expect(msgpack.encode({ a: 0, b: 'x' })[0]).not.toBe(0xc1)
    expect([...msgpack.encode(0)]).toEqual([0])
  })

  it('round-trips nesting up to the limit, and refuses one level more at encode time', () => {
    assertSameValue(
      roundTrip(nested(MAX_NESTING_DEPTH, 'array')),
      nested(MAX_NESTING_DEPTH, 'array'),
    )
    assertSameValue(
      roundTrip(nested(MAX_NESTING_DEPTH, 'object')),
      nested(MAX_NESTING_DEPTH, 'object'),
    )
    expect(refusal(() => msgpack.encode(nested(MAX_NESTING_DEPTH + 1, 'array'))).message).toMatch(
      /deeper than 1000 levels/,
    )
  })

  it('refuses what it cannot give back unchanged, naming where it is', () => {
    class User {
      name = 'ada'
    }
    expect(refusal(() => msgpack.encode({ list: [1, new User()] })).message).toMatch(
      /value\.list\[1\]: a User cannot be stored/,
    )
    expect(refusal(() => msgpack.encode({ f: () => 1 })).message).toMatch(/value\.f: a function/)
    expect(refusal(() => msgpack.encode(new Map([['k', Symbol('s')]]))).message).toMatch(
      /value<Map entry 0>: a symbol/,
    )
    for (const value of [
      /re/,
      new Error('e'),
      new WeakMap(),
      Promise.resolve(),
      new ArrayBuffer(2),
    ]) {
      refusal(() => msgpack.encode([value]))
    }
  })

  it('refuses a cycle with a short message', () => {
    const node: Record<string, unknown> = {}
    node.self = node
    const error = refusal(() => msgpack.encode(node))
    expect(error.message).toMatch(/cycle/)
    expect(error.message.length).toBeLessThan(400)
  })

  it('property: every msgpack value comes back with identical types', () => {
    fc.assert(
      fc.property(valueOf('msgpack'), (value) => {
        const back = roundTrip(value)
        // Holes are the one documented change; valueOf('msgpack') makes none.
        assertSameValue(back, value)
      }),
      { numRuns: 500 },
    )
  })
})

describe('json: only what JSON keeps unchanged (C1)', () => {
  const json = jsonSerializer()

  it('round-trips JSON values, lone surrogates included', () => {
    const value = { a: [1, 'x', null, true, { b: -1.5 }], s: '\ud800 and \udfff', e: {} }
    assertSameValue(json.decode(json.encode(value)), value)
  })

  it.each([
    ['a Date', { at: new Date(0) }, /value\.at: a Date would come back as a string/],
    ['an invalid Date', [new Date(Number.NaN)], /value\[0\]: a Date/],
    ['a BigInt', { n: 1n }, /value\.n: a BigInt is not JSON/],
    ['a Map', { m: new Map() }, /value\.m: a Map would come back as \{\}/],
    ['a Set', [new Set([1])], /value\[0\]: a Set would come back as \{\}/],
    ['a Buffer', { b: Buffer.from('x') }, /value\.b: a Buffer would come back/],
    ['a Uint8Array', { b: new Uint8Array(1) }, /value\.b: a Uint8Array would come back/],
    ['undefined in an object', { u: undefined }, /value\.u: undefined is not JSON/],
    ['undefined in an array', [undefined], /value\[0\]: undefined is not JSON/],
    ['undefined', undefined, /value: undefined is not JSON/],
    // eslint-disable-next-line no-sparse-arrays
    ['a hole', [1, , 3], /value\[1\]: a hole of a sparse array/],
    ['NaN', { n: Number.NaN }, /value\.n: NaN would come back as null/],
    ['Infinity', [Infinity], /Infinity would come back as null/],
    ['-0', { z: -0 }, /value\.z: -0 would come back as 0/],
    [
      'a class instance',
      { u: new (class Account {})() },
      /value\.u: an Account would come back as a plain object/,
    ],
    ['an object with toJSON', { t: { toJSON: () => 'x' } }, /value\.t\.toJSON: a function/],
  ])('refuses %s at encode time, naming the path', (_label, value, message) => {
    expect(refusal(() => json.encode(value)).message).toMatch(message)
  })

  it('suggests msgpack for Dates rather than tagging them', () => {
    expect(refusal(() => json.encode(new Date())).message).toMatch(/'msgpack'/)
  })

  it('refuses bytes that are not one JSON text as tiercache writes it', () => {
    for (const text of ['', ' 1', '1 ', '{"a":1} x', '{"a":', 'undefined', '\ufeff1']) {
      refusal(() => json.decode(Buffer.from(text)))
    }
    refusal(() => json.decode(new Uint8Array([0x22, 0xff, 0x22]))) // not UTF-8
  })

  it('reads deep JSON without overflowing, refusing it past the limit', () => {
    const deep = Buffer.from('['.repeat(10_000) + ']'.repeat(10_000))
    expect(refusal(() => json.decode(deep)).message).toMatch(/deeper than 1000/)
    const ok = Buffer.from('['.repeat(MAX_NESTING_DEPTH) + ']'.repeat(MAX_NESTING_DEPTH))
    expect(() => json.decode(ok)).not.toThrow()
    refusal(() => json.encode(nested(10_000, 'object')))
  })

  it('property: every JSON value comes back unchanged', () => {
    fc.assert(
      fc.property(valueOf('json'), (value) => {
        assertSameValue(json.decode(json.encode(value)), value)
      }),
      { numRuns: 500 },
    )
  })
})

describe('C2: prototype pollution, the same for json and msgpack', () => {
  const serializers = [jsonSerializer(), msgpackSerializer(), v8Serializer()]
  const payloads = [
    '{"__proto__":{"polluted":1}}',
    '{"a":[{"__proto__":{"polluted":1}}]}',
    '{"constructor":{"prototype":{"polluted":1}}}',
  ]

  it.each(payloads)('refuses %s from JSON.parse at encode time in every serializer', (text) => {
    const messages = serializers.map((s) => refusal(() => s.encode(JSON.parse(text))).message)
    // The same rule and wording, whatever the serializer.
    const reasons = messages.map((m) => m.replace(/^The '\w+' serializer /, ''))
    expect(new Set(reasons).size).toBe(1)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('allows constructor keys that hold data, and prototype keys elsewhere', () => {
    const value = { constructor: 'Babbage', model: { constructor: { name: 'x' }, prototype: 2 } }
    for (const s of serializers) assertSameValue(s.decode(s.encode(value)), value)
  })

  it.each(payloads)('refuses %s written as raw JSON bytes', (text) => {
    const error = refusal(() => jsonSerializer().decode(Buffer.from(text)))
    expect(error.message).toMatch(/__proto__|constructor/)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses JSON that spells __proto__ with escapes', () => {
    refusal(() => jsonSerializer().decode(Buffer.from('{"\\u005f_proto__":{"polluted":1}}')))
  })

  it('refuses a msgpack map (an object) with a __proto__ key, never renaming it', () => {
    // { "__proto__": { "polluted": 1 } } as msgpack: msgpackr alone would read { __proto_: … }.
    const bytes = hex('81 a9 5f5f70726f746f5f5f 81 a8 706f6c6c75746564 01')
    expect(refusal(() => msgpackSerializer().decode(bytes)).message).toMatch(/"__proto__" key/)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses msgpackr records, whose reader is compiled from the keys', () => {
    // A record { __proto__: { x: 1 } } and a harmless one { a: 1 }: both refused.
    refusal(() =>
      msgpackSerializer().decode(hex('d4 72 40 91 a9 5f5f70726f746f5f5f d4 72 41 91 a1 78 01')),
    )
    expect(refusal(() => msgpackSerializer().decode(hex('d4 72 40 91 a1 61 01'))).message).toMatch(
      /extension type 0x72/,
    )
  })

  it('refuses a __proto__ key spelt with an overlong UTF-8 underscore', () => {
    // 0xc1 0x9f is an overlong "_": msgpackr 2.1 reads it as U+FFFD, older decoders as "_".
    const bytes = hex('81 aa c19f 5f70726f746f5f5f 01')
    expect(refusal(() => msgpackSerializer().decode(bytes)).message).toMatch(/not UTF-8/)
  })

  it('refuses object keys that are not strings', () => {
    refusal(() => msgpackSerializer().decode(hex('81 01 02')))
    refusal(() => msgpackSerializer().decode(hex('81 c0 02')))
  })

  it('refuses a msgpack record whose constructor holds a prototype', () => {
    const bytes = msgpackSerializer().encode({ constructor: { prototype_: { polluted: 1 } } })
    // Rename prototype_ to prototype and shorten its length byte: the record key list.
    const text = Buffer.from(bytes).toString('latin1').replace('\xaaprototype_', '\xa9prototype')
    const forged = Buffer.from(text, 'latin1')
    expect(refusal(() => msgpackSerializer().decode(forged)).message).toMatch(/constructor/)
  })

  it('keeps a __proto__ key of a Map, which is data and pollutes nothing', () => {
    const s = msgpackSerializer()
    const value = new Map([['__proto__', { polluted: 1 }]])
    const back = s.decode(s.encode(value))
    assertSameValue(back, value)
    const copy: Record<string, unknown> = { ...(back as object) }
    Object.assign({}, back, copy)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses __proto__ keys in the tagged form', () => {
    const s = msgpackSerializer()
    // The tagged form of { x: -0 }, with the key renamed to __proto__ (same length trick).
    const bytes = Buffer.from(s.encode({ __proto_x: -0 }))
    const text = bytes.toString('latin1').replace('__proto_x', '__proto__')
    refusal(() => s.decode(Buffer.from(text, 'latin1')))
  })
})

describe('msgpack: extensions tiercache does not write never run', () => {
  it('refuses an extension registered by other code in the process, without calling it', () => {
    let called = 0
    // msgpackr's extension table is global: any module could do this.
    addExtension({
      type: 0x30,
      unpack: () => {
        called++
        return 'ran'
      },
    })
    for (const bytes of [hex('d4 30 00'), hex('d5 30 0000'), hex('c7 03 30 010203')]) {
      expect(refusal(() => msgpackSerializer().decode(bytes)).message).toMatch(
        /extension type 0x30/,
      )
    }
    expect(called).toBe(0)
  })

  it.each([
    ['Error (0x65)', 'd4 65 00 93 a5 4572726f72 a1 78 c0'],
    ['RegExp (0x78)', 'd4 78 00 92 a1 61 a1 67'],
    ['structured clone id (0x69)', 'd6 69 00000001 90'],
    ['structured clone pointer (0x70)', 'd6 70 00000001'],
    ['bundled strings (0x62)', 'd6 62 00000006 c0'],
    ['an unknown type (0x07)', 'd4 07 00'],
    ['two-byte record ids', 'd5 72 60 01 91 a1 61 01'],
    ['a record definition', 'd4 72 40 91 a1 61 01'],
    ['a typed array of code 16 (ArrayBuffer)', 'c7 02 74 10 00'],
    ['a timestamp of 2 bytes', 'd5 ff 0000'],
    ['the never-used byte 0xc1', 'c1'],
    ['a Set without its items', 'd4 73 00 01'],
  ])('refuses %s', (_label, bytes) => {
    refusal(() => msgpackSerializer().decode(hex(bytes)))
  })

  it('refuses truncated payloads, trailing bytes and lengths past the end, without allocating them', () => {
    const s = msgpackSerializer()
    const good = s.encode({ list: [1, 2, 3], text: 'hello' })
    for (let n = 0; n < good.length; n++) refusal(() => s.decode(good.subarray(0, n)))
    refusal(() => s.decode(Buffer.concat([good, Buffer.from([0])])))
    for (const bytes of [
      'dd ffffffff',
      'df ffffffff',
      'db ffffffff',
      'c6 ffffffff',
      'c9 ffffffff 42',
      'dc ffff',
    ]) {
      refusal(() => s.decode(hex(bytes)))
    }
  })

  it('reads 10 000 levels of nesting as an error, not a stack overflow', () => {
    const deepArrays = Buffer.alloc(10_001, 0x91)
    deepArrays[10_000] = 0xc0
    expect(refusal(() => msgpackSerializer().decode(deepArrays)).message).toMatch(
      /deeper than 1000/,
    )
    // Sets: d4 73 00 91 (a Set holding an array) repeated.
    const deepSets = Buffer.concat([
      Buffer.from('d4730091'.repeat(5_000), 'hex'),
      Buffer.from([0xc0]),
    ])
    refusal(() => msgpackSerializer().decode(deepSets))
  })
})

describe('nesting depth 10 000 (C3)', () => {
  it.each([
    ['msgpack', msgpackSerializer],
    ['json', jsonSerializer],
    ['v8', v8Serializer],
  ])('%s refuses it at encode time with SerializationError, not RangeError', (_name, make) => {
    for (const kind of ['array', 'object'] as const) {
      const error = refusal(() => make().encode(nested(10_000, kind)))
      expect(error.message).toMatch(/deeper than 1000 levels/)
    }
  })

  it('a custom serializer that overflows the stack throws SerializationError', () => {
    const recurse = (n: number): number => (n === 0 ? 0 : 1 + recurse(n - 1))
    const s = customSerializer({
      encode: () => new Uint8Array([recurse(1e7)]),
      decode: () => recurse(1e7),
    })
    const error = refusal(() => s.encode(1))
    expect(error.cause).toBeInstanceOf(RangeError)
    refusal(() => s.decode(new Uint8Array(1)))
  })
})

describe('v8', () => {
  const v8 = v8Serializer()

  it('declares that it needs authenticated input', () => {
    expect(v8.needsAuthenticatedInput).toBe(true)
    expect(msgpackSerializer().needsAuthenticatedInput).toBeUndefined()
  })

  it('keeps shared references and holes', () => {
    const shared = { id: 1 }
    // eslint-disable-next-line no-sparse-arrays
    const value = { a: shared, b: shared, holes: [1, , 3] }
    const back = v8.decode(v8.encode(value)) as typeof value
    expect(back.a).toBe(back.b)
    expect(1 in back.holes).toBe(false)
  })

  it('refuses class instances rather than returning plain objects', () => {
    refusal(() => v8.encode({ at: new (class Point {})() }))
  })
})

describe('custom serializers', () => {
  it('wrap errors of encode and decode with the original as cause', () => {
    const boom = new Error('boom')
    const s = customSerializer({
      name: 'cbor',
      encode: () => {
        throw boom
      },
      decode: () => {
        throw boom
      },
    })
    const encodeError = refusal(() => s.encode(1))
    expect(encodeError.message).toMatch(/'cbor' serializer could not encode the value: boom/)
    expect(encodeError.cause).toBe(boom)
    expect(refusal(() => s.decode(new Uint8Array(1))).cause).toBe(boom)
  })

  it('refuse an encode result that is not a Uint8Array', () => {
    const s = customSerializer({ encode: () => 'text' as never, decode: () => 1 })
    expect(refusal(() => s.encode(1)).message).toMatch(/returned a string, not a Uint8Array/)
  })

  it('keep calling the functions they were created with, with the option as this', () => {
    const option = {
      prefix: 7,
      encode(this: { prefix: number }, value: unknown): Uint8Array {
        return new Uint8Array([this.prefix, Number(value)])
      },
      decode(bytes: Uint8Array): unknown {
        return bytes[1]
      },
    }
    const s = customSerializer(option)
    option.encode = () => new Uint8Array([0])
    expect([...s.encode(3)]).toEqual([7, 3])
    expect(s.id).toBe(128)
    expect(s.name).toBe('custom')
  })

  const invalid: Array<[unknown, RegExp]> = [
    [{ encode: 1, decode: () => 1 }, /serializer must have an encode and a decode function/],
    [
      { encode: () => new Uint8Array(), decode: () => 1, id: 3 },
      /serializer\.id must be an integer from 128 to 255/,
    ],
    [{ encode: () => new Uint8Array(), decode: () => 1, id: 256 }, /serializer\.id/],
    [{ encode: () => new Uint8Array(), decode: () => 1, name: '' }, /serializer\.name/],
  ]
  it.each(invalid)('are validated when created (%o)', (option, message) => {
    expect(() => createSerializer(option as never)).toThrow(InvalidArgumentError)
    expect(() => createSerializer(option as never)).toThrow(message)
  })
})

describe('createSerializer', () => {
  it('makes each built-in', () => {
    expect(createSerializer().name).toBe('msgpack')
    expect(createSerializer('json').id).toBe(2)
    expect(createSerializer('v8').id).toBe(3)
  })

  it('names the option for anything else', () => {
    expect(() => createSerializer('cbor' as never)).toThrow(
      /serializer must be 'msgpack', 'json', 'v8' or an object with encode and decode functions, not 'cbor'/,
    )
    expect(() => createSerializer(null as never)).toThrow(InvalidArgumentError)
  })
})
