/**
 * Compressors of serialized values: gzip and brotli from `node:zlib`, zstd when the
 * running Node has it (`zlib.zstdCompressSync`, Node ≥ 22.15; not Node 20), and snappy
 * through the optional `snappy` package.
 *
 * Decompression is always bounded (RELIABILITY.md C4): zlib stops at `maxOutputLength`,
 * and snappy's uncompressed-length header is checked before anything is allocated, so a
 * decompression bomb costs at most `maxOutputBytes` of memory and ends in
 * `ValueTooLargeError`. Corrupt input, and bytes after the end of the compressed stream
 * (which zlib and brotli would silently ignore), are a `SerializationError`.
 */
import { createRequire } from 'node:module'
import * as zlib from 'node:zlib'
import { InvalidArgumentError, SerializationError, ValueTooLargeError } from '../errors.js'
import type { CompressionAlgorithm, Compressor } from './codec.js'
import { describeError } from './value-walk.js'

/** Envelope ids of the compressors; 0 means the payload is not compressed. */
export const COMPRESSION_IDS = {
  none: 0,
  gzip: 1,
  brotli: 2,
  zstd: 3,
  snappy: 4,
} as const

/** Values of at most this many serialized bytes are stored uncompressed, unless configured. */
export const DEFAULT_COMPRESSION_THRESHOLD = 1024

// Brotli's default quality (11) is meant for static assets: ~50x slower than quality 4 on
// cache-sized values for a few percent of size. 4 is about gzip's speed, and smaller.
const BROTLI_QUALITY = 4

type ZlibSync = (buffer: Uint8Array, options?: zlib.ZlibOptions | zlib.BrotliOptions) => Buffer

/** What a zlib function returns with `{ info: true }` (typed as Buffer in @types/node). */
interface ZlibInfoResult {
  buffer: Buffer
  engine: { bytesWritten: number }
}

const zstd = zlib as unknown as {
  zstdCompressSync?: ZlibSync
  zstdDecompressSync?: ZlibSync
}

/** Whether this Node has zstd in `node:zlib` (Node ≥ 22.15 / 23.8). */
export const zstdAvailable: boolean =
  typeof zstd.zstdCompressSync === 'function' && typeof zstd.zstdDecompressSync === 'function'

/**
 * The compressor for an algorithm name. Throws `InvalidArgumentError` naming the option
 * for an unknown name, for `'zstd'` on a Node without it, and for `'snappy'` when the
 * optional `snappy` package is not installed.
 *
 * @example
 * ```ts
 * const brotli = createCompressor('brotli')
 * const packed = brotli.compress(bytes)
 * brotli.decompress(packed, 1_000_000) // bytes again, or ValueTooLargeError past 1 MB
 * ```
 */
export function createCompressor(
  algorithm: CompressionAlgorithm,
  what = 'compression.algorithm',
): Compressor {
  switch (algorithm) {
    case 'gzip':
      return gzip
    case 'brotli':
      return brotli
    case 'zstd': {
      const compressor = zstdCompressor()
      if (compressor === undefined) {
        throw new InvalidArgumentError(
          `${what} 'zstd' needs a Node with zlib.zstdCompressSync (22.15 or later); this is Node ${process.versions.node}. Use 'brotli' or 'gzip'.`,
        )
      }
      return compressor
    }
    case 'snappy': {
      const compressor = snappyCompressor()
      if (compressor === undefined) {
        throw new InvalidArgumentError(
          `${what} 'snappy' needs the optional 'snappy' package: npm install snappy. Or use 'brotli' or 'gzip'.`,
        )
      }
      return compressor
    }
    default: {
      const given: unknown = algorithm
      throw new InvalidArgumentError(
        `${what} must be 'gzip', 'brotli', 'zstd' or 'snappy', not ${typeof given === 'string' ? `'${given}'` : String(given)}.`,
      )
    }
  }
}

/**
 * The compressor an envelope's compression id names, for reading: every algorithm is
 * readable whatever the reader configured. Throws `SerializationError` for an id no
 * compressor has, or one this process cannot run (zstd on Node 20, snappy not installed).
 *
 * @example
 * ```ts
 * compressorById(COMPRESSION_IDS.gzip).name // 'gzip'
 * ```
 */
export function compressorById(id: number): Compressor {
  switch (id) {
    case COMPRESSION_IDS.gzip:
      return gzip
    case COMPRESSION_IDS.brotli:
      return brotli
    case COMPRESSION_IDS.zstd: {
      const compressor = zstdCompressor()
      if (compressor === undefined) {
        throw new SerializationError(
          `The entry is zstd-compressed (written by a newer Node); this Node ${process.versions.node} has no zstd.`,
        )
      }
      return compressor
    }
    case COMPRESSION_IDS.snappy: {
      const compressor = snappyCompressor()
      if (compressor === undefined) {
        throw new SerializationError(
          `The entry is snappy-compressed; install the optional 'snappy' package to read it.`,
        )
      }
      return compressor
    }
    default:
      throw new SerializationError(`Unknown compression id ${id}.`)
  }
}

/**
 * Compresses `bytes` when they are longer than `threshold` and the result is smaller;
 * otherwise returns them as they are, with id 0.
 *
 * @example
 * ```ts
 * const { bytes: payload, id } = maybeCompress(createCompressor('gzip'), 1024, serialized)
 * ```
 */
