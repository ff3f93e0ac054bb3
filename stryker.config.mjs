// Mutation testing of the TypeScript (issue 16): `npm run mutate`. Each mutant runs only the tests that
// cover it. The modules and suites here are those whose tests run in process and fast enough for a run of
// about an hour on two cores; widen `mutate` (and test/mutation/vitest.config.ts) to audit more. The C++
// has its own planted-bug run: scripts/mutate-native.cjs.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutation/vitest.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: ['lib/decode/**/*.ts', 'lib/metrics/**/*.ts', 'lib/io/**/*.ts', 'lib/data/**/*.ts', '!lib/decode/worker.ts', '!lib/data/prefetch.ts'],
  ignorePatterns: ['build-sanitize', 'build-fuzz', 'dist', 'prebuilds', 'reports', 'bench', 'docs'],
  concurrency: 1,
  timeoutMS: 30_000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
