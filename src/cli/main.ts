/**
 * The `tiercache` bin (package.json `bin`, built to dist/cli.js by tsup; `npm start` runs
 * it from source with tsx). Commands live here; what they do lives in their own files
 * (`demo.ts`), so each can be tested without a process.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { runDemo } from './demo.js'

/**
 * The version in tiercache's own package.json, found by walking up from this file. That
 * works from src/cli/main.ts (tsx: two levels up), from dist/cli.js (one level up) and
 * from an installed node_modules/tiercache/dist/cli.js, without bundling package.json.
 */
function packageVersion(): string {
  const start = dirname(fileURLToPath(import.meta.url))
  for (let dir = start; ; dir = dirname(dir)) {
    let text: string | undefined
    try {
      text = readFileSync(join(dir, 'package.json'), 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    if (text !== undefined) {
      const pkg = JSON.parse(text) as { name?: unknown; version?: unknown }
      if (pkg.name === 'tiercache' && typeof pkg.version === 'string') return pkg.version
    }
    if (dirname(dir) === dir) {
      throw new Error(`cannot find tiercache's package.json above ${start}`)
    }
  }
}

const program = new Command()
  .name('tiercache')
  .description('A typed multi-tier cache for Node.js.')
  .version(packageVersion(), '-V, --version', 'print the tiercache version')
  .showHelpAfterError()

program
  .command('demo')
  .description('show read-through, stampede protection, batch loading and stats on the memory tier')
  .action(async () => {
    await runDemo((line) => console.log(line))
  })

try {
  await program.parseAsync(process.argv)
} catch (err) {
  console.error(`tiercache: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
}
