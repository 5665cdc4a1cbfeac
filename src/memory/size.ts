/**
 * A rough, cheap estimate of the heap bytes a value holds, for `maxBytes`.
 * Walks at most a few levels and a bounded number of members, so a huge value
 * costs bounded time; what it does not walk it counts as a fixed amount.
 * Pass `sizeOf` to `memoryStore` when you know better.
 *
 * @example
 * ```ts
 * estimateSize('hello')           // 22
 * estimateSize(new Uint8Array(1000)) // 1048
 * ```
 */
export function estimateSize(value: unknown): number {
  return sizeAt(value, 0)
}

const MAX_DEPTH = 4
const MAX_MEMBERS = 256
const UNWALKED = 64

function sizeAt(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'string':
      return 12 + value.length * 2
    case 'number':
    case 'boolean':
    case 'undefined':
    case 'symbol':
      return 8
    case 'bigint':
      return 16 + Math.ceil(value.toString(16).length / 2)
    case 'function':
      return UNWALKED
    default:
      break
  }
  if (value === null) return 8
  if (ArrayBuffer.isView(value)) return 48 + value.byteLength
  if (value instanceof ArrayBuffer) return 32 + value.byteLength
  if (value instanceof Date) return 32
  if (depth >= MAX_DEPTH) return UNWALKED
  let total = 32
  let seen = 0
  if (value instanceof Map) {
    for (const [k, v] of value) {
      if (++seen > MAX_MEMBERS) return total + (value.size - MAX_MEMBERS) * UNWALKED
      total += 16 + sizeAt(k, depth + 1) + sizeAt(v, depth + 1)
    }
    return total
  }
  if (value instanceof Set) {
    for (const v of value) {
      if (++seen > MAX_MEMBERS) return total + (value.size - MAX_MEMBERS) * UNWALKED
      total += 8 + sizeAt(v, depth + 1)
    }
    return total
  }
  if (Array.isArray(value)) {
    const n = Math.min(value.length, MAX_MEMBERS)
    for (let i = 0; i < n; i++) total += 8 + sizeAt(value[i], depth + 1)
    return total + (value.length - n) * UNWALKED
  }
  for (const k in value as Record<string, unknown>) {
    if (++seen > MAX_MEMBERS) return total + UNWALKED * 16
    total += 8 + k.length * 2 + sizeAt((value as Record<string, unknown>)[k], depth + 1)
  }
  return total
}
