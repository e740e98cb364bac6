// Exploration: many schedules simulated in memory, the failing ones reported by seed. What a
// user relies on: each race is found with its protection off and never with it on over the same
// seeds; the answer (the lowest failing seed, or every failing seed with --all) is the same for
// any number of workers; a failing schedule stored by `mmsim explore` is the schedule that failed
// and replays identically; PCT is a strategy like the random one, deterministic per seed.
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../engine/config'
import { ExplorerPool, explore } from '../hunt/explore'
import { simulateSchedule } from '../hunt/schedule'
import { shardOf } from '../hunt/seedRange'
import { strategyConfig } from '../hunt/strategy'
import type { Variants, Workload } from '../workload/codec'
import { loadWorkload } from '../workload/load'
import { ensureBuilt, startCli } from './built'
import { cli, seeds, tmpDir } from './helpers'

const load = (name: string, variants: Variants): Workload => {
  const w = loadWorkload(`workloads/${name}.json`)
  return { ...w, variants: { ...w.variants, ...variants } }
}

/** The configuration `mmsim explore` runs schedules with: each stops at its first finding. */
const EXPLORE = resolveConfig({ stopOnViolation: true })

/** Each race variant: its workload, the protection off and on, and the invariant it breaks. */
const RACES = [
  { workload: 'gph-discard-list', off: { discardList: 'off' }, on: { discardList: 'on' }, invariant: 'hinting.discard-fault-on-reused-frame' },
  { workload: 'gph-state-change', off: { stateChange: 'none' }, on: { stateChange: 'lock' }, invariant: 'hinting.no-discard-in-use' },
  { workload: 'gph-state-change', off: { stateChange: 'cas' }, on: { stateChange: 'lock' }, invariant: 'hinting.no-discard-in-use' },
  { workload: 'gph-volatile-at', off: { volatileAt: 'writeback-start' }, on: { volatileAt: 'writeback-end' }, invariant: 'hinting.no-discard-writeback' },
  { workload: 'gph-fork-vs-discard', off: { forkVsDiscard: 'unchecked' }, on: { forkVsDiscard: 'checked' }, invariant: 'hinting.no-pte-to-discarded' },
] as const satisfies readonly { workload: string; off: Variants; on: Variants; invariant: string }[]

const variantText = (v: Variants) =>
  Object.entries(v)
    .map(([k, x]) => `${k}=${String(x)}`)
    .join(' ')

describe('each race: found with its protection off, never with it on (seeds 1..12)', () => {
  const range = { from: 1, count: 12 }
  for (const r of RACES) {
    it(`${r.workload}: ${variantText(r.off)} breaks ${r.invariant}; ${variantText(r.on)} breaks nothing`, async () => {
      const off = await explore({ workload: load(r.workload, r.off), range, config: EXPLORE, all: false })
      expect(off.failing).toHaveLength(1)
      expect(off.failing[0]!.first?.name).toBe(r.invariant)
      expect(off.explored).toBe(off.failing[0]!.seed)
      const on = await explore({ workload: load(r.workload, r.on), range, config: EXPLORE, all: true })
      expect(on.failing.map((f) => [f.seed, f.first?.name])).toEqual([])
      expect(on).toMatchObject({ explored: 12, complete: true })
    })
  }
})

