// Bisect (issue 9): the first seq at which an invariant fails, found from snapshots in a few window
// folds, equals the first failing seq found by checking every seq; an invariant that fails and
// holds again is reported at its first failure; a race run's monitor finding is bisected to the
// event the engine recorded it for.
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { bisectRun, type BisectFound } from '../analysis/bisect'
import { foldRun } from '../analysis/fold'
import { stateAt } from '../analysis/stateAt'
import { resolveConfig } from '../engine/config'
import { runToStore } from '../hunt/runToStore'
import { eventMonitors, frameState, zoneSummary, type MmState, type StateInvariant } from '../projections'
import { listSnapshots, openForRead, readEvents } from '../storage'
import { loadWorkload } from '../workload/load'
import { ROOT } from './built'
import { cli, tmpDir } from './helpers'

const WORKLOADS = path.join(ROOT, 'workloads')
const REUSED = 'hinting.discard-fault-on-reused-frame'

const withDb = <A>(db: string, body: (d: ReturnType<typeof openForRead>) => A): A => {
  const d = openForRead(db)
  try {
    return body(d)
  } finally {
    d.close()
  }
}

describe('bisect on a race run: gph-discard-list, seed 7, discardList=off', () => {
  let db: string

  beforeAll(async () => {
    db = path.join(tmpDir(), 'races.db')
    const w = loadWorkload(path.join(WORKLOADS, 'gph-discard-list.json'))
    await runToStore({
      workload: { ...w, variants: { ...w.variants, discardList: 'off' } },
      workloadSource: 'workloads/gph-discard-list.json',
      seed: 7,
      db,
      config: resolveConfig({}),
    })
  })

  it(`finds ${REUSED} at the first seq that checking every seq finds, the event the run recorded it for`, () => {
    withDb(db, (d) => {
      const mon = eventMonitors.find((m) => m.name === REUSED)!
      const failing: number[] = []
      foldRun(d, db, 1, undefined, undefined, (s, e) => {
        if (s !== null && e.type !== 'InvariantViolated' && mon.check(s, e) !== null) failing.push(e.seq)
      })
      expect(failing.length).toBeGreaterThan(0)
      const recorded = [...readEvents(d, db, 1, { types: ['InvariantViolated'] })]
      const r = bisectRun(d, db, 1) as BisectFound
      expect(r._tag).toBe('Found')
      expect(r.invariant).toBe(REUSED)
      expect(r.kind).toBe('event')
      expect(r.seq).toBe(failing[0])
      expect(recorded[0]!.cause).toBe(r.seq)
      expect(r.event.seq).toBe(r.seq)
      expect(r.around.map((e) => e.seq)).toContain(r.seq)
      expect(r.pfn).not.toBeNull()
      expect(r.after.frame?.pfn).toBe(r.pfn)
      expect(r.before?.seq).toBe(r.seq - 1)
      // The views are the state after seq − 1 and after seq, as time travel restores them.
      for (const [v, seq] of [
        [r.before!, r.seq - 1],
        [r.after, r.seq],
      ] as const) {
        const st = stateAt(d, db, 1, seq).state
        expect(v.zones).toEqual(zoneSummary(st.zone))
        expect(v.frame).toEqual(frameState(st, r.pfn!))
      }
    })
  })

  it('through the CLI: exit 1, the same seq in --json, the event and the state before and after in text', async () => {
    const j = await cli('bisect', '--db', db, '--json')
    expect(j.code).toBe(1)
    const r = JSON.parse(j.out) as BisectFound
    const t = await cli('bisect', '--db', db, '--run', '1', '--invariant', REUSED)
    expect(t.code).toBe(1)
    expect(t.out).toContain(`first fails on seq ${r.seq}`)
    expect(t.out).toMatch(/^before \(after seq \d+\):/m)
    expect(t.out).toMatch(/^after \(after seq \d+\):/m)
  })
})

