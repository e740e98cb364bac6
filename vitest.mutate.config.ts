// The fast tests `npm run mutate` runs against each Stryker mutant: the unit tests of the
// allocator, hinting and the simulator, and the race tests over a dozen seeds (the full sweeps
// run in the protection removals). Each mutant gets Stryker's time-out (stryker.config.mjs).
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/hinting.test.ts', 'test/engine.test.ts', 'test/buddy.test.ts', 'test/invariants.test.ts', 'test/ipi.test.ts', 'test/races.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { MMSIM_RACE_SEEDS: '1-12', MMSIM_MUTANT: 'stryker' },
  },
})
