// Shrinking (issue 9): ddmin finds a 1-minimal subset and keeps dependent units together; a shrunk
// race is 1-minimal (removing any single op, with the ops that need it, or any single preemption
// makes it pass); the schedule file is decoded at the boundary (exit 2 naming file and path).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { resolveConfig } from '../engine/config'
import { failsAs, fixedConfig, simulateCandidate } from '../hunt/shrink/candidate'
import { ddmin } from '../hunt/shrink/ddmin'
import { closeOps, opUnits, withOps } from '../hunt/shrink/opUnits'
import { shrinkRun, type ShrinkResult } from '../hunt/shrink/shrink'
import { scheduleConfig } from '../hunt/shrink/scheduleFile'
import { runToStore } from '../hunt/runToStore'
import type { Op } from '../workload/codec'
import { loadWorkload } from '../workload/load'
import { ROOT } from './built'
import { cli, tmpDir, workload } from './helpers'

/** The engine settings a schedule file carries, at their defaults. */
const DEFAULTS = { stepNs: 100, jitterNs: 400, stepsMax: 2_000_000_000, checkEveryEvents: 0, stopOnViolation: true, monitors: true }

describe('ddmin', () => {
  it('reduces to the units the failure needs (3 and 7 of 0..19) and says it is 1-minimal', () => {
    const r = ddmin(
      Array.from({ length: 20 }, (_, i) => i),
      (k) => k.includes(3) && k.includes(7),
      { testsMax: 1000 },
    )
    expect(r.kept).toEqual([3, 7])
    expect(r.minimal).toBe(true)
  })

  it('a unit removed takes its dependents: 5 needs 2, so keeping 5 without 2 is never tried', () => {
    const tried: number[][] = []
    const close = (k: readonly number[]) => k.filter((u) => u !== 5 || k.includes(2))
    const r = ddmin(
      Array.from({ length: 8 }, (_, i) => i),
      (k) => {
        tried.push([...k])
        return k.includes(5)
      },
      { close, testsMax: 1000 },
    )
    expect(r.kept).toEqual([2, 5])
    expect(tried.every((k) => !k.includes(5) || k.includes(2))).toBe(true)
  })

  it('stops at testsMax and says the result is not proven minimal', () => {
    const r = ddmin(
      Array.from({ length: 64 }, (_, i) => i),
      (k) => k.includes(0) && k.includes(63),
      { testsMax: 3 },
    )
    expect(r.minimal).toBe(false)
  })
})

describe('op dependencies', () => {
  it('a free needs its alloc, a touch its map, an op on a forked process the fork', () => {
    const ops: Op[] = [
      { op: 'alloc', cpu: 0, tag: 'a' },
      { op: 'map', cpu: 0, mm: 1, file: 1 },
      { op: 'fork', cpu: 0, parent: 1, child: 2 },
      { op: 'touch', cpu: 1, mm: 2, file: 1 },
      { op: 'free', cpu: 1, tag: 'a' },
      { op: 'touch', cpu: 1, mm: 1, file: 1 },
    ]
    const u = opUnits(ops)
    expect(u.needs).toEqual([[], [], [], [2], [0], [1]])
    // Without the map, its touch goes; without the fork, the child's touch; without the alloc, the free.
    expect(closeOps(u)([0, 2, 3, 4, 5])).toEqual([0, 2, 3, 4])
    expect(closeOps(u)([0, 1, 3, 4, 5])).toEqual([0, 1, 4, 5])
    expect(closeOps(u)([1, 2, 3, 4, 5])).toEqual([1, 2, 3, 5])
  })
})