describe('bisect over snapshot windows: an invariant that fails and holds again', () => {
  let db: string
  /** Allocated pages after each seq (index seq). */
  const allocated: number[] = [0]
  let ends: number[] = []

  beforeAll(async () => {
    db = path.join(tmpDir(), 'd.db')
    const w = loadWorkload(path.join(WORKLOADS, 'default.json'))
    // Snapshots every 4096 events make several windows out of a run that stays quick.
    await runToStore({ workload: w, workloadSource: 'workloads/default.json', seed: 2, db, config: resolveConfig({ stepsMax: 8000 }), snapshotEvery: 4096 })
    withDb(db, (d) => {
      foldRun(d, db, 1, undefined, (s, e) => (allocated[e.seq] = s.zone.zones.reduce((n, z) => n + z.allocatedPages, 0)))
      ends = [...listSnapshots(d, 1, allocated.length - 2).map((m) => m.seq), allocated.length - 1]
    })
  })

  /**
   * A predicate on state that toggles: it fails after `from` for three events, holds again, and
   * fails for good after `again` (the count of events folded is part of the state).
   */
  const togglesAt = (from: number, again: number): StateInvariant<MmState> => ({
    name: 'test.toggles',
    description: 'test predicate',
    check: (s) => {
      const n = s.stats.events
      return (n >= from && n < from + 3) || n >= again ? { name: 'test.toggles', message: `${n} events folded` } : null
    },
  })

  it('returns the first failure, not the later one, in each window, with a few restores and one window’s fold', () => {
    expect(ends.length).toBeGreaterThanOrEqual(4)
    withDb(db, (d) => {
      for (let w = 0; w < ends.length; w++) {
        const start = w === 0 ? 0 : ends[w - 1]!
        const from = start + 10
        const again = Math.min(start + 60, ends[w]!)
        // Checking every seq finds `from`; the invariant holds at from + 3 .. again − 1.
        const inv = togglesAt(from, again)
        const failing: number[] = []
        foldRun(d, db, 1, again, (s, e) => {
          if (inv.check(s) !== null) failing.push(e.seq)
        })
        expect(failing.slice(0, 4)).toEqual([from, from + 1, from + 2, again])
        const r = bisectRun(d, db, 1, { invariant: 'test.toggles', extraInvariants: [inv] }) as BisectFound
        expect(r._tag).toBe('Found')
        expect(r.kind).toBe('state')
        expect(r.seq).toBe(from)
        expect(r.cost.windows).toBe(ends.length)
        // log2(points) restores and one window's fold.
        expect(r.cost.folds).toBeLessThanOrEqual(Math.ceil(Math.log2(ends.length)) + 2)
        expect(r.cost.eventsFolded).toBeLessThan(allocated.length - 1)
      }
    })
  })

  it('a failure that comes and goes between two snapshot points that hold: the snapshot search lands on the later failure, --every-event finds the first', async () => {
    const from = ends[0]! + 10
    const again = ends[ends.length - 1]! - 5
    const inv = togglesAt(from, again)
    withDb(db, (d) => {
      const quick = bisectRun(d, db, 1, { invariant: 'test.toggles', extraInvariants: [inv] }) as BisectFound
      expect(quick.seq).toBe(again)
      const every = bisectRun(d, db, 1, { invariant: 'test.toggles', extraInvariants: [inv], everyEvent: true }) as BisectFound
      expect(every._tag).toBe('Found')
      expect(every.seq).toBe(from)
      // A fold from seq 1 that stops at the first failure.
      expect(every.cost.eventsFolded).toBe(from)
    })
    // Through the CLI, on an invariant of the projections: the same seq either way on a run whose failure stays.
    const r = await cli('bisect', '--db', db, '--invariant', 'buddy.nr-free', '--every-event', '--json')
    expect(r.code).toBe(0)
    expect((JSON.parse(r.out) as { _tag: string })._tag).toBe('Holds')
  })

  it('an invariant that holds at the last seq is reported as holding', () => {
    withDb(db, (d) => {
      const r = bisectRun(d, db, 1, { invariant: 'test.toggles', extraInvariants: [togglesAt(1e9, 1e9)] })
      expect(r._tag).toBe('Holds')
    })
  })
})
