// `mmsim inevitable` (issue 9) on a shrunk race (gph-state-change, stateChange=none, seed 1, shrunk,
// then run from its files): it names a point strictly before the violating event; forks from that
// point and every later point tried all fail, and forks from the point before it do not all fail.
// The claims are checked against forks simulated here, independently of the command.
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ShrinkWritten } from '../cli/commands/shrink'
import { resolveConfig } from '../engine/config'
import type { InevitableResult } from '../hunt/inevitable'
import { simulateSchedule } from '../hunt/schedule'
import { getRun, openForRead, readSchedule } from '../storage'
import { loadWorkload } from '../workload/load'
import { ROOT } from './built'
import { cli, tmpDir } from './helpers'

const INVARIANT = 'hinting.no-discard-in-use'
const FORKS = 12

describe('inevitable on a shrunk race: gph-state-change, stateChange=none, seed 1', () => {
  let db: string
  let r: InevitableResult

  beforeAll(async () => {
    const dir = tmpDir()
    db = path.join(dir, 'r.db')
    const file = path.join(ROOT, 'workloads/gph-state-change.json')
    expect((await cli('run', '--db', db, '--workload', file, '--variant', 'stateChange=none', '--seed', '1', '--stop-on-violation', '--no-progress')).code).toBe(1)
    const s = JSON.parse((await cli('shrink', '--db', db, '--run', '1', '--out', path.join(dir, 'shrunk'), '--json')).out) as ShrinkWritten
    expect((await cli('run', '--db', db, '--workload', s.files.workload, '--schedule', s.files.schedule, '--no-progress')).code).toBe(1)
    const j = await cli('inevitable', '--db', db, '--run', '2', '--forks', String(FORKS), '--json')
    expect(j.code, j.err).toBe(0)
    r = JSON.parse(j.out) as InevitableResult
  })

  /** Forks of run 2 after `seq` events with schedule seeds 1..FORKS that fail the invariant first. */
  const failingForks = (seq: number): number => {
    const d = openForRead(db)
    try {
      const run = getRun(d, db, 2)
      const schedule = readSchedule(d, db, run)
      const w = loadWorkload(path.join(path.dirname(db), 'shrunk', 'workload.json'))
      const config = resolveConfig({ stopOnViolation: true })
      let n = 0
      for (let k = 1; k <= FORKS; k++) if (simulateSchedule(w, run.seed, config, { scheduleSeed: k, replay: { schedule, untilSeq: seq } }).first?.name === INVARIANT) n++
      return n
    } finally {
      d.close()
    }
  }

  it('names a point strictly before the violating event', () => {
    expect(r.invariant).toBe(INVARIANT)
    expect(r.inevitableAt).not.toBeNull()
    expect(r.inevitableAt!).toBeLessThan(r.violatingSeq)
    expect(r.violatingSeq).toBeLessThanOrEqual(r.findingSeq)
  })

  it('forks from it, and from every later point tried, always fail; forks from the point before it do not all fail', () => {
    const from = r.points.filter((p) => p.seq >= r.inevitableAt!)
    expect(from.length).toBeGreaterThan(0)
    for (const p of from) expect(failingForks(p.seq), `forks after seq ${p.seq}`).toBe(FORKS)
    expect(r.before).not.toBeNull()
    expect(r.before!.seq).toBe(r.inevitableAt! - 1)
    expect(failingForks(r.before!.seq)).toBeLessThan(FORKS)
  })

  it('the text names the event and draws a bar per point', async () => {
    const t = await cli('inevitable', '--db', db, '--run', '2', '--forks', String(FORKS), '--points', '4')
    expect(t.code).toBe(0)
    expect(t.out).toContain(`inevitable after seq ${r.inevitableAt}`)
    expect(t.out).toMatch(/^0\s+\d+\/12\s+\d+%\s+[#.]{20}$/m)
  })
})
