import { defineConfig } from 'vitest/config';

/** Each worker gets its own database and Redis prefix; keep this in step with test/setup. */
export const TEST_WORKERS = 3;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    setupFiles: ['test/setup/worker.ts'],
    pool: 'forks',
    maxWorkers: TEST_WORKERS,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
