/**
 * Tests what we ship (STYLE.md §8 lesson 14): the BUILT package in dist/, not src/.
 *
 * `npm test` runs `npm run build` before vitest, so dist/ is current there; running this
 * file alone needs `npm run build` first (the first test says so if dist/ is missing).
 *
 * Every import here happens in a fresh `node` child process rather than in vitest's own
 * module loader: vitest resolves and transforms modules its own way (its own conditions,
 * ESM interop for CJS), so only a real `node` shows what a user's `import`/`require` gets.
 * The bare specifiers (`tiercache`, `tiercache/testing`) resolve through Node's package
 * self-reference, which works because package.json has both `name` and `exports` and the
 * child's working directory is the repository root.
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))

interface PackageJson {
  name: string
  version: string
  bin?: Record<string, string>
  exports: Record<string, unknown>
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson

/** Subpaths to check, read from package.json so a new subpath is tested without edits. */
const subpaths = Object.keys(pkg.exports).filter((sub) => sub !== './package.json')

function specifierOf(subpath: string): string {
  return subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`
}

/** The file a `{ import|require: { default } }` export resolves to for one condition. */
function targetOf(subpath: string, condition: 'import' | 'require'): string {
  const entry = pkg.exports[subpath] as Record<string, { default?: string } | undefined>
  const target = entry[condition]?.default
  if (target === undefined) throw new Error(`exports["${subpath}"].${condition}.default is missing`)
  return resolve(root, target)
}

/** Every file path mentioned anywhere in `exports`. */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (value !== null && typeof value === 'object')
    return Object.values(value).flatMap(exportTargets)
  return []
}

interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * The environment for child processes: no NODE_OPTIONS (vitest's or a parent's) and no
 * colour. FORCE_COLOR goes too: with NO_COLOR beside it Node prints a warning to stderr.
 */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra, NO_COLOR: '1' }
  delete env.NODE_OPTIONS
  delete env.FORCE_COLOR
  return env
}

/** Runs `node ...args` at the repository root without vitest's or a parent's NODE_OPTIONS. */
async function runNode(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<RunResult> {
  const childEnv = plainEnv(env)
  return runFile(process.execPath, args, childEnv, timeoutMs)
}

async function runFile(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<RunResult> {
  return new Promise<RunResult>((resolvePromise) => {
    execFile(
      file,
      args,
      { cwd: root, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
        resolvePromise({ code, stdout, stderr })
      },
    )
  })
}

interface Loaded {
  names?: string[]
  resolved?: string
  error?: string
}

// One child per module system loads every subpath and reports its export names and the
// file it resolved to, as JSON on stdout. Failures are reported per subpath.
const ESM_PROBE = `
const out = {}
for (const spec of JSON.parse(process.env.TIERCACHE_SPECIFIERS)) {
  try {
    const ns = await import(spec)
    out[spec] = { names: Object.keys(ns).sort(), resolved: import.meta.resolve(spec) }
  } catch (err) {
    out[spec] = { error: String(err?.stack ?? err) }
  }
}
process.stdout.write(JSON.stringify(out))
`

const CJS_PROBE = `
const out = {}
for (const spec of JSON.parse(process.env.TIERCACHE_SPECIFIERS)) {
  try {
    const mod = require(spec)
    out[spec] = {
      names: Object.keys(mod).filter((name) => name !== '__esModule').sort(),
      resolved: require.resolve(spec),
    }
  } catch (err) {
    out[spec] = { error: String(err?.stack ?? err) }
  }
}
process.stdout.write(JSON.stringify(out))
`

async function probe(kind: 'esm' | 'cjs'): Promise<Record<string, Loaded>> {
  const args = kind === 'esm' ? ['--input-type=module', '-e', ESM_PROBE] : ['-e', CJS_PROBE]
  const result = await runNode(args, {
    TIERCACHE_SPECIFIERS: JSON.stringify(subpaths.map(specifierOf)),
  })
  if (result.code !== 0) {
    throw new Error(`${kind} probe exited with ${String(result.code)}:\n${result.stderr}`)
  }
  return JSON.parse(result.stdout) as Record<string, Loaded>
}

function loaded(results: Record<string, Loaded>, spec: string, kind: string): Loaded {
  const result = results[spec]
  if (result === undefined) throw new Error(`${kind} probe did not report ${spec}`)
  if (result.error !== undefined)
    throw new Error(`${kind} load of ${spec} failed:\n${result.error}`)
  return result
}

describe('built package (dist/)', () => {
  let esm: Record<string, Loaded> = {}
  let cjs: Record<string, Loaded> = {}

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist', 'index.js'))) {
      throw new Error('dist/ is missing: run `npm run build` first (`npm test` does it for you)')
    }
    ;[esm, cjs] = await Promise.all([probe('esm'), probe('cjs')])
  })

  it('has what package self-reference needs: a name and an exports map', () => {
    expect(pkg.name).toBe('tiercache')
    expect(typeof pkg.exports).toBe('object')
    expect(subpaths).toContain('.')
  })

  it('has every file named in package.json exports on disk', () => {
    const missing = exportTargets(pkg.exports).filter((file) => !existsSync(resolve(root, file)))
    expect(missing).toEqual([])
  })

  describe.each(subpaths)('subpath %s', (subpath) => {
    const spec = specifierOf(subpath)

    it(`imports ${spec} from ESM, resolving to exports.import`, () => {
      const result = loaded(esm, spec, 'ESM')
      expect(result.resolved).toBe(pathToFileURL(targetOf(subpath, 'import')).href)
      expect(result.names).not.toContain('default') // named exports only
      expect(result.names?.length).toBeGreaterThan(0)
    })

    it(`requires ${spec} from CommonJS, resolving to exports.require`, () => {
      const result = loaded(cjs, spec, 'CJS')
      expect(result.resolved).toBe(targetOf(subpath, 'require'))
      expect(result.names?.length).toBeGreaterThan(0)
    })

    it('exposes the same export names from ESM and CommonJS', () => {
      expect(loaded(cjs, spec, 'CJS').names).toEqual(loaded(esm, spec, 'ESM').names)
    })
  })

  it('exports createCache, memoryStore and TierCacheError from the main entry', () => {
    for (const [kind, results] of [
      ['ESM', esm],
      ['CJS', cjs],
    ] as const) {
      expect(loaded(results, pkg.name, kind).names).toEqual(
        expect.arrayContaining(['createCache', 'memoryStore', 'TierCacheError']),
      )
    }
  })

  it.each([
    ['ESM', ['--input-type=module', '-e'], `import { createCache } from 'tiercache'`],
    ['CJS', ['-e'], `const { createCache } = require('tiercache')`],
  ] as const)('runs a set and get through the %s build', async (_kind, flags, load) => {
    const script = `${load}
;(async () => {
  const cache = createCache()
  await cache.set('k', { n: 1 })
  const value = await cache.get('k')
  await cache.close()
  process.stdout.write(JSON.stringify(value))
})().catch((err) => { console.error(err); process.exitCode = 1 })`
    const result = await runNode([...flags, script])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({ n: 1 })
  })
})

describe('CLI (dist/cli.js)', () => {
  const cli = join(root, 'dist', 'cli.js')

  it('is the package bin, with a node shebang and the executable bit', () => {
    expect(pkg.bin?.tiercache).toBe('./dist/cli.js')
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true)
    expect(statSync(cli).mode & 0o111).not.toBe(0)
  })

  it('prints the package.json version for --version', async () => {
    const result = await runNode([cli, '--version'])
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toBe(pkg.version)
  })

  it('lists the demo command in --help', async () => {
    const result = await runNode([cli, '--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^\s+demo\b/m)
  })

  it('runs the demo', async () => {
    const result = await runNode([cli, 'demo'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/user:1, 1st call\s+loaded/)
    expect(result.stdout).toMatch(/user:1, 2nd call\s+hit/)
    expect(result.stdout).toMatch(
      /100 at once\s+loader ran 1 time for 100 callers, all got the same value/,
    )
    expect(result.stdout).toMatch(/batch loader ran 1 time, with: user:5, user:6, user:7\n/)
    expect(result.stdout).toMatch(/^stats: hits \d+/m)
  })
})

describe('package linters', () => {
  it('passes publint --strict', async () => {
    const { messages, pkg: linted } = await publint({ pkgDir: root, strict: true, pack: 'npm' })
    const problems = messages
      .filter((message) => message.type !== 'suggestion')
      .map((message) => `${message.type}: ${formatMessage(message, linted, { color: false })}`)
    expect(problems).toEqual([])
  })

  // `--profile node16` checks the resolutions Node and TypeScript's node16/nodenext/bundler
  // modes use and leaves out node10 (`moduleResolution: node`), which cannot see `exports`
  // subpaths at all; tiercache requires Node >= 20. The bin (dist/cli.js, ESM-only, no
  // types) is not an `exports` entry point, so attw does not look at it and no rule needs
  // ignoring. `--no-definitely-typed` keeps attw off the network (it would otherwise ask
  // the registry for @types/tiercache).
  it('passes attw --pack --profile node16', { timeout: 120_000 }, async () => {
    const attw = join(root, 'node_modules', '.bin', 'attw')
    const result = await runFile(
      attw,
      ['--pack', '.', '--profile', 'node16', '--no-definitely-typed', '--no-emoji', '--no-color'],
      plainEnv(),
      110_000,
    )
    expect(result.code, `attw reported problems:\n${result.stdout}\n${result.stderr}`).toBe(0)
  })
})
