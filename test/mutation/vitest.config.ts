// The suites of the mutation run (stryker.config.json): those of the mutated modules, run in process (no
// child processes, whose code Stryker cannot switch between mutants).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/metrics/**/*.test.ts', 'test/io/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
