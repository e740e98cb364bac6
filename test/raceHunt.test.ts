// Race hunting end to end, for every race variant of the registry (hunt/races.ts): explore finds a
// failing seed with the protection off; bisect's seq is the first seq at which checking every seq
// finds the invariant broken; shrink makes a reproducer smaller in ops and schedule decisions that
// still fails when re-run from its files through the CLI; with the protection on, exploring the
// same seeds finds nothing.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { bisectRun, type BisectFound } from '../analysis/bisect'
import { foldRun } from '../analysis/fold'
import type { ExploreResult } from '../hunt/explore'
import { RACE_VARIANTS, type RaceVariant } from '../hunt/races'
import type { RunSummary } from '../hunt/runToStore'
import type { ShrinkWritten } from '../cli/commands/shrink'
import { eventMonitors, stateInvariants } from '../projections'
import { openForRead } from '../storage'
import { ROOT } from './built'
import { cli, tmpDir } from './helpers'

/** Every seq at which `invariant` is broken: an event monitor on the event (before it applies), a state invariant after it. */
const failingSeqs = (db: string, run: number, invariant: string): number[] => {
  const d = openForRead(db)
  try {
    const seqs: number[] = []
    const mon = eventMonitors.find((m) => m.name === invariant)
    const inv = stateInvariants.find((i) => i.name === invariant)
    expect(mon ?? inv, `${invariant} is a monitor or a state invariant`).toBeDefined()
    foldRun(
      d,
      db,
      run,
      undefined,
      (s, e) => void (inv !== undefined && inv.check(s) !== null && seqs.push(e.seq)),
      (s, e) => void (mon !== undefined && s !== null && e.type !== 'InvariantViolated' && mon.check(s, e) !== null && seqs.push(e.seq)),
    )
    return seqs
  } finally {
    d.close()
  }
}

const explore = async (r: RaceVariant, value: string, seeds: number, db: string): Promise<{ code: number; result: ExploreResult & { stored: { runId: number }[] } }> => {
  const x = await cli('explore', '--workload', path.join(ROOT, r.workload), '--variant', `${r.key}=${value}`, '--seeds', String(seeds), '--db', db, '--no-progress', '--json')
  return { code: x.code, result: JSON.parse(x.out) as ExploreResult & { stored: { runId: number }[] } }
}

describe.each(RACE_VARIANTS.map((r) => [r.id, r] as const))('%s: explore, bisect, shrink', (_id, r) => {
  it(`found with ${r.key}=${r.unprotected} in seeds 1..${r.seedsMax}, bisected to the first seq that breaks ${r.invariant}, shrunk to a smaller reproducer that fails from its files; none with ${r.key}=${r.protection}`, async () => {
    const dir = tmpDir()
    const db = path.join(dir, 'hunt.db')
    const found = await explore(r, r.unprotected, r.seedsMax, db)
    expect(found.code).toBe(1)
    const first = found.result.failing[0]!
    expect(first.first?.name).toBe(r.invariant)
    const run = found.result.stored[0]!.runId

    const seqs = failingSeqs(db, run, r.invariant)
    expect(seqs.length).toBeGreaterThan(0)
    const d = openForRead(db)
    const b = (() => {
      try {
        return bisectRun(d, db, run, { invariant: r.invariant }) as BisectFound
      } finally {
        d.close()
      }
    })()
    expect(b._tag).toBe('Found')
    expect(b.seq).toBe(seqs[0])

    const out = path.join(dir, 'shrunk')
    const s = await cli('shrink', '--db', db, '--run', String(run), '--out', out, '--json')
    expect(s.code, s.err).toBe(0)
    const shrunk = JSON.parse(s.out) as ShrinkWritten
    expect(shrunk.invariant).toBe(r.invariant)
    expect(shrunk.minimal).toBe(true)
    expect(shrunk.after.ops + shrunk.after.preemptions).toBeLessThan(shrunk.before.ops + shrunk.before.preemptions)
    expect(fs.existsSync(shrunk.files.workload) && fs.existsSync(shrunk.files.schedule)).toBe(true)
    const again = await cli('run', '--db', path.join(dir, 'again.db'), '--workload', shrunk.files.workload, '--schedule', shrunk.files.schedule, '--no-progress', '--json')
    expect(again.code).toBe(1)
    const summary = JSON.parse(again.out) as RunSummary
    expect(summary.invariants.found[0]?.name).toBe(r.invariant)
    expect(summary.events).toBe(shrunk.after.events)
    expect(summary.invariants.found[0]?.seq).toBe(shrunk.after.seq)

    const clean = await explore(r, r.protection, first.seed, path.join(dir, 'clean.db'))
    expect(clean.code).toBe(0)
    expect(clean.result.failing).toEqual([])
    expect(clean.result.explored).toBe(first.seed)
  })
})
