import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Each file gets its own database (a PostgreSQL database cloned from a migrated template, or its own PGlite).
    pool: 'forks',
    fileParallelism: true,
    testTimeout: 30_000,
    // In CI a JSON report as well, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env['CI'] ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]] : ['default'],
    hookTimeout: 120_000,
  },
});
