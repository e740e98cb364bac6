// Page isolation's two published races, each both ways (kernel-facts.md §2): with the kernel's
// code (v4.13 plus the race's fix) no seed of the sweep records a finding; with the fix switched
// off some seed does. The workloads are the examples in workloads/, so a user can run any seed
// found here (`mmsim run --workload workloads/isolation-contig.json --seed 1 --variant isolateRecheck=off`).
import { describe, expect, it } from 'vitest'
import { isolationView } from '../projections'
import { loadWorkload } from '../workload/load'
import { runInMemory, seeds } from './helpers'
import * as sweep from './sweep'

describe('Kravetz 2018: two range isolators (isolateRecheck, 2c7452a075d4)', () => {
  const file = 'workloads/isolation-contig.json'
  it('off (v4.13): a CMA and a gigantic-page allocation isolate each other’s pageblocks, so nr_isolate_pageblock counts blocks twice and one takes pages inside the other’s isolated range (some seed in 1..20)', async () => {
    const sim = await sweep.intact()
    const w = sim.loadWorkload(file)
    expect(sweep.firstSeedBreaking(sim, w, { isolateRecheck: 'off' }, 'isolation.nr-isolate-pageblock', seeds(1, 20))).not.toBeNull()
    expect(sweep.firstSeedBreaking(sim, w, { isolateRecheck: 'off' }, 'isolation.no-alloc-inside', seeds(1, 20))).not.toBeNull()
  })
  const range = sweep.sweepSeeds(1, 500)
  it(`on (the fix): no seed in ${range.from}..${range.to} records a finding; the second isolator gets -EBUSY`, async () => {
    const sim = await sweep.intact()
    const bad = sweep.seedsViolating(sim, sim.loadWorkload(file), { isolateRecheck: 'on' }, range.seeds)
    expect(bad, sweep.failingSeeds(bad, range)).toEqual([])
    const ended = runInMemory(loadWorkload(file)).events.flatMap((e) => (e.type === 'IsolationEnded' ? [e.data.errno] : []))
    expect(ended.sort()).toEqual(['EBUSY', null])
  })
})

describe('Joonsoo Kim 2014: the free path reads the pageblock type without the zone lock (freeMtRecheck)', () => {
  const file = 'workloads/isolation-free-race.json'
  it('off: pages freed with a stale type leave NR_FREE_PAGES and the free lists apart; the state shows the miscount (seed 1)', () => {
    const { result } = runInMemory({ ...loadWorkload(file), variants: { freeMtRecheck: 'off' } }, 1)
    const normal = isolationView(result.state).zones[0]!
    expect(normal.miscount).toBeGreaterThan(0)
    expect(result.state.stats.violations.map((v) => v.name)).toContain('isolation.nr-free-pages')
  })
  // Each run is about 200,000 events: `mmsim explore` covers seeds 1..500 (README); the suite takes 1..8.
  const range = sweep.sweepSeeds(1, 8)
  it(`on (the fix): no seed in ${range.from}..${range.to} records a finding`, async () => {
    const sim = await sweep.intact()
    const bad = sweep.seedsViolating(sim, sim.loadWorkload(file), { freeMtRecheck: 'on' }, range.seeds)
    expect(bad, sweep.failingSeeds(bad, range)).toEqual([])
  })
})
