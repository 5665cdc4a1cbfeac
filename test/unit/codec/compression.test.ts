/**
 * Compressors: round trips, the threshold rule, strict decompression, the optional
 * algorithms, and the decompression bomb (RELIABILITY.md C4).
 */
import { randomBytes } from 'node:crypto'
import * as zlib from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import type { CompressionAlgorithm } from '../../../src/codec/codec.js'
import {
  COMPRESSION_IDS,
  compressorById,
  createCompressor,
  maybeCompress,
  zstdAvailable,
} from '../../../src/codec/compression.js'
import { createValueCodec } from '../../../src/codec/value-codec.js'
import { encodeEnvelopeHeader, joinChecksummed } from '../../../src/codec/envelope.js'
import {
  InvalidArgumentError,
  SerializationError,
  ValueTooLargeError,
} from '../../../src/errors.js'

const text = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(200))
const available: CompressionAlgorithm[] = [
  'gzip',
  'brotli',
  'snappy',
  ...(zstdAvailable ? (['zstd'] as const) : []),
]

describe.each(available)('%s', (algorithm) => {
  const compressor = createCompressor(algorithm)

  it('round-trips bytes, and is what compressorById returns for its id', () => {
    const packed = compressor.compress(text)
    expect(packed.length).toBeLessThan(text.length / 5)
    expect(Buffer.from(compressor.decompress(packed, text.length)).equals(text)).toBe(true)
    expect(compressorById(compressor.id).name).toBe(algorithm)
    expect(compressor.id).toBe(COMPRESSION_IDS[algorithm])
  })

  it('stops at maxOutputBytes with ValueTooLargeError; exactly the size passes', () => {
    const packed = compressor.compress(text)
    expect(() => compressor.decompress(packed, text.length - 1)).toThrow(ValueTooLargeError)
    expect(compressor.decompress(packed, text.length).length).toBe(text.length)
  })

  it('refuses corrupt input and bytes after the stream with SerializationError', () => {
    const packed = Buffer.from(compressor.compress(text))
    expect(() => compressor.decompress(packed.subarray(0, packed.length - 3), 1e6)).toThrow(
      SerializationError,
    )
    expect(() => compressor.decompress(Buffer.concat([packed, Buffer.from('xyz')]), 1e6)).toThrow(
      SerializationError,
    )
    // Random bytes may happen to start like a valid stream (snappy's length header, say):
    // what must hold is that only a typed error comes out, never another exception.
    for (let i = 0; i < 50; i++) {
      try {
        compressor.decompress(randomBytes(64), 1e6)
      } catch (error) {
        expect(error instanceof SerializationError || error instanceof ValueTooLargeError).toBe(
          true,
        )
      }
    }
    expect(() => compressor.decompress(new Uint8Array(0), 1e6)).toThrow(SerializationError)
  })
})

describe('createCompressor', () => {
  it('refuses unknown algorithms, naming the option', () => {
    expect(() => createCompressor('lz4' as never)).toThrow(
      /compression\.algorithm must be 'gzip', 'brotli', 'zstd' or 'snappy', not 'lz4'/,
    )
  })

  it.skipIf(zstdAvailable)(
    'refuses zstd on a Node without it (Node 20), and cannot read it',
    () => {
      expect(typeof (zlib as Record<string, unknown>).zstdCompressSync).toBe('undefined')
      expect(() => createCompressor('zstd')).toThrow(InvalidArgumentError)
      expect(() => createCompressor('zstd')).toThrow(/needs a Node with zlib\.zstdCompressSync/)
      expect(() => compressorById(COMPRESSION_IDS.zstd)).toThrow(SerializationError)
    },
  )

  it('refuses unknown ids when reading', () => {
    expect(() => compressorById(9)).toThrow(SerializationError)
  })
})