export function maybeCompress(
  compressor: Compressor | undefined,
  threshold: number,
  bytes: Uint8Array,
): { bytes: Uint8Array; id: number } {
  if (compressor === undefined || bytes.length <= threshold) return { bytes, id: 0 }
  let packed: Uint8Array
  try {
    packed = compressor.compress(bytes)
  } catch (error) {
    throw new SerializationError(`${compressor.name} compression failed: ${describeError(error)}`, {
      cause: error,
    })
  }
  return packed.length < bytes.length ? { bytes: packed, id: compressor.id } : { bytes, id: 0 }
}

/**
 * The error of a decompression stopped at `limit` bytes. `size` is `limit + 1`: the
 * output was larger than that, and how much larger was deliberately not found out.
 *
 * @example
 * ```ts
 * throw decompressionTooLarge('user:1', 1_000_000)
 * ```
 */
export function decompressionTooLarge(key: string, limit: number): ValueTooLargeError {
  const error = new ValueTooLargeError(key, limit + 1, limit)
  error.message = `The value${key === '' ? '' : ` for key '${key}'`} decompresses to more than maxValueBytes (${limit}) bytes; decompression stopped there. Raise "maxValueBytes" if such values are expected.`
  return error
}

function zlibCompressor(
  id: number,
  name: string,
  compress: ZlibSync,
  decompress: ZlibSync,
): Compressor {
  return Object.freeze({
    name,
    id,
    compress(bytes: Uint8Array): Uint8Array {
      return compress(bytes)
    },
    decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
      let result: ZlibInfoResult
      try {
        result = decompress(bytes, {
          maxOutputLength: Math.max(1, maxOutputBytes),
          info: true,
        }) as unknown as ZlibInfoResult
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
          throw decompressionTooLarge('', maxOutputBytes)
        }
        throw new SerializationError(`The ${name} payload is corrupt: ${describeError(error)}`, {
          cause: error,
        })
      }
      if (result.engine.bytesWritten !== bytes.length) {
        throw new SerializationError(
          `The ${name} payload has ${bytes.length - result.engine.bytesWritten} bytes after the end of its stream.`,
        )
      }
      if (result.buffer.length > maxOutputBytes) throw decompressionTooLarge('', maxOutputBytes)
      return result.buffer
    },
  })
}

const gzip = zlibCompressor(COMPRESSION_IDS.gzip, 'gzip', zlib.gzipSync, zlib.gunzipSync)

const brotli = zlibCompressor(
  COMPRESSION_IDS.brotli,
  'brotli',
  (bytes) =>
    zlib.brotliCompressSync(bytes, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }),
  zlib.brotliDecompressSync,
)

function zstdCompressor(): Compressor | undefined {
  const { zstdCompressSync, zstdDecompressSync } = zstd
  if (zstdCompressSync === undefined || zstdDecompressSync === undefined) return undefined
  return zlibCompressor(COMPRESSION_IDS.zstd, 'zstd', zstdCompressSync, zstdDecompressSync)
}

/** The part of the `snappy` package used here (raw, not framed, format). */
interface SnappyModule {
  compressSync(input: Uint8Array): Buffer
  uncompressSync(input: Uint8Array, options: { asBuffer: true }): Buffer | string
}

/**
 * Loads `snappy` with `require` at run time: it is an optional peer dependency, so a
 * static import would break `import 'tiercache'` where it is not installed. Resolved from
 * this module's URL (the CommonJS build gets it from the bundler's `import.meta.url` shim).
 */
function loadSnappy(): SnappyModule | undefined {
  try {
    return createRequire(import.meta.url)('snappy') as SnappyModule
  } catch (error) {
    if ((error as { code?: unknown }).code === 'MODULE_NOT_FOUND') return undefined
    throw error
  }
}

function snappyCompressor(): Compressor | undefined {
  const snappy = loadSnappy()
  if (snappy === undefined) return undefined
  return Object.freeze({
    name: 'snappy',
    id: COMPRESSION_IDS.snappy,
    compress(bytes: Uint8Array): Uint8Array {
      return snappy.compressSync(bytes)
    },
    decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
      // Raw snappy starts with the uncompressed length (a little-endian base-128 varint);
      // the decoder checks the output against it, so checking it first bounds the output.
      const length = snappyLength(bytes)
      if (length > maxOutputBytes) throw decompressionTooLarge('', maxOutputBytes)
      let out: Buffer | string
      try {
        out = snappy.uncompressSync(bytes, { asBuffer: true })
      } catch (error) {
        throw new SerializationError(`The snappy payload is corrupt: ${describeError(error)}`, {
          cause: error,
        })
      }
      if (typeof out === 'string' || out.length !== length) {
        throw new SerializationError('The snappy payload is corrupt: its length header is wrong.')
      }
      return out
    },
  })
}

/** Reads snappy's uncompressed-length header (at most 32 bits, so at most 5 bytes). */
function snappyLength(bytes: Uint8Array): number {
  let length = 0
  for (let i = 0; i < 5; i++) {
    const byte = bytes[i]
    if (byte === undefined) break
    length += (byte & 0x7f) * 2 ** (7 * i)
    if (byte < 0x80) {
      if (length > 0xffffffff) break
      return length
    }
  }
  throw new SerializationError('The snappy payload is corrupt: its length header is malformed.')
}
