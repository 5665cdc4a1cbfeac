/**
 * The default serializer: MessagePack through msgpackr, with structured-clone-like
 * fidelity and a decoder that never lets msgpackr see bytes tiercache would not write.
 *
 * Why a check on each side of msgpackr, and what they add (msgpackr 2.1, verified):
 * - msgpackr writes `-0` as the integer 0 and lone surrogates as U+FFFD, and writes
 *   functions as `undefined` and class instances as plain objects. The encode check
 *   refuses what msgpack cannot give back unchanged, and sends the two things it can
 *   represent another way (`-0`, lone surrogates) to the tagged form below.
 * - msgpackr renames a `__proto__` key to `__proto_` when it decodes (its guard against
 *   prototype pollution): a silent change of the data. tiercache refuses `__proto__` keys
 *   instead, when encoding and when decoding, as the 'json' serializer does, and also a
 *   `constructor` key holding an object with a `prototype` key (RELIABILITY.md C2).
 * - msgpackr's extension table is global: any code in the process may add extensions,
 *   and the built-in ones include `Error` and `RegExp`. The decode check (`MsgpackGuard`)
 *   walks the bytes first and accepts only the extensions tiercache writes (undefined,
 *   Set, Date, BigInt, typed arrays), so no other extension code ever runs on bytes read
 *   from a remote tier (short of other code replacing msgpackr's own handlers of those
 *   types); msgpackr's record extension (which compiles a reader with `new Function`
 *   from the keys) is refused too. The guard also bounds nesting (no stack
 *   overflow), checks every length against the bytes left (no large allocation from a
 *   small input), and requires the value to end exactly at the last byte.
 *
 * Format: plain MessagePack as any msgpack library reads it (objects are msgpack maps
 * with string keys, `useRecords: false`), plus msgpackr's `moreTypes` extensions (Set,
 * typed arrays, BigInt beyond 64 bits) and the standard timestamp for Dates. A value that
 * plain msgpack cannot hold exactly (a `Map`, which would read back as an object; `-0`;
 * a lone surrogate; an object of more than 65 535 keys) is written whole in a tagged
 * form instead: the byte 0xC1 (never used by msgpack, so no plain payload starts with it)
 * followed by msgpack of a tree of arrays `[tag, ...data]` (see `TAG_*`).
 *
 * Why not msgpackr's records (its default), which would keep `Map`s apart natively: on a
 * ~1 KB object they took 16% longer to encode and decode than plain maps (each value
 * carries its record definitions; docs/benchmarks.md, "Value pipeline"), they are
 * msgpackr-only, and msgpackr compiles their readers with `new Function` from the keys
 * it reads. Values with Maps pay for the tagged form instead.
 *
 * Holes of sparse arrays come back as `undefined` (msgpack arrays have no holes); symbol
 * keys and non-index properties of arrays are not stored (as with JSON), and objects with
 * a null prototype come back as plain objects (as with `structuredClone`).
 */
import { isUtf8 } from 'node:buffer'
import { Packr, Unpackr } from 'msgpackr'
import { SerializationError } from '../errors.js'
import type { Serializer } from './codec.js'
import {
  MAX_NESTING_DEPTH,
  Refusal,
  TYPED_ARRAYS,
  TYPED_ARRAY_PROTOTYPES,
  checkKey,
  describeType,
  isWellFormed,
  propertySegment,
  refusalError,
  withSegment,
} from './value-walk.js'

/** Envelope id of the msgpack serializer. */
export const MSGPACK_SERIALIZER_ID = 1

/** First byte of a payload in the tagged form. */
const TAGGED = 0xc1

// Tags of the tagged form: every non-primitive node is an array whose first item is one.
const TAG_UNDEFINED = 0
const TAG_NEGATIVE_ZERO = 1
const TAG_LONE_SURROGATES = 2 // [2, UTF-16LE bytes]
const TAG_BIGINT = 3 // [3, decimal string]
const TAG_ARRAY = 4 // [4, ...items]
const TAG_OBJECT = 5 // [5, key, value, key, value, ...]; a key is a string or a TAG_LONE_SURROGATES node
const TAG_MAP = 6 // [6, key, value, ...]
const TAG_SET = 7 // [7, ...items]
const TAG_DATE = 8 // [8, epoch ms or NaN]
const TAG_BUFFER = 9 // [9, bytes]
const TAG_BYTES = 10 // [10, bytes]: a Uint8Array that is not a Buffer
const TAG_TYPED_ARRAY = 11 // [11, index in TYPED_ARRAYS, bytes]

