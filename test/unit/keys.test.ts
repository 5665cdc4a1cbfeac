import { describe, expect, it } from 'vitest'
import { InvalidKeyError } from '../../src/index.js'
import { checkKey, namespacePrefix } from '../../src/keys.js'

describe('checkKey', () => {
  it('accepts keys up to 1024 UTF-8 bytes, whatever their characters', () => {
    for (const key of [
      'a',
      'user:1',
      'with space',
      'a\r\nb',
      'nul\0byte',
      '*?[ab]\\',
      '%_',
      '../x',
      '🔑',
    ]) {
      expect(() => checkKey(key)).not.toThrow()
    }
    expect(() => checkKey('x'.repeat(1024))).not.toThrow()
    expect(() => checkKey('é'.repeat(512))).not.toThrow() // 1024 bytes
  })

  it('refuses empty, non-string, over-long and malformed keys', () => {
    for (const key of [
      '',
      'x'.repeat(1025),
      'é'.repeat(513),
      '€'.repeat(342),
      '\uD800',
      'a\uDC00b',
      1,
      null,
      undefined,
      {},
    ]) {
      expect(() => checkKey(key)).toThrow(InvalidKeyError)
    }
  })
})

describe('namespacePrefix', () => {
  it('escapes separators so namespaces and keys cannot collide', () => {
    expect(namespacePrefix('users')).toBe('users:')
    expect(namespacePrefix('a') + 'b:c').not.toBe(namespacePrefix('a:b') + 'c')
    expect(namespacePrefix('a\\')).toBe('a\\\\:')
  })

  it('refuses an empty name', () => {
    expect(() => namespacePrefix('')).toThrow(InvalidKeyError)
  })
})
