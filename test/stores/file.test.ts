import { copyFile, mkdtemp, readdir, rm, truncate, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fileStore } from '../../src/stores/file.js'
import type { Store } from '../../src/stores/store.js'
import { describeStoreConformance } from '../../src/testing/store-conformance/index.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

/** Every file under `dir`, as paths relative to it. */
async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)))
}

// One temp dir per conformance test: the runner's `it` creates it before the test and
// removes it afterwards. Stores of one test share it, told apart by their prefix, so the
// suite's prefix-isolation and `shared` tests run against one directory.
let suiteDir = ''
const runner = {
  describe,
  it(name: string, fn: () => Promise<void> | void, timeout?: number): void {
    it(
      name,
      async () => {
        suiteDir = await mkdtemp(join(tmpdir(), 'tiercache-file-'))
        try {
          await fn()
        } finally {
          await rm(suiteDir, { recursive: true, force: true })
        }
      },
      timeout,
    )
  },
}

describeStoreConformance('fileStore', ({ prefix }) => fileStore({ dir: suiteDir, prefix }), {
  runner,
})

describe('fileStore on disk', () => {
  let parent = ''
  let dir = ''
  const opened: Store[] = []
  const open = (prefix?: string): Store => {
    const store = fileStore({ dir, prefix })
    opened.push(store)
    return store
  }

  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'tiercache-file-x1-'))
    dir = join(parent, 'cache')
  })

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close()
    await rm(parent, { recursive: true, force: true })
  })

  it('keys with ../, NUL and 1024 bytes of emoji never create anything outside dir', async () => {
    const store = open()
    const keys = [
      '../escape',
      '../../../../../../tmp/escape',
      '/etc/passwd',
      'a\0b',
      '..\\..\\win',
      '🎉'.repeat(256), // 1024 UTF-8 bytes
      '.',
      '..',
    ]
    for (const key of keys) {
      await store.set(key, bytes(key))
      expect(await store.add(`${key}-add`, bytes('a'))).toBe(true)
      expect(await store.increment(`${key}-n`, 1)).toBe(1)
    }
    for (const key of keys) expect(await store.get(key)).toEqual(bytes(key))
    expect(await readdir(parent)).toEqual(['cache'])
    const files = await listTree(dir)
    expect(files.length).toBe(keys.length * 3)
    for (const file of files) {
      expect(file.startsWith('..')).toBe(false)
      expect(file.split(sep)).toHaveLength(3)
      expect(file).toMatch(/^[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/)
    }
    const listed = new Set<string>()
    let cursor: string | undefined
    do {
      const page = await store.keys({ cursor, limit: 5 })
      for (const e of page.entries) listed.add(e.key)
      cursor = page.cursor
    } while (cursor !== undefined)
    for (const key of keys) expect(listed.has(key)).toBe(true)
  })

  it('concurrent adds from two store instances on one dir: exactly one wins', async () => {
    const a = open('p:')
    const b = open('p:')
    for (let round = 0; round < 20; round++) {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? a : b).add(`race-${round}`, bytes(`w${i}`)),
        ),
      )
      expect(results.filter(Boolean)).toHaveLength(1)
      const winner = results.indexOf(true)
      expect(await b.get(`race-${round}`)).toEqual(bytes(`w${winner}`))
    }
  })

  it('concurrent increments from two store instances lose nothing', async () => {
    const a = open()
    const b = open()
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).increment('n', 1)))
    expect(new TextDecoder().decode(await a.get('n'))).toBe('40')
  })

  it('a truncated or foreign file is a miss, and a corrupt one is deleted', async () => {
    const store = open()
    await store.set('k', bytes('a value long enough to cut'))
    const [file] = await listTree(dir)
    await truncate(join(dir, file!), 20)
    expect(await store.get('k')).toBeUndefined()
    expect(await listTree(dir)).toEqual([])
    expect(await store.add('k', bytes('again'))).toBe(true)
    expect(await store.get('k')).toEqual(bytes('again'))
    // A file of another format where the entry would be.
    await writeFile(join(dir, file!), 'not an entry file')
    expect(await store.get('k')).toBeUndefined()
    expect(await store.take('k')).toBeUndefined()
    // A well-formed entry of another key, copied where this key's entry would be.
    await store.set('other', bytes('x'))
    const otherFile = (await listTree(dir)).find((f) => f !== file)!
    await copyFile(join(dir, otherFile), join(dir, file!))
    expect(await store.get('k')).toBeUndefined()
    expect(await store.get('other')).toEqual(bytes('x'))
  })

  it('a ttl of 0 or below stores an entry that is already expired', async () => {
    const store = open()
    await store.set('zero', bytes('v'), 0)
    await store.set('negative', bytes('v'), -1e15)
    expect(await store.getMany(['zero', 'negative'])).toEqual([undefined, undefined])
    expect(await store.add('negative', bytes('w'))).toBe(true)
    expect(await store.get('negative')).toEqual(bytes('w'))
  })

  it('a stale lock left by a crashed process is broken', async () => {
    const store = open()
    await store.set('k', bytes('v'))
    const [file] = await listTree(dir)
    const lock = join(dir, `${file!}.lock`)
    await writeFile(lock, '')
    const old = new Date(Date.now() - 60_000)
    await utimes(lock, old, old)
    expect(await store.increment('n', 2)).toBe(2)
    expect(await store.take('k')).toEqual(bytes('v'))
  })

  it('a file system failure rejects with E_STORE_UNAVAILABLE', async () => {
    // A regular file where the directory should be.
    await writeFile(join(parent, 'blocker'), 'x')
    const store = fileStore({ dir: join(parent, 'blocker', 'sub') })
    opened.push(store)
    await expect(store.set('k', bytes('v'))).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
    await expect(store.ready()).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' })
  })

  it('rejects missing options with E_INVALID_ARGUMENT', () => {
    expect(() => fileStore({ dir: '' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
  })
})