describe('a shrunk race is 1-minimal: gph-discard-list, discardList=off, seed 7', () => {
  let r: ShrinkResult

  beforeAll(async () => {
    const db = path.join(tmpDir(), 'r.db')
    const w = loadWorkload(path.join(ROOT, 'workloads/gph-discard-list.json'))
    await runToStore({
      workload: { ...w, variants: { discardList: 'off' } },
      workloadSource: 'workloads/gph-discard-list.json',
      seed: 7,
      db,
      config: resolveConfig({ stopOnViolation: true }),
    })
    r = shrinkRun({ db, runId: 1 })
  })

  it('removing any single op (with the ops that need it) or any single preemption makes it pass', () => {
    const seeds = { seed: r.schedule.seed, scheduleSeed: r.schedule.seed }
    const config = scheduleConfig(r.schedule)
    const target = { _tag: 'Invariant', name: r.invariant } as const
    const fails = (w: typeof r.workload, c = config) => {
      const o = simulateCandidate(w, seeds, c).outcome
      return o !== null && failsAs(o, target)
    }
    expect(fails(r.workload)).toBe(true)
    const u = opUnits(r.workload.ops)
    const all = u.ops.map((_, i) => i)
    for (const i of all) expect(fails(withOps(r.workload, u, closeOps(u)(all.filter((j) => j !== i)))), `without op ${i}`).toBe(false)
    const ps = config.fixed!.preemptions
    for (let i = 0; i < ps.length; i++)
      expect(
        fails(
          r.workload,
          fixedConfig(
            config,
            ps.filter((_, j) => j !== i),
          ),
        ),
        `without preemption ${i}`,
      ).toBe(false)
  })
})

describe('a run of a schedule file', () => {
  it('is stored with strategy fixed, and replays identically (the same head hash)', async () => {
    const dir = tmpDir()
    const w = path.join(dir, 'w.json')
    const sch = path.join(dir, 's.json')
    fs.writeFileSync(w, JSON.stringify(loadWorkload(path.join(ROOT, 'workloads/gph-volatile-at.json'))))
    fs.writeFileSync(sch, JSON.stringify({ version: 1, seed: 3, config: { ...DEFAULTS }, preemptions: [] }))
    const db = path.join(dir, 'x.db')
    const r = await cli('run', '--db', db, '--workload', w, '--schedule', sch, '--no-progress', '--json')
    expect(r.code).toBe(0)
    expect((JSON.parse(r.out) as { config: { strategy: string } }).config.strategy).toBe('fixed')
    const rp = await cli('replay', '--db', db, '--run', '1', '--json')
    expect(rp.code).toBe(0)
    expect((JSON.parse(rp.out) as { identical: boolean }).identical).toBe(true)
  })
})

describe('the CLI', () => {
  it('a schedule file that does not decode is exit 2 naming the file and the JSON path; --seed with --schedule is exit 2', async () => {
    const dir = tmpDir()
    const w = path.join(dir, 'w.json')
    fs.writeFileSync(w, JSON.stringify(workload([{ op: 'alloc', cpu: 0 }])))
    const bad = path.join(dir, 's.json')
    fs.writeFileSync(bad, JSON.stringify({ version: 1, seed: 1, config: { stepNs: 100 }, preemptions: [] }))
    const r = await cli('run', '--db', path.join(dir, 'x.db'), '--workload', w, '--schedule', bad)
    expect(r.code).toBe(2)
    expect(r.err).toContain(`${bad}: $.config.jitterNs`)
    fs.writeFileSync(bad, '{')
    expect((await cli('run', '--db', path.join(dir, 'x.db'), '--workload', w, '--schedule', bad)).err).toContain(`${bad}: not JSON`)
    const s = await cli('run', '--db', path.join(dir, 'x.db'), '--workload', w, '--schedule', bad, '--seed', '2')
    expect(s.code).toBe(2)
    expect(s.err).toContain('--seed cannot be given with --schedule')
  })

  it('shrinking a run without a finding is exit 2, saying so', async () => {
    const dir = tmpDir()
    const w = path.join(dir, 'w.json')
    fs.writeFileSync(w, JSON.stringify(workload([{ op: 'alloc', cpu: 0 }])))
    const db = path.join(dir, 'x.db')
    expect((await cli('run', '--db', db, '--workload', w, '--no-progress')).code).toBe(0)
    const r = await cli('shrink', '--db', db, '--out', path.join(dir, 'out'))
    expect(r.code).toBe(2)
    expect(r.err).toContain('recorded no finding')
  })
})
