// Mutation testing of the TypeScript (issue 16): `npm run mutate`. Each mutant runs only the tests that
// cover it. The modules here (about 1,600 mutants: the metrics, safetensors, half floats and atomic
// writes) have tests that run in process in milliseconds, for a run of well under an hour on two cores;
// widen `mutate` (and test/mutation/vitest.config.ts) to audit more, lib/decode next. The C++ has its own
// planted-bug run: scripts/mutate-native.cjs.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutation/vitest.config.ts' },
  coverageAnalysis: 'perTest',
  // Stryker rewrites the tsconfig's `extends` and `references` for its sandbox through TypeScript's JS API,
  // which TypeScript 7 no longer has. Ours has neither, so naming no file here skips that step.
  tsconfigFile: '',
  mutate: ['lib/metrics/**/*.ts', 'lib/io/**/*.ts'],
  ignorePatterns: ['build-sanitize', 'build-fuzz', 'dist', 'prebuilds', 'reports', 'bench', 'docs'],
  concurrency: 1,
  timeoutMS: 30_000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
