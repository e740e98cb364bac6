// Anonymous reverse mapping's races and bugs, each both ways (kernel-facts.md §3): with the
// kernel's code the workload never breaks the invariant over a seed range; with the variant the
// reference material argues about, or with a protection removed by a source patch
// (mutate/protections.ts), some seed does. The workloads are the examples in workloads/, so a user
// can replay any seed found here (`mmsim run --workload workloads/anon-vma-lock-rmap.json --seed 1`
// with `"lockRmap": "off"`).
import { describe, expect, it } from 'vitest'
import { protection } from '../mutate/protections'
import type { Variants } from '../workload/codec'
import { loadWorkload } from '../workload/load'
import { runInMemory, seeds } from './helpers'
import * as sweep from './sweep'

// 1..500, or the range `npm run mutate` asks for (MMSIM_RACE_SEEDS).
const SWEEP = sweep.sweepSeeds(1, 500)
/** Inside a mutant (`npm run mutate`), the tests that remove a protection themselves are moot. */
const inMutant = process.env.MMSIM_MUTANT !== undefined

/** A variant switched off: some seed of `search` breaks `invariant`. */
const foundWith = async (file: string, variants: Variants, invariant: string, search: readonly number[]): Promise<number | null> => {
  const sim = await sweep.intact()
  return sweep.firstSeedBreaking(sim, sim.loadWorkload(file), variants, invariant, search)
}

/** The kernel's setting: no seed of the sweep records any finding. */
const clean = async (file: string, variants: Variants, range = SWEEP): Promise<void> => {
  const sim = await sweep.intact()
  const bad = sweep.seedsViolating(sim, sim.loadWorkload(file), variants, range.seeds)
  expect(bad, sweep.failingSeeds(bad, range)).toEqual([])
}

describe('anon_vma_prepare and threads (anonVmaPrepare)', () => {
  const file = 'workloads/anon-vma-prepare.json'
  it('unchecked: two threads faulting the first page of one VMA both attach an anon_vma (some seed in 1..20)', async () => {
    expect(await foundWith(file, { anonVmaPrepare: 'unchecked' }, 'rmap.prepare-once', seeds(1, 20))).not.toBeNull()
  })
  it(`recheck (the kernel): no seed in ${SWEEP.from}..${SWEEP.to} records a finding`, () => clean(file, { anonVmaPrepare: 'recheck' }))
})

describe('rmap walks against vma_adjust (lockRmap)', () => {
  const file = 'workloads/anon-vma-lock-rmap.json'
  it('off: a walk finds the pages mprotect moves covered by neither VMA and misses their pte (some seed in 1..20)', async () => {
    expect(await foundWith(file, { lockRmap: 'off' }, 'rmap.walk-complete', seeds(1, 20))).not.toBeNull()
  })
  it(`on (the kernel): no seed in ${SWEEP.from}..${SWEEP.to} records a finding`, () => clean(file, { lockRmap: 'on' }))
})

describe('anon_vma reuse at fork (anonVmaReuse)', () => {
  const file = 'workloads/anon-vma-reuse.json'
  // One CPU: the pattern is deterministic, every seed runs the same.
  it('degree: the 2022 double reuse, found by the deterministic fork pattern: two VMAs of process 9 share an anon_vma with different chains, vma_merge folds one into the other, and an anon_vma mapped pages name is freed', () => {
    const names = new Set(
      runInMemory({ ...loadWorkload(file), variants: { anonVmaReuse: 'degree' } })
        .events.filter((e) => e.type === 'InvariantViolated')
        .map((e) => (e.type === 'InvariantViolated' ? e.data.name : '')),
    )
    for (const n of ['rmap.reuse-unused', 'rmap.anon-vma-freed-in-use', 'rmap.walk-on-stale-mapping', 'rmap.pages-reachable']) expect(names).toContain(n)
  })
  it('fixed (the kernel since 2555283eb40d) and off: the same pattern records no finding (seeds 1..5)', async () => {
    for (const anonVmaReuse of ['fixed', 'off'] as const) await clean(file, { anonVmaReuse }, sweep.sweepSeeds(1, 5))
  })

  // 7a3ef208e662: "Constantly forking task causes unlimited grow of anon_vma chain."
  const generations = (n: number, anonVmaReuse: 'fixed' | 'degree' | 'off') => {
    const w = loadWorkload('workloads/anon-vma-endless-chain.json')
    // The first op and n (fork, exit, write) generations.
    const { result } = runInMemory({ ...w, variants: { anonVmaReuse }, ops: w.ops.slice(0, 1 + 3 * n) })
    const a = result.state.anonVma
    return { anonVmas: a.anonVmas.size, vmas: a.vmas.size, chain: Math.max(...[...a.vmas.values()].map((v) => v.chain.length)), violations: result.violations }
  }
  it('off: a fork-and-exit chain grows one anon_vma level per generation, none freed (4, 8, 12 generations)', () => {
    expect([4, 8, 12].map((n) => generations(n, 'off'))).toEqual([
      { anonVmas: 5, vmas: 1, chain: 5, violations: 0 },
      { anonVmas: 9, vmas: 1, chain: 9, violations: 0 },
      { anonVmas: 13, vmas: 1, chain: 13, violations: 0 },
    ])
  })
  it('with reuse the chain stays three levels deep however many generations pass', () => {
    for (const mode of ['fixed', 'degree'] as const) for (const n of [4, 8, 12]) expect(generations(n, mode)).toEqual({ anonVmas: 3, vmas: 1, chain: 3, violations: 0 })
  })
})

describe('page_lock_anon_vma and a stale page->mapping', () => {
  it(`the walker re-checks page_mapped under the root's lock: no seed in ${SWEEP.from}..${SWEEP.to} walks a stale mapping (anon-vma-stale-walk)`, () =>
    clean('workloads/anon-vma-stale-walk.json', {}))
})

describe('the fork-heavy example (anon-vma-fork)', () => {
  for (const anonVmaLinking of ['chain', 'legacy'] as const)
    it(`${anonVmaLinking} linking: no seed in 1..100 records a finding`, () => clean('workloads/anon-vma-fork.json', { anonVmaLinking }, sweep.sweepSeeds(1, 100)))
})

// Each protection removed by its source patch, in a temporary copy of the tree: some seed of its
// workload breaks its invariant. In place, the sweeps above show none does.
describe('protections that matter (mm/rmap.c, mm/mmap.c)', () => {
  const cases = [
    { id: 'anon-vma-prepare-rechecks', search: seeds(1, 20) },
    { id: 'vma-adjust-locks-rmap', search: seeds(1, 20) },
    { id: 'anon-vma-reuse-counts-apart', search: seeds(1, 1) },
    { id: 'walk-rechecks-page-mapped', search: seeds(1, 100) },
    { id: 'fork-links-parent-anon-vmas', search: seeds(1, 5) },
  ] as const
  for (const c of cases) {
    const p = protection(c.id)
    it.skipIf(inMutant)(`${p.id} removed: some seed in ${c.search[0]}..${c.search[c.search.length - 1]} of ${p.workload} breaks ${p.invariant}`, async () => {
      const sim = await sweep.without(p)
      expect(sweep.firstSeedBreaking(sim, sim.loadWorkload(p.workload), {}, p.invariant, c.search)).not.toBeNull()
    })
  }
})