describe('the answer does not depend on the number of workers', () => {
  const w = load('gph-discard-list', { discardList: 'off' })
  const range = { from: 1, count: 40 }

  it('seeds 1..40 of gph-discard-list, discardList off: one worker and two find the same lowest failing seed, having explored every seed below it', async () => {
    const one = await explore({ workload: w, range, config: EXPLORE, all: false }, { workers: 1 })
    const two = await explore({ workload: w, range, config: EXPLORE, all: false }, { workers: 2 })
    expect(one.failing.map((f) => f.seed)).toEqual([7])
    expect(two.failing).toEqual(one.failing)
    expect({ explored: two.explored, events: two.events }).toEqual({ explored: 7, events: one.events })
    // Workers may simulate past the answer; never less than it.
    expect(two.simulated.schedules).toBeGreaterThanOrEqual(7)
  })

  it('with --all, seeds 1..40: the same failing seeds, outcomes and events with one worker and with two', async () => {
    const one = await explore({ workload: w, range, config: EXPLORE, all: true }, { workers: 1 })
    const two = await explore({ workload: w, range, config: EXPLORE, all: true }, { workers: 2 })
    expect(one.failing.length).toBeGreaterThan(1)
    expect(two.failing).toEqual(one.failing)
    expect({ explored: two.explored, events: two.events }).toEqual({ explored: 40, events: one.events })
    expect(one.failing.map((f) => f.seed)).toEqual([...one.failing.map((f) => f.seed)].sort((a, b) => a - b))
  })

  it('a pool of two threads kept for several explorations answers each as one worker does (seeds 1..20 with --all, then 8..20)', async () => {
    const pool = new ExplorerPool(2)
    try {
      for (const [range, all] of [
        [{ from: 1, count: 20 }, true],
        [{ from: 8, count: 13 }, false],
      ] as const) {
        const here = await explore({ workload: w, range, config: EXPLORE, all })
        const pooled = await explore({ workload: w, range, config: EXPLORE, all }, { pool })
        expect({ failing: pooled.failing, explored: pooled.explored }).toEqual({ failing: here.failing, explored: here.explored })
        expect(pooled.simulated.workers).toBe(2)
      }
    } finally {
      await pool.close()
    }
  })

  it('a seed range that starts elsewhere (seeds 8..20): the lowest failing seed of that range', async () => {
    const r = await explore({ workload: w, range: { from: 8, count: 13 }, config: EXPLORE, all: false }, { workers: 2 })
    // The lowest failing seed of 8..20, as every schedule of the range run one by one says.
    const every = await explore({ workload: w, range: { from: 8, count: 13 }, config: EXPLORE, all: true })
    expect(every.failing.length).toBeGreaterThan(0)
    expect(r.failing.map((f) => f.seed)).toEqual([every.failing[0]!.seed])
    expect(r.range).toEqual({ from: 8, to: 20, count: 13 })
  })
})

describe('shards', () => {
  it('cut a range into disjoint slices that cover it, sizes within one of each other', () => {
    for (const count of [0, 1, 7, 100, 101])
      for (const n of [1, 3, 4, 8]) {
        const slices = seeds(0, n - 1).map((k) => shardOf({ from: 5, count }, k, n))
        expect(slices.flatMap((s) => seeds(s.from, s.from + s.count - 1))).toEqual(seeds(5, 5 + count - 1))
        const sizes = slices.map((s) => s.count)
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
      }
  })
})

describe('PCT', () => {
  const w = load('gph-discard-list', { discardList: 'off' })
  const pct = strategyConfig(w, { stopOnViolation: true }, { strategy: 'pct', depth: 2 })

  it("measures k on the workload: seed 0's CPU decisions under the random strategy, the same every time", () => {
    expect(pct).toMatchObject({ strategy: 'pct', pct: { depth: 2, stallNs: 100_000 } })
    expect(pct.pct!.steps).toBeGreaterThan(1000)
    expect(strategyConfig(w, { stopOnViolation: true }, { strategy: 'pct', depth: 2 })).toEqual(pct)
  })

  it('seeds 1..6: the same seed gives the same schedule, other seeds other schedules', () => {
    const a = seeds(1, 6).map((seed) => simulateSchedule(w, seed, pct))
    const b = seeds(1, 6).map((seed) => simulateSchedule(w, seed, pct))
    expect(b).toEqual(a)
    expect(new Set(a.map((o) => `${o.events}:${o.simulatedNs}`)).size).toBeGreaterThan(3)
  })

  it('finds the discarded-page list race too (gph-discard-list, discardList off, seeds 1..10)', async () => {
    const r = await explore({ workload: w, range: { from: 1, count: 10 }, config: pct, all: false })
    expect(r.failing[0]?.first?.name).toBe('hinting.discard-fault-on-reused-frame')
  })
})