describe('maybeCompress', () => {
  const gzip = createCompressor('gzip')

  it('leaves values of at most threshold bytes alone', () => {
    expect(maybeCompress(gzip, text.length, text).id).toBe(0)
    expect(maybeCompress(gzip, text.length - 1, text).id).toBe(COMPRESSION_IDS.gzip)
    expect(maybeCompress(undefined, 0, text)).toEqual({ bytes: text, id: 0 })
  })

  it('keeps the original when compressing does not make it smaller', () => {
    const noise = randomBytes(4096)
    const result = maybeCompress(gzip, 0, noise)
    expect(result.id).toBe(0)
    expect(result.bytes).toBe(noise)
  })
})

describe('snappy', () => {
  const snappy = createCompressor('snappy')

  it('checks the uncompressed length header before decompressing', () => {
    // Header: 1 GiB (0x40000000 as a varint), then a tiny body.
    const bomb = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04, 0x00, 0x00])
    expect(() => snappy.decompress(bomb, 1 << 20)).toThrow(ValueTooLargeError)
    expect(() => snappy.decompress(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 1e6)).toThrow(
      SerializationError,
    )
  })
})

describe('C4: decompression bomb', () => {
  const MB = 1024 * 1024
  let gzipBomb: Buffer // 1 GB of zeros, gzip
  let brotliBomb: Buffer // 1 GB of zeros, brotli
  let gzipHalfBomb: Buffer // 512 MB of zeros, gzip: small enough to fit a 1 MB envelope

  beforeAll(async () => {
    // Cheap to build: gzip allows concatenated members, so 64 MB of zeros is compressed
    // once (~64 KB) and repeated; brotli streams the same 64 MB buffer 16 times.
    const zeros = Buffer.alloc(64 * MB)
    const member = zlib.gzipSync(zeros, { level: 9 })
    gzipBomb = Buffer.concat(Array.from({ length: 16 }, () => member))
    gzipHalfBomb = Buffer.concat(Array.from({ length: 8 }, () => member))
    const stream = zlib.createBrotliCompress({
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 },
    })
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    const ended = new Promise((resolve) => stream.on('end', resolve))
    for (let i = 0; i < 16; i++) stream.write(zeros)
    stream.end()
    await ended
    brotliBomb = Buffer.concat(chunks)
  })

  function expectBounded(run: () => unknown): void {
    const before = process.memoryUsage.rss()
    expect(run).toThrow(ValueTooLargeError)
    const grewMb = (process.memoryUsage.rss() - before) / MB
    expect(grewMb).toBeLessThan(50)
  }

  it('stops gzip of 1 GB of zeros at a 1 MB cap, RSS growing < 50 MB', () => {
    expect(gzipBomb.length).toBeLessThan(1.1 * MB)
    expectBounded(() => createCompressor('gzip').decompress(gzipBomb, MB))
  })

  it('stops brotli of 1 GB of zeros at a 1 MB cap, RSS growing < 50 MB', () => {
    expect(brotliBomb.length).toBeLessThan(MB)
    expectBounded(() => createCompressor('brotli').decompress(brotliBomb, MB))
  })

  it('through the value codec with maxValueBytes 1 MB: ValueTooLargeError naming the key', () => {
    const codec = createValueCodec({ maxValueBytes: MB })
    for (const [id, bomb] of [
      [COMPRESSION_IDS.brotli, brotliBomb],
      [COMPRESSION_IDS.gzip, gzipHalfBomb],
    ] as const) {
      const header = encodeEnvelopeHeader({
        serializerId: 1,
        compressionId: id,
        meta: { expiresAt: 0, graceUntil: 0, createdAt: 1 },
      })
      const entry = joinChecksummed('bomb:1', header, bomb)
      expect(entry.length).toBeLessThan(MB)
      expectBounded(() => codec.decode('bomb:1', entry))
      expect(() => codec.decode('bomb:1', entry)).toThrow(
        /The value for key 'bomb:1' decompresses to more than maxValueBytes \(1048576\) bytes/,
      )
    }
  })
})
