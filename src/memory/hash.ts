/**
 * A 32-bit FNV-1a hash of a key's UTF-16 code units, for the eviction policies
 * (frequency sketches, ghost lists). Computed once per insert, never on a hit.
 *
 * @example
 * ```ts
 * hashKey('user:1') // a uint32
 * ```
 */
export function hashKey(key: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}