const NAME = 'msgpack'

/**
 * The msgpack serializer (the default). Each call makes an independent instance; an
 * instance is not re-entrant, which encoding and decoding never need.
 *
 * @example
 * ```ts
 * const msgpack = msgpackSerializer()
 * msgpack.decode(msgpack.encode({ at: new Date(), ids: new Set([1n, 2n]) }))
 * ```
 */
export function msgpackSerializer(): Serializer {
  const packr = new Packr({
    useRecords: false,
    moreTypes: true,
    useToJSON: false,
    structuredClone: false,
  })
  // copyBuffers: a decoded Buffer must not keep the (decompressed, decrypted) input alive
  // or change with it.
  const unpackr = new Unpackr({
    useRecords: false,
    mapsAsObjects: true,
    copyBuffers: true,
    structuredClone: false,
    moreTypes: true,
  })
  const guard = new MsgpackGuard()
  return {
    name: NAME,
    id: MSGPACK_SERIALIZER_ID,
    encode(value: unknown): Uint8Array {
      let tagged: boolean
      try {
        tagged = scan(value, 0)
      } catch (error) {
        throw refusalError(NAME, error, 'cannot store')
      }
      try {
        if (!tagged) return packr.pack(value)
        const body = packr.pack(toTagged(value))
        const out = Buffer.allocUnsafe(body.length + 1)
        out[0] = TAGGED
        out.set(body, 1)
        return out
      } catch (error) {
        throw refusalError(NAME, error, 'could not encode')
      }
    },
    decode(bytes: Uint8Array): unknown {
      if (!(bytes instanceof Uint8Array)) {
        throw new SerializationError(
          `The '${NAME}' serializer decodes bytes, not ${describeType(bytes)}.`,
        )
      }
      const tagged = bytes.length > 0 && bytes[0] === TAGGED
      const start = tagged ? 1 : 0
      guard.check(bytes, start, tagged)
      // A fresh view: msgpackr caches a DataView on its input object, and the caller's
      // array should not be changed. A Buffer (not a bare Uint8Array) makes bin decode as Buffer.
      const view = Buffer.from(bytes.buffer, bytes.byteOffset + start, bytes.length - start)
      let value: unknown
      try {
        value = unpackr.unpack(view) as unknown
      } catch (error) {
        throw refusalError(NAME, error, 'could not decode')
      }
      if (!tagged) return value
      try {
        return fromTagged(value)
      } catch (error) {
        throw refusalError(NAME, error, 'could not decode')
      }
    },
  }
}

/**
 * Checks that msgpack can store `value` and returns true when it needs the tagged form.
 * Recursive; the depth limit keeps it (and msgpackr after it) far from the stack limit
 * and stops on a cycle.
 */
function scan(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      return !isWellFormed(value)
    case 'number':
      return value === 0 && 1 / value < 0
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return false
    case 'object':
      return value === null ? false : scanObject(value, depth + 1)
    default:
      throw new Refusal(`${describeType(value)} cannot be stored.`)
  }
}

function scanObject(value: object, depth: number): boolean {
  if (depth > MAX_NESTING_DEPTH) {
    throw new Refusal(`it nests deeper than ${MAX_NESTING_DEPTH} levels (or holds a cycle).`)
  }
  const proto: unknown = Object.getPrototypeOf(value)
  let special = false
  if (proto === Array.prototype) {
    const array = value as readonly unknown[]
    for (let i = 0; i < array.length; i++) {
      try {
        if (scan(array[i], depth)) special = true
      } catch (error) {
        withSegment(error, `[${i}]`)
      }
    }
    return special
  }
  if (proto === Object.prototype || proto === null) {
    const record = value as Record<string, unknown>
    const keys = Object.keys(record)
    // msgpackr's plain maps hold at most 65 535 entries; the tagged form has no limit.
    if (keys.length > 0xffff) special = true
    for (const key of keys) {
      const item = record[key]
      checkKey(key, item)
      if (!isWellFormed(key)) special = true
      try {
        if (scan(item, depth)) special = true
      } catch (error) {
        withSegment(error, propertySegment(key))
      }
    }
    return special
  }
  if (proto === Map.prototype) {
    // Plain msgpack maps read back as objects: a Map needs the tagged form.
    let i = 0
    for (const [key, item] of value as Map<unknown, unknown>) {
      try {
        scan(key, depth)
        scan(item, depth)
      } catch (error) {
        withSegment(error, `<Map entry ${i}>`)
      }
      i++
    }
    return true
  }
  if (proto === Set.prototype) {
    let i = 0
    for (const item of value as Set<unknown>) {
      try {
        if (scan(item, depth)) special = true
      } catch (error) {
        withSegment(error, `<Set item ${i}>`)
      }
      i++
    }
    return special
  }
  if (
    proto === Date.prototype ||
    proto === Buffer.prototype ||
    TYPED_ARRAY_PROTOTYPES.has(proto as object)
  ) {
    return false
  }
  throw new Refusal(
    `${describeType(value)} cannot be stored: msgpack keeps plain objects, arrays, Date, Map, Set, Buffer and typed arrays (convert it to one of those).`,
  )
}

