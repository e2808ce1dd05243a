import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    // End-to-end files start real containers: give them room, and run at most two files at once
    // (CI has two cores).
    testTimeout: 180_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
    pool: 'forks',
    projects: [
      {
        // Pure parts and the workflows on in-memory fakes: no engine, no build, seconds.
        extends: true,
        test: {name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: {groupOrder: 0}},
      },
      {
        // The built CLI as a child process against a real Docker engine and OpenSSH.
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: ['test/e2e/robustness.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          sequence: {groupOrder: 0},
        },
      },
      {
        // The load and crash tests start dozens of processes at once; they run alone, after the
        // rest, so their load cannot push other files' timings (SSH waits, lock waits) over the edge.
        extends: true,
        test: {
          name: 'load',
          include: ['test/e2e/robustness.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          sequence: {groupOrder: 1},
        },
      },
    ],
  },
});
