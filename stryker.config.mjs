// StrykerJS for `npm run mutate`: mutants of guest page hinting's kernel paths and of the
// simulator's synchronisation primitives, run against the fast tests (vitest.mutate.config.ts).
// `npm run mutate -- --mutate <files>` narrows the scope.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  mutate: ['engine/mm/hinting/**/*.ts', 'engine/sim/sync.ts'],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  // A mutant that makes a path spin (a lock never released, a wait never ended) is a time-out:
  // counted as detected, as Stryker does.
  timeoutMS: 30_000,
  timeoutFactor: 2,
  reporters: ['progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', 'coverage', 'reports', '*.db', '*.db-wal', '*.db-shm'],
}
