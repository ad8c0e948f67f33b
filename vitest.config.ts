import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // chDB binds one data directory per process: every test file runs in its own child process.
    pool: 'forks',
    isolate: true,
    maxWorkers: 2,
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // route-coverage: every documented operation must answer a 2xx in some test (whole runs only).
    reporters: ['default', './test/setup/route-coverage.ts'],
  },
})
