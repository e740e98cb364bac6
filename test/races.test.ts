// Guest page hinting's races, one per variant: with the protection off, some seed in 1..500 of
// a small racy workload violates the named invariant; with it on, none of those seeds does.
// The workloads are the examples in workloads/, so a user can replay any seed found here.
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../engine/config'
import { simulate } from '../engine/run'
import type { Variants, Workload } from '../workload/codec'
import { loadWorkload } from '../workload/load'
import { seeds } from './helpers'

const SEEDS = seeds(1, 500)

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

const firstFailingSeed = (w: Workload, variants: Variants): { seed: number; names: string[] } | null => {
  for (const seed of SEEDS) {
    const names = violations(w, variants, seed)
    if (names.length > 0) return { seed, names }
  }
  return null
}

const seedsViolating = (w: Workload, variants: Variants): number[] => SEEDS.filter((seed) => violations(w, variants, seed).length > 0)

describe('discarded-page list (GPH06 8/9)', () => {
  const w = loadWorkload('workloads/gph-discard-list.json')
  it('without it, a discard fault pins a frame that was freed and reused', () => {
    const found = firstFailingSeed(w, { discardList: 'off' })
    expect(found).not.toBeNull()
    expect(found!.names).toContain('hinting.discard-fault-on-reused-frame')
  })
  it('with it, no seed in 1..500 lets a discard fault reach a reused frame', () => {
    expect(seedsViolating(w, { discardList: 'on' })).toEqual([])
  })
})

describe('page state changes (GPH09 1/6 and its review)', () => {
  const w = loadWorkload('workloads/gph-state-change.json')
  it('unprotected, make_volatile lands after a reader made the page stable, and the host discards it in use', () => {
    const found = firstFailingSeed(w, { stateChange: 'none' })
    expect(found).not.toBeNull()
    expect(found!.names).toContain('hinting.no-discard-in-use')
  })
  it('with the state-change bit (the patch), no seed in 1..500 discards a page in use', () => {
    expect(seedsViolating(w, { stateChange: 'lock' })).toEqual([])
  })
  it('compare-and-swap (the review) compares the state word only: a reader\'s reference does not stop it, and the host discards the page in use', () => {
    const found = firstFailingSeed(w, { stateChange: 'cas' })
    expect(found).not.toBeNull()
    expect(found!.names).toContain('hinting.no-discard-in-use')
  })
})

describe('volatile at writeback end (the review\'s question)', () => {
  const w = loadWorkload('workloads/gph-volatile-at.json')
  it('made volatile when the I/O starts, a page under writeback is discarded', () => {
    const found = firstFailingSeed(w, { volatileAt: 'writeback-start' })
    expect(found).not.toBeNull()
    expect(found!.names).toContain('hinting.no-discard-writeback')
  })
  it('made volatile when writeback ends, no seed in 1..500 discards a page under writeback', () => {
    expect(seedsViolating(w, { volatileAt: 'writeback-end' })).toEqual([])
  })
})

describe('fork against page_discard (copy_one_pte)', () => {
  const w = loadWorkload('workloads/gph-fork-vs-discard.json')
  it('unchecked, the child gets a pte to a page being discarded', () => {
    const found = firstFailingSeed(w, { forkVsDiscard: 'unchecked' })
    expect(found).not.toBeNull()
    expect(found!.names).toContain('hinting.no-pte-to-discarded')
  })
  it('checked, no seed in 1..500 leaves a pte to a discarded page', () => {
    expect(seedsViolating(w, { forkVsDiscard: 'checked' })).toEqual([])
  })
})