/** The tagged form of a value `scan` accepted (so no type checks are needed here). */
function toTagged(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return isWellFormed(value) ? value : [TAG_LONE_SURROGATES, Buffer.from(value, 'utf16le')]
    case 'number':
      return value === 0 && 1 / value < 0 ? [TAG_NEGATIVE_ZERO] : value
    case 'boolean':
      return value
    case 'bigint':
      return [TAG_BIGINT, value.toString()]
    case 'undefined':
      return [TAG_UNDEFINED]
    case 'object': {
      if (value === null) return null
      const proto: unknown = Object.getPrototypeOf(value)
      if (proto === Array.prototype) {
        const array = value as readonly unknown[]
        const node: unknown[] = [TAG_ARRAY]
        for (let i = 0; i < array.length; i++) node.push(toTagged(array[i]))
        return node
      }
      if (proto === Map.prototype) {
        const node: unknown[] = [TAG_MAP]
        for (const [k, v] of value as Map<unknown, unknown>) node.push(toTagged(k), toTagged(v))
        return node
      }
      if (proto === Set.prototype) {
        const node: unknown[] = [TAG_SET]
        for (const item of value as Set<unknown>) node.push(toTagged(item))
        return node
      }
      if (proto === Date.prototype) return [TAG_DATE, (value as Date).getTime()]
      if (proto === Buffer.prototype) return [TAG_BUFFER, value]
      if (proto === Uint8Array.prototype) {
        const bytes = value as Uint8Array
        return [TAG_BYTES, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]
      }
      if (TYPED_ARRAY_PROTOTYPES.has(proto as object)) {
        const view = value as ArrayBufferView
        const index = TYPED_ARRAYS.findIndex((t) => t.ctor.prototype === proto)
        return [TAG_TYPED_ARRAY, index, Buffer.from(view.buffer, view.byteOffset, view.byteLength)]
      }
      const record = value as Record<string, unknown>
      const node: unknown[] = [TAG_OBJECT]
      for (const key of Object.keys(record)) node.push(toTagged(key), toTagged(record[key]))
      return node
    }
    default:
      // scan() refused functions and symbols already.
      throw new Refusal(`${describeType(value)} cannot be stored.`)
  }
}

/**
 * Rebuilds a value from its tagged form. The guard allowed only arrays, strings, numbers,
 * booleans, nil and bin, at most MAX_NESTING_DEPTH + 1 deep (so this recursion is
 * bounded); every node's shape is checked here.
 */
