// The race the RFC's boundary helpers exist for (workloads/aeration-boundary-race.json): an
// allocation takes the boundary block while the host reacts to a batch, the zone ACTIVE and its
// lock dropped. With aerator_del_from_boundary (the RFC) no seed of 1..500 records a finding;
// skipped when the boundary block is allocated (delFromBoundary skip-when-allocated), or with the
// protection removed from the source (mutate/protections.ts), boundary.valid finds it.
import { describe, expect, it } from 'vitest'
import { protection } from '../mutate/protections'
import { runInMemory, seeds } from './helpers'
import { loadWorkload } from '../workload/load'
import * as sweep from './sweep'

const FILE = 'workloads/aeration-boundary-race.json'
const INVARIANT = 'boundary.valid-between-events'
const SWEEP = sweep.sweepSeeds(1, 500)
const inMutant = process.env.MMSIM_MUTANT !== undefined

describe('aerator_del_from_boundary against an allocation of the boundary block (delFromBoundary)', () => {
  it('skip-when-allocated: boundary.valid finds the boundary left on the allocated block (some seed in 1..20), and says after which event', async () => {
    const sim = await sweep.intact()
    const seed = sweep.firstSeedBreaking(sim, sim.loadWorkload(FILE), { delFromBoundary: 'skip-when-allocated' }, INVARIANT, seeds(1, 20))
    expect(seed).not.toBeNull()
    const { events } = runInMemory({ ...loadWorkload(FILE), variants: { reporting: 'aeration', delFromBoundary: 'skip-when-allocated' } }, seed!)
    const found = events.find((e) => e.type === 'InvariantViolated' && e.data.name === INVARIANT)!
    const m = /^after seq (\d+): the boundary of Normal free_area\[(\d+)\]\.free_list\[Movable\] points at block (\d+), which is not on that list$/.exec(
      found.type === 'InvariantViolated' ? found.data.message : '',
    )
    expect(m).not.toBeNull()
    const culprit = events[Number(m![1]) - 1]!
    expect(culprit.type).toBe('PageAllocated')
    expect(culprit.type === 'PageAllocated' && culprit.data.pfn).toBe(Number(m![3]))
  })

  it(`always (the RFC): no seed in ${SWEEP.from}..${SWEEP.to} records a finding`, async () => {
    const sim = await sweep.intact()
    const bad = sweep.seedsViolating(sim, sim.loadWorkload(FILE), { delFromBoundary: 'always' }, SWEEP.seeds)
    expect(bad, sweep.failingSeeds(bad, SWEEP)).toEqual([])
  })

  it.skipIf(inMutant)('the protection removed from the source: the RFC setting finds it too (some seed in 1..20)', async () => {
    const sim = await sweep.without(protection('aerator-del-from-boundary'))
    expect(sweep.firstSeedBreaking(sim, sim.loadWorkload(FILE), { delFromBoundary: 'always' }, INVARIANT, seeds(1, 20))).not.toBeNull()
  })
})
