import { defineConfig } from 'tsup'

// One entry per package.json subpath (src/entries/*), plus the CLI. Adding a
// driver subpath means one file in src/entries and one line in package.json.
export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      testing: 'src/entries/testing.ts',
      redis: 'src/entries/redis.ts',
      postgres: 'src/entries/postgres.ts',
      mysql: 'src/entries/mysql.ts',
      sqlite: 'src/entries/sqlite.ts',
      memcached: 'src/entries/memcached.ts',
      nats: 'src/entries/nats.ts',
      keyv: 'src/entries/keyv.ts',
      dynamodb: 'src/entries/dynamodb.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    splitting: false,
    // Keep 'node:test' as written: without the prefix it resolves to nothing.
    removeNodeProtocol: false,
    // compression.ts loads the optional 'snappy' with createRequire(import.meta.url).
    shims: true,
    // Driver clients are optional peers: never bundled.
    external: [
      'vitest',
      'ioredis',
      'pg',
      'mysql2',
      'better-sqlite3',
      'memjs',
      'nats',
      'keyv',
      'snappy',
      '@aws-sdk/client-dynamodb',
    ],
  },
  {
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
])