function fromTagged(node: unknown): unknown {
  if (typeof node !== 'object' || node === null) return node // string, number, boolean, null
  if (!Array.isArray(node)) throw new Refusal('a byte string where a tagged node was expected.')
  const tag: unknown = node[0]
  const size = node.length
  switch (tag) {
    case TAG_UNDEFINED:
      expectSize(node, 1)
      return undefined
    case TAG_NEGATIVE_ZERO:
      expectSize(node, 1)
      return -0
    case TAG_LONE_SURROGATES: {
      expectSize(node, 2)
      const bytes = expectBytes(node[1])
      if (bytes.length % 2 !== 0) throw new Refusal('a UTF-16 string of an odd byte length.')
      return bytes.toString('utf16le')
    }
    case TAG_BIGINT: {
      expectSize(node, 2)
      const text = node[1] as unknown
      if (typeof text !== 'string' || !/^-?(?:0|[1-9]\d{0,4095})$/.test(text)) {
        throw new Refusal('a malformed BigInt.')
      }
      return BigInt(text)
    }
    case TAG_ARRAY: {
      const array: unknown[] = new Array<unknown>(size - 1)
      for (let i = 1; i < size; i++) array[i - 1] = fromTagged(node[i])
      return array
    }
    case TAG_OBJECT: {
      if (size % 2 !== 1) throw new Refusal('an object node with a key and no value.')
      const record: Record<string, unknown> = {}
      for (let i = 1; i < size; i += 2) {
        const key = fromTagged(node[i])
        if (typeof key !== 'string') throw new Refusal('an object key that is not a string.')
        const item = fromTagged(node[i + 1])
        checkKey(key, item)
        record[key] = item
      }
      return record
    }
    case TAG_MAP: {
      if (size % 2 !== 1) throw new Refusal('a Map node with a key and no value.')
      const map = new Map<unknown, unknown>()
      for (let i = 1; i < size; i += 2) {
        map.set(fromTagged(node[i]), fromTagged(node[i + 1]))
      }
      return map
    }
    case TAG_SET: {
      const set = new Set<unknown>()
      for (let i = 1; i < size; i++) set.add(fromTagged(node[i]))
      return set
    }
    case TAG_DATE: {
      expectSize(node, 2)
      const time = node[1] as unknown
      if (typeof time !== 'number') throw new Refusal('a Date without a number.')
      return new Date(time)
    }
    case TAG_BUFFER:
      expectSize(node, 2)
      return expectBytes(node[1])
    case TAG_BYTES: {
      expectSize(node, 2)
      const bytes = expectBytes(node[1])
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    }
    case TAG_TYPED_ARRAY: {
      expectSize(node, 3)
      const index = node[1] as unknown
      const type = typeof index === 'number' ? TYPED_ARRAYS[index] : undefined
      const bytes = expectBytes(node[2])
      if (type === undefined || bytes.length % type.bytes !== 0) {
        throw new Refusal('a malformed typed array.')
      }
      // A copy: the element type's alignment needs an offset the input may not have.
      const copy = new Uint8Array(bytes).buffer
      const Ctor = type.ctor as unknown as new (buffer: ArrayBuffer) => ArrayBufferView
      return new Ctor(copy)
    }
    default:
      throw new Refusal(`an unknown tag ${String(tag)}.`)
  }
}

function expectSize(node: readonly unknown[], size: number): void {
  if (node.length !== size) throw new Refusal(`a tagged node of ${node.length} items, not ${size}.`)
}

function expectBytes(value: unknown): Buffer {
  if (!Buffer.isBuffer(value)) throw new Refusal('a tagged node without its bytes.')
  return value
}

const KEY_PROTO = Buffer.from('__proto__')
const KEY_CONSTRUCTOR = Buffer.from('constructor')
const KEY_PROTOTYPE = Buffer.from('prototype')

// What #key found.
const KEY_OTHER = 0
const KEY_IS_CONSTRUCTOR = 1
const KEY_IS_PROTOTYPE = 2

/**
 * Walks msgpack bytes without building anything and accepts exactly what tiercache's
 * msgpack serializer writes (see the file comment). Recursion is bounded by
 * MAX_NESTING_DEPTH; every length is checked against the bytes left before it is used.
 *
 * @example
 * ```ts
 * const guard = new MsgpackGuard()
 * guard.check(bytes, 0, false) // throws SerializationError, or msgpackr may decode bytes
 * ```
 */
export class MsgpackGuard {
  #bytes: Uint8Array = EMPTY
  #pos = 0
  #end = 0
  #tagged = false

  /**
   * Throws `SerializationError` unless `bytes[start..]` is exactly one value tiercache
   * could have written. `tagged`: the tagged form, where only arrays, strings, numbers,
   * booleans, nil and bin may appear.
   */
  check(bytes: Uint8Array, start: number, tagged: boolean): void {
    this.#bytes = bytes
    this.#pos = start
    this.#end = bytes.length
    this.#tagged = tagged
    try {
      this.#value(0, false)
      if (this.#pos !== this.#end) this.#fail(`${this.#end - this.#pos} bytes after the value`)
    } finally {
      this.#bytes = EMPTY
    }
  }

  #fail(what: string): never {
    throw new SerializationError(
      `The 'msgpack' serializer refused the payload: ${what} (at byte ${this.#pos} of ${this.#end}).`,
    )
  }

