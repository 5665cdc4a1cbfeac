import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/strict-process.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Unhandled rejections fail the run (vitest's default); process warnings do too
    // through the setup file above.
    dangerouslyIgnoreUnhandledErrors: false,
    pool: 'forks',
  },
})
