// Guest page hinting's races, one per variant: with the protection off, some seed in 1..500 of
// a small racy workload violates the named invariant; with it on, none of those seeds does.
// The workloads are the examples in workloads/, so a user can replay any seed found here.
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../engine/config'
import { simulate } from '../engine/run'
import type { Variants, Workload } from '../workload/codec'
import { loadWorkload } from '../workload/load'
import { seeds } from './helpers'
import { protection } from '../mutate/protections'
import * as sweep from './sweep'

// 1..500, or the range `npm run mutate` asks for (MMSIM_RACE_SEEDS).
const SWEEP = sweep.sweepSeeds(1, 500)
const SEEDS = SWEEP.seeds
const RANGE = `${SWEEP.from}..${SWEEP.to}`
/** Inside a mutant (`npm run mutate`), the tests that remove a protection themselves are moot. */
const inMutant = process.env.MMSIM_MUTANT !== undefined

/** The invariant names a run violates, in the order they were first found. */
const violations = (w: Workload, variants: Variants, seed: number): string[] => {
  const names: string[] = []
  simulate({
    workload: { ...w, variants: { ...w.variants, ...variants } },
    seed,
    config: resolveConfig(),
    sink: { append: (e) => void (e.type === 'InvariantViolated' && !names.includes(e.data.name) && names.push(e.data.name)) },
  })
  return names
}

/** Searches stop at the first failing seed, so they keep the whole range (1..500). */
const firstFailingSeed = (w: Workload, variants: Variants): { seed: number; names: string[] } | null => {
  for (const seed of seeds(1, 500)) {
    const names = violations(w, variants, seed)
    if (names.length > 0) return { seed, names }
  }
  return null
}

const seedsViolating = (w: Workload, variants: Variants): number[] => SEEDS.filter((seed) => violations(w, variants, seed).length > 0)
/** The message a sweep fails with: which seeds, of how many. */
const failing = (bad: number[]): string => `${bad.length} of seeds ${RANGE} fail: ${bad.join(', ')}`

describe('discarded-page list (GPH06 8/9)', () => {
  const w = loadWorkload('workloads/gph-discard-list.json')
  it('without it, a discard fault pins a frame that was freed and reused', () => {
    const found = firstFailingSeed(w, { discardList: 'off' })
    expect(found).not.toBeNull()
    expect(found!.names).toContain('hinting.discard-fault-on-reused-frame')
  })
  it(`with it, no seed in ${RANGE} lets a discard fault reach a reused frame`, () => {
    const bad = seedsViolating(w, { discardList: 'on' })
    expect(bad, failing(bad)).toEqual([])
  })
})

describe('page state changes (GPH09 1/6 and its review)', () => {
  const w = loadWorkload('workloads/gph-state-change.json')
  it('unprotected, make_volatile lands after a reader made the page stable, and the host discards it in use', () => {
    const found = firstFailingSeed(w, { stateChange: 'none' })
    expect(found).not.toBeNull()
    expect(found!.names).toContain('hinting.no-discard-in-use')
  })
  it(`with the state-change bit (the patch), no seed in ${RANGE} discards a page in use`, () => {
    const bad = seedsViolating(w, { stateChange: 'lock' })
    expect(bad, failing(bad)).toEqual([])
  })
  it("compare-and-swap (the review) compares the state word only: a reader's reference does not stop it, and the host discards the page in use", () => {
    const found = firstFailingSeed(w, { stateChange: 'cas' })
    expect(found).not.toBeNull()
    expect(found!.names).toContain('hinting.no-discard-in-use')
  })
})

describe("volatile at writeback end (the review's question)", () => {
  const w = loadWorkload('workloads/gph-volatile-at.json')
  it('made volatile when the I/O starts, a page under writeback is discarded', () => {
    const found = firstFailingSeed(w, { volatileAt: 'writeback-start' })
    expect(found).not.toBeNull()
    expect(found!.names).toContain('hinting.no-discard-writeback')
  })
  it(`made volatile when writeback ends, no seed in ${RANGE} discards a page under writeback`, () => {
    const bad = seedsViolating(w, { volatileAt: 'writeback-end' })
    expect(bad, failing(bad)).toEqual([])
  })
})

describe('fork against page_discard (copy_one_pte)', () => {
  const w = loadWorkload('workloads/gph-fork-vs-discard.json')
  it('unchecked, the child gets a pte to a page being discarded', () => {
    const found = firstFailingSeed(w, { forkVsDiscard: 'unchecked' })
    expect(found).not.toBeNull()
    expect(found!.names).toContain('hinting.no-pte-to-discarded')
  })
  it(`checked, no seed in ${RANGE} leaves a pte to a discarded page`, () => {
    const bad = seedsViolating(w, { forkVsDiscard: 'checked' })
    expect(bad, failing(bad)).toEqual([])
  })
})