  /** One value; `forbidPrototype`: it is the value of a `constructor` key. */
  #value(depth: number, forbidPrototype: boolean): void {
    if (this.#pos >= this.#end) this.#fail('it ends before the value does')
    const t = this.#bytes[this.#pos++]!
    if (t < 0x80) return // positive fixint
    if (t < 0x90) return this.#map(t & 0x0f, depth, forbidPrototype)
    if (t < 0xa0) return this.#array(t & 0x0f, depth)
    if (t < 0xc0) return this.#skip(t & 0x1f) // fixstr
    if (t >= 0xe0) return // negative fixint
    switch (t) {
      case 0xc0: // nil
      case 0xc2: // false
      case 0xc3: // true
        return
      case 0xc4: // bin 8/16/32
        return this.#skip(this.#uint(1))
      case 0xc5:
        return this.#skip(this.#uint(2))
      case 0xc6:
        return this.#skip(this.#uint(4))
      case 0xc7: // ext 8/16/32
        return this.#ext(this.#uint(1))
      case 0xc8:
        return this.#ext(this.#uint(2))
      case 0xc9:
        return this.#ext(this.#uint(4))
      case 0xca: // float 32
        return this.#skip(4)
      case 0xcb: // float 64
        return this.#skip(8)
      case 0xcc: // uint 8, int 8
      case 0xd0:
        return this.#skip(1)
      case 0xcd:
      case 0xd1:
        return this.#skip(2)
      case 0xce:
      case 0xd2:
        return this.#skip(4)
      case 0xcf: // uint 64, int 64: BigInt, never in the tagged form
      case 0xd3:
        if (this.#tagged) this.#fail('a 64-bit integer in the tagged form')
        return this.#skip(8)
      case 0xd4: // fixext 1
        return this.#fixext1(depth)
      case 0xd5: // fixext 2/4/8/16
        return this.#ext(2)
      case 0xd6:
        return this.#ext(4)
      case 0xd7:
        return this.#ext(8)
      case 0xd8:
        return this.#ext(16)
      case 0xd9: // str 8/16/32
        return this.#skip(this.#uint(1))
      case 0xda:
        return this.#skip(this.#uint(2))
      case 0xdb:
        return this.#skip(this.#uint(4))
      case 0xdc: // array 16/32
        return this.#array(this.#uint(2), depth)
      case 0xdd:
        return this.#array(this.#uint(4), depth)
      case 0xde: // map 16/32
        return this.#map(this.#uint(2), depth, forbidPrototype)
      case 0xdf:
        return this.#map(this.#uint(4), depth, forbidPrototype)
      default: // 0xc1, "never used"
        this.#pos--
        return this.#fail(`byte 0x${t.toString(16)} is not a msgpack value`)
    }
  }

  #uint(size: 1 | 2 | 4): number {
    const bytes = this.#bytes
    const at = this.#pos
    if (size > this.#end - at) this.#fail('it ends inside a length')
    this.#pos = at + size
    if (size === 1) return bytes[at]!
    if (size === 2) return (bytes[at]! << 8) | bytes[at + 1]!
    return (
      bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!)
    )
  }

  #skip(length: number): void {
    if (length > this.#end - this.#pos) this.#fail(`a length of ${length} past the end`)
    this.#pos += length
  }

