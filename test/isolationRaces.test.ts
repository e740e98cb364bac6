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

describe('guest page hinting beside hot-remove (discardIntoIsolated)', () => {
  const file = 'workloads/isolation-discard.json'
  it('pcp (GPH06’s free_cold_page): a collected page freed into an isolated pageblock is handed out again from the collector’s per-CPU list (some seed in 1..10)', async () => {
    const sim = await sweep.intact()
    expect(sweep.firstSeedBreaking(sim, sim.loadWorkload(file), { discardIntoIsolated: 'pcp' }, 'hinting-isolation.collected-page-reallocated', seeds(1, 10))).not.toBeNull()
  })
  const range = sweep.sweepSeeds(1, 100)
  it(`isolate-check (v4.13's free_hot_cold_page): no seed in ${range.from}..${range.to} records a finding`, async () => {
    const sim = await sweep.intact()
    const bad = sweep.seedsViolating(sim, sim.loadWorkload(file), { discardIntoIsolated: 'isolate-check' }, range.seeds)
    expect(bad, sweep.failingSeeds(bad, range)).toEqual([])
  })
  it('a page waiting on a discarded-page list is neither free nor in use: offline_pages fails until the collection frees it', () => {
    const ends = runInMemory(loadWorkload(file), 2).events.flatMap((e) => (e.type === 'IsolationEnded' ? [e.data.outcome] : []))
    expect(ends).toContain('undone')
    expect(ends).toContain('offlined')
  })
})
