import { InvalidKeyError } from './errors.js'

/** The longest key accepted, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024
// A UTF-16 code unit is at most 3 UTF-8 bytes, so a key this short needs no byte count.
const ALWAYS_SHORT_ENOUGH = Math.floor(MAX_KEY_BYTES / 3)

/**
 * Throws {@link InvalidKeyError} unless `key` is a non-empty, well-formed string of
 * at most 1024 UTF-8 bytes. Lone surrogates are refused because UTF-8 turns every
 * one of them into the same replacement character: two keys would share one slot
 * in every remote tier.
 *
 * @example
 * ```ts
 * checkKey('user:1') // ok
 * checkKey('')       // throws InvalidKeyError
 * ```
 */
export function checkKey(key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidKeyError(
      `A ${what} must be a non-empty string, not ${key === '' ? 'an empty string' : typeof key}.`,
    )
  }
  if (key.length > ALWAYS_SHORT_ENOUGH && Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new InvalidKeyError(
      `The ${what} '${key.slice(0, 32)}…' is ${Buffer.byteLength(key, 'utf8')} UTF-8 bytes; the most is ${MAX_KEY_BYTES}.`,
    )
  }
  if (!(key as unknown as WellFormed).isWellFormed()) {
    throw new InvalidKeyError(
      `The ${what} '${key}' holds a lone surrogate: it is not valid UTF-16.`,
    )
  }
}

interface WellFormed {
  isWellFormed(): boolean
}

/**
 * The storage prefix of a namespace: the name with `\` and `:` escaped, then `:`.
 * Escaping keeps `namespace('a').key('b:c')` and `namespace('a:b').key('c')` apart
 * (`a:b:c` against `a\:b:c`).
 *
 * @example
 * ```ts
 * namespacePrefix('users') // 'users:'
 * namespacePrefix('a:b')   // 'a\\:b:'
 * ```
 */
export function namespacePrefix(name: string): string {
  checkKey(name, 'namespace name')
  return name.replace(/[\\:]/g, '\\$&') + ':'
}