  #enter(depth: number): number {
    // The tagged form wraps -0, undefined and lone-surrogate strings in one more array.
    const limit = this.#tagged ? MAX_NESTING_DEPTH + 1 : MAX_NESTING_DEPTH
    if (depth >= limit) this.#fail(`nesting deeper than ${MAX_NESTING_DEPTH} levels`)
    return depth + 1
  }

  #array(length: number, depth: number): void {
    // Every item takes at least one byte, so a longer array cannot be in the input.
    if (length > this.#end - this.#pos) this.#fail(`an array of ${length} items past the end`)
    const inner = this.#enter(depth)
    for (let i = 0; i < length; i++) this.#value(inner, false)
  }

  /** A map is a plain object: string keys, none of them `__proto__` (C2). */
  #map(length: number, depth: number, forbidPrototype: boolean): void {
    if (this.#tagged) this.#fail('a map in the tagged form')
    if (length * 2 > this.#end - this.#pos) this.#fail(`a map of ${length} entries past the end`)
    const inner = this.#enter(depth)
    for (let i = 0; i < length; i++) {
      const key = this.#key()
      if (key === KEY_IS_PROTOTYPE && forbidPrototype) {
        this.#fail('a "constructor" key holding an object with a "prototype" key')
      }
      this.#value(inner, key === KEY_IS_CONSTRUCTOR)
    }
  }

  /** An object key: a string in valid UTF-8, not `__proto__`. */
  #key(): number {
    const bytes = this.#bytes
    const k = this.#pos < this.#end ? bytes[this.#pos]! : -1
    this.#pos++
    let length: number
    if (k >= 0xa0 && k <= 0xbf) length = k & 0x1f
    else if (k === 0xd9) length = this.#uint(1)
    else if (k === 0xda) length = this.#uint(2)
    else if (k === 0xdb) length = this.#uint(4)
    else return this.#fail('an object key that is not a string')
    if (length > this.#end - this.#pos) this.#fail(`a key of ${length} bytes past the end`)
    const start = this.#pos
    this.#pos += length
    // Only a key of 9 to 44 bytes can read back as "__proto__", "constructor" or
    // "prototype" (9 and 11 characters, at most 4 bytes each even in overlong UTF-8 forms,
    // which msgpackr 2.1's decoder refuses but older versions and other decoders did
    // not); shorter and longer keys need no look.
    if (length < KEY_PROTO.length || length > 4 * KEY_CONSTRUCTOR.length) return KEY_OTHER
    for (let j = start; j < this.#pos; j++) {
      if (bytes[j]! >= 0x80) {
        // Not ASCII: valid UTF-8 (all tiercache writes) cannot spell an ASCII name, and
        // requiring it does not depend on how msgpackr decodes invalid bytes.
        if (!isUtf8(bytes.subarray(start, this.#pos))) this.#fail('an object key that is not UTF-8')
        return KEY_OTHER
      }
    }
    if (equalsAt(bytes, start, length, KEY_PROTO)) {
      this.#pos = start
      this.#fail('a "__proto__" key')
    }
    if (equalsAt(bytes, start, length, KEY_CONSTRUCTOR)) return KEY_IS_CONSTRUCTOR
    if (equalsAt(bytes, start, length, KEY_PROTOTYPE)) return KEY_IS_PROTOTYPE
    return KEY_OTHER
  }

  /** An extension other than fixext 1: only BigInt, typed arrays and timestamps take this form. */
  #ext(length: number): void {
    if (this.#tagged) this.#fail('an extension in the tagged form')
    // The type byte, then `length` bytes of data.
    if (length + 1 > this.#end - this.#pos)
      this.#fail(`an extension of ${length} bytes past the end`)
    const type = this.#bytes[this.#pos]!
    switch (type) {
      case 0x42: // BigInt beyond 64 bits
        if (length === 0) this.#fail('an empty BigInt')
        break
      case 0x74: // typed array: element type, then the bytes
        if (length === 0) this.#fail('a typed array without its type')
        this.#typedArray(this.#bytes[this.#pos + 1]!, length - 1)
        break
      case 0xff: // timestamp 32, 64 or 96
        if (length !== 4 && length !== 8 && length !== 12)
          this.#fail(`a timestamp of ${length} bytes`)
        break
      default:
        this.#fail(`extension type 0x${type.toString(16)}, which tiercache does not write`)
    }
    this.#pos += 1 + length
  }

  #typedArray(code: number, byteLength: number): void {
    const type = TYPED_ARRAYS[code]
    if (type === undefined) this.#fail(`typed array code ${code}`)
    if (byteLength % type.bytes !== 0) this.#fail(`a typed array of ${byteLength} bytes`)
  }

  /** fixext 1: the extensions that take one byte of data (records, 0x72, are refused). */
  #fixext1(depth: number): void {
    if (this.#tagged) this.#fail('an extension in the tagged form')
    if (2 > this.#end - this.#pos) this.#fail('it ends inside an extension')
    const type = this.#bytes[this.#pos]!
    const data = this.#bytes[this.#pos + 1]!
    this.#pos += 2
    switch (type) {
      case 0x00: // undefined
      case 0xff: // an invalid Date
      case 0x42: // a one-byte BigInt
        return
      case 0x74: // an empty typed array
        return this.#typedArray(data, 0)
      case 0x73: {
        // Set: the items follow as an array (one nesting level for both, as when encoding).
        const next = this.#pos < this.#end ? this.#bytes[this.#pos]! : -1
        if (!((next >= 0x90 && next <= 0x9f) || next === 0xdc || next === 0xdd)) {
          this.#fail('a Set without its items')
        }
        return this.#value(depth, false)
      }
      default:
        this.#pos -= 2
        return this.#fail(`extension type 0x${type.toString(16)}, which tiercache does not write`)
    }
  }
}

const EMPTY = new Uint8Array(0)

function equalsAt(bytes: Uint8Array, start: number, length: number, word: Uint8Array): boolean {
  if (length !== word.length) return false
  for (let i = 0; i < length; i++) if (bytes[start + i] !== word[i]) return false
  return true
}
