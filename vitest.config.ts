import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end files start real containers: give them room, and run at most two files at once
    // (CI has two cores).
    testTimeout: 120_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