// Each protection the model carries from the patch must matter: removed (by the source patch in
// mutate/protections.ts, applied to a temporary copy, never a switch in the product), some seed
// of a sensitive workload breaks its invariant; in place, none of the same seeds does. The
// regular suite sweeps a few seeds that include known failing ones; `npm run mutate` sweeps
// 1..200 (MMSIM_RACE_SEEDS). Searches run over a range, so a change in the engine that moves
// the failing seeds does not break the test.
describe('protections that matter (GPH06 8/9, issue 7 §4)', () => {
  const REUSED = 'hinting.discard-fault-on-reused-frame'
  const cases = [
    { id: 'fault-pins-before-irq-enable', on: sweep.sweepSeeds(1, 20), search: seeds(1, 100) },
    { id: 'ipi-waits-for-irqs-off', on: sweep.sweepSeeds(1, 20), search: seeds(1, 100) },
    { id: 'collection-on-each-cpu', on: sweep.sweepSeeds(1, 30), search: seeds(1, 200) },
  ] as const
  for (const c of cases) {
    const p = protection(c.id)
    describe(`${p.id} (${p.workload})`, () => {
      it.skipIf(inMutant)(`removed, some seed in ${c.search[0]}..${c.search[c.search.length - 1]} lets a discard fault pin a reused frame`, async () => {
        const sim = await sweep.without(p)
        const w = sim.loadWorkload(p.workload)
        expect(p.invariant).toBe(REUSED)
        expect(sweep.firstSeedBreaking(sim, w, {}, REUSED, c.search)).not.toBeNull()
      })
      // Only the protection's own invariant: the tiny-pcp workloads also reach a finding no
      // protection of the model covers (see 'make_volatile from unlock_page' below).
      it(`in place, seeds ${c.on.from}..${c.on.to} never let a discard fault pin a reused frame`, async () => {
        const sim = await sweep.intact()
        const w = sim.loadWorkload(p.workload)
        const bad = sweep.seedsViolating(sim, w, {}, c.on.seeds, REUSED)
        expect(bad, sweep.failingSeeds(bad, c.on)).toEqual([])
      })
    })
  }

  // A finding of the patch itself, with every protection in place: unlock_page calls
  // page_make_volatile(page, 1) holding no reference of its own, so between its checks and its
  // ESSA (a vCPU the host preempts inside the state-change bit) another CPU can lock the page,
  // drop it from the page cache, free it and reuse it as an anonymous page it dirties; the
  // SET_VOLATILE then lands on that page and the host discards dirty anonymous data. Pages
  // freed do not take the state-change bit (arch_free_page), so the bit does not close it.
  it('make_volatile from unlock_page on a frame freed and reused meanwhile: the host discards a dirty anonymous page (gph-tiny-pcp, seeds 1..60)', async () => {
    const sim = await sweep.intact()
    const w = sim.loadWorkload('workloads/gph-tiny-pcp.json')
    expect(sweep.firstSeedBreaking(sim, w, {}, 'hinting.no-discard-dirty', seeds(1, 60))).not.toBeNull()
  })

  // check_bits' PG_writeback: writeback drops its lookup reference once the I/O is submitted, as
  // write_cache_pages releases its pagevec after ->writepage, so during the I/O check_counts no
  // longer refuses and for a page without buffers only PG_writeback stands between it and the
  // host. The `writeback-start-checked` variant asks at I/O start with every other check in place.
  describe('check-bits-writeback (workloads/gph-volatile-at.json)', () => {
    const p = protection('check-bits-writeback')
    const on = sweep.sweepSeeds(1, 50)
    for (const volatileAt of ['writeback-end', 'writeback-start-checked'] as const)
      it(`in place, volatileAt ${volatileAt}: seeds ${on.from}..${on.to} never discard a page under writeback`, async () => {
        const sim = await sweep.intact()
        const bad = sweep.seedsViolating(sim, sim.loadWorkload(p.workload), { volatileAt }, on.seeds)
        expect(bad, sweep.failingSeeds(bad, on)).toEqual([])
      })
    it.skipIf(inMutant)('removed, some seed in 1..50 discards a page under writeback (volatileAt writeback-start-checked)', async () => {
      const sim = await sweep.without(p)
      const w = sim.loadWorkload(p.workload)
      expect(sweep.firstSeedBreaking(sim, w, { volatileAt: 'writeback-start-checked' }, p.invariant, seeds(1, 50))).not.toBeNull()
    })
  })
})