describe('a failing schedule kept by mmsim explore', () => {
  it('gph-discard-list, discardList off, seeds 1..20: the stored run is the schedule that failed (its events, its first finding), replays identically and forks as itself; random and pct', async () => {
    const db = path.join(tmpDir(), 'explore.db')
    for (const strategy of ['random', 'pct']) {
      const args = ['--workload', 'workloads/gph-discard-list.json', '--variant', 'discardList=off', '--seeds', '20', '--strategy', strategy]
      const r = await cli('explore', '--db', db, ...args, '--json')
      expect(r.code, r.err).toBe(1)
      const report = JSON.parse(r.out) as {
        failing: { seed: number; events: number; first: { seq: number; name: string } }[]
        stored: { seed: number; runId: number; events: number; uuid: string }[]
        config: { strategy: string }
      }
      expect(report.config.strategy).toBe(strategy)
      const f = report.failing[0]!
      const kept = report.stored[0]!
      expect(kept).toMatchObject({ seed: f.seed, events: f.events })
      expect(kept.uuid).toMatch(/^[0-9a-f-]{36}$/)
      const check = JSON.parse((await cli('check', '--db', db, '--run', String(kept.runId), '--json')).out) as { integrity: { ok: boolean } }
      expect(check.integrity.ok).toBe(true)
      const events = (await cli('events', '--db', db, '--run', String(kept.runId), '--type', 'InvariantViolated', '--json')).out
      expect(JSON.parse(events.split('\n')[0]!)).toMatchObject({ seq: f.first.seq, data: { name: f.first.name } })
      const replay = await cli('replay', '--db', db, '--run', String(kept.runId), '--json')
      expect(replay.code).toBe(0)
      expect(JSON.parse(replay.out)).toMatchObject({ identical: true })
      // A fork without --seed goes on with what the run's own strategy drew: the run again.
      const fork = await cli('fork', '--db', db, '--run', String(kept.runId), '--at', '100', '--json')
      expect(JSON.parse(fork.out)).toMatchObject({ prefixIdentical: true, comparison: { divergence: null } })
    }
  })

  it('nothing failing (gph-discard-list as shipped, seeds 1..5): exit 0, nothing stored', async () => {
    const db = path.join(tmpDir(), 'none.db')
    const r = await cli('explore', '--db', db, '--workload', 'workloads/gph-discard-list.json', '--seeds', '5')
    expect(r.code).toBe(0)
    expect(r.out).toContain('5 of 5 seeds explored: no failing schedule')
    expect(r.out).not.toContain('stored')
  })
})

describe('an exploration interrupted', () => {
  it('SIGINT with two workers: exit 130, and the answer says how far it went without a gap (gph-discard-list as shipped, seeds 1..1000000)', async () => {
    ensureBuilt()
    const db = path.join(tmpDir(), 'sigint.db')
    const { child, exited } = startCli([
      'explore',
      '--db',
      db,
      '--workload',
      'workloads/gph-discard-list.json',
      '--seeds',
      '1000000',
      '--workers',
      '2',
      '--json',
      '--log-level',
      'info',
    ])
    let err = ''
    await new Promise<void>((resolve) => {
      child.stderr!.on('data', (b: Buffer) => {
        err += b.toString()
        if (err.includes('exploration starts')) resolve()
      })
    })
    await new Promise((r) => setTimeout(r, 1500))
    child.kill('SIGINT')
    const { code, out } = await exited
    expect(code).toBe(130)
    const r = JSON.parse(out) as { complete: boolean; interrupted: string; explored: number; failing: unknown[]; range: { count: number } }
    expect(r).toMatchObject({ complete: false, interrupted: 'interrupted by SIGINT', failing: [] })
    expect(r.explored).toBeLessThan(r.range.count)
  })
})
