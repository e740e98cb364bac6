// Replay, fork and diff (issue 8, "Replay and comparison"): a stored run re-executed under its
// recorded schedule comes out the same event for event, whatever seed the replay is told; a
// replay under another variant says which decision no longer fits and how the findings change;
// a tampered run is caught at the altered seq; a fork follows its parent exactly up to its fork
// point; diff names the first divergent seq.
import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { resolveConfig, type EngineConfig } from '../engine/config'
import { forkRun } from '../hunt/fork'
import { replayRun } from '../hunt/replay'
import { runToStore, type RunSummary } from '../hunt/runToStore'
import { openForRead, readRows, type StoredRow } from '../storage'
import type { Variants } from '../workload/codec'
import { loadWorkload } from '../workload/load'
import { ROOT } from './built'
import { cli, tmpDir } from './helpers'
import { dropTriggers, rewriteRow } from './tamper'

const WORKLOADS = path.join(ROOT, 'workloads')
/** Events of the default run at seed 2 (461,477 in all) past which it has made more than 65,536 decisions. */
const EVENTS_PAST_A_CHUNK = 300_000

/** Stores `workloads/<name>.json` at `seed` (with `variants` set) as a new run of `db`. */
const store = (db: string, name: string, seed: number, variants: Variants = {}, config: EngineConfig = {}): Promise<RunSummary> => {
  const w = loadWorkload(path.join(WORKLOADS, `${name}.json`))
  return runToStore({ workload: { ...w, variants: { ...w.variants, ...variants } }, workloadSource: `workloads/${name}.json`, seed, db, config: resolveConfig(config) })
}

const newDb = (): string => path.join(tmpDir(), 'r.db')

const rows = (db: string, runId: number, toSeq?: number): StoredRow[] => {
  const d = openForRead(db)
  try {
    return [...readRows(d, runId, toSeq === undefined ? {} : { toSeq })]
  } finally {
    d.close()
  }
}

const json = <T>(out: string): T => JSON.parse(out) as T

/** The two big examples are replayed over their first 20,000 simulator steps, to keep the suite fast. */
const BOUNDED = new Set(['default', 'gph-host-pressure-4g'])

describe('replay of every example workload is identical, event for event and decision for decision', () => {
  for (const file of fs.readdirSync(WORKLOADS).filter((f) => f.endsWith('.json'))) {
    const name = file.replace(/\.json$/, '')
    const bounded = BOUNDED.has(name)
    it(`workloads/${file} at seed 2${bounded ? ' (first 20,000 steps)' : ''}`, async () => {
      const db = newDb()
      const s = await store(db, name, 2, {}, bounded ? { stepsMax: 20_000 } : {})
      const r = await replayRun({ db, runId: s.runId })
      expect(r.mode).toBe('verify')
      expect(r.comparison.divergence).toBeNull()
      expect(r.schedule).toEqual({ layout: 'records', recorded: s.decisions, followed: s.decisions, departure: null })
      expect({ events: r.run.events, head: r.run.headHash }).toEqual({ events: s.events, head: s.headHash })
      expect(r.sameHead).toBe(true)
      expect(r.identical).toBe(true)
    })
  }
})

describe('a replay is driven by the stored schedule, not by the seed', () => {
  it('told --seed 999, it reproduces run 1 (gph-discard-list, seed 3), which a run at seed 999 does not', async () => {
    const db = newDb()
    await store(db, 'gph-discard-list', 3)
    await store(db, 'gph-discard-list', 999)
    const other = await cli('diff', '--db', db, '--run', '1', '--run', '2', '--json')
    expect(other.code).toBe(1)
    expect(json<{ divergence: { seq: number } }>(other.out).divergence.seq).toBeGreaterThan(1)
    const r = await cli('replay', '--db', db, '--run', '1', '--seed', '999', '--json')
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const report = json<{ identical: boolean; sameHead: boolean; run: { runId: number; scheduleSeed: number } }>(r.out)
    expect(report).toMatchObject({ identical: true, sameHead: true, run: { runId: 3, scheduleSeed: 999 } })
    expect(rows(db, 3).map((x) => x.h)).toEqual(rows(db, 1).map((x) => x.h))
    const runs = (await cli('runs', '--db', db, '--json')).out
      .trim()
      .split('\n')
      .map((l) => json<{ lineage: object }>(l))
    expect(runs[2]!.lineage).toEqual({ parentRun: 1, derivation: 'replay', forkSeq: null, scheduleSeed: 999, departedSeq: null, departedDecision: null })
  })
})

describe('replay under another variant', () => {
  it('reports the first decision that no longer fits: its index, the seq before it, where it was recorded and where it was asked for (gph-state-change, seed 3, stateChange none)', async () => {
    const db = newDb()
    await store(db, 'gph-state-change', 3)
    const r = await replayRun({ db, runId: 1, variants: { stateChange: 'none' } })
    expect(r.mode).toBe('variant')
    const d = r.schedule.departure!
    expect(d.reason).toBe('misfit')
    expect(d.decision).toBe(r.schedule.followed)
    expect(d.decision).toBeGreaterThan(0)
    expect(d.recorded).not.toBeNull()
    expect(`${d.recorded!.actor} ${d.recorded!.site} ${d.recorded!.object}`).not.toBe(`${d.asked.actor} ${d.asked.site} ${d.asked.object}`)
    // Seq 1 names the variants; the first other divergence is reported by row from seq 2.
    expect(r.comparison.fromSeq).toBe(2)
    expect(r.comparison.divergence!.seq).toBeGreaterThan(1)
    const text = await cli('replay', '--db', db, '--run', '1', '--variant', 'stateChange=none')
    expect(text.out).toContain(`from decision ${d.decision.toLocaleString('en-US')} (after seq ${d.seq.toLocaleString('en-US')}) the seeded strategy`)
    expect(text.out).toContain(`was recorded for cpu ${d.recorded!.actor} ${d.recorded!.point} at ${d.recorded!.site}`)
    const listed = (await cli('runs', '--db', db, '--json')).out
      .trim()
      .split('\n')
      .map((l) => json<{ lineage: { departedSeq: number; departedDecision: number } }>(l))
    expect(listed[1]!.lineage).toMatchObject({ departedSeq: d.seq, departedDecision: d.decision })
  })

  it('turns a violating run into a clean one on the same schedule (gph-discard-list, seed 7: discardList off, then on)', async () => {
    const db = newDb()
    const bad = await store(db, 'gph-discard-list', 7, { discardList: 'off' })
    expect(bad.invariants.violations).toBeGreaterThan(0)
    const r = await cli('replay', '--db', db, '--run', '1', '--variant', 'discardList=on', '--json')
    expect(r.code).toBe(0)
    const report = json<{ findings: { parent: { count: number; first: { name: string }[] }; child: { count: number } } }>(r.out)
    expect(report.findings.parent.first[0]!.name).toBe('hinting.discard-fault-on-reused-frame')
    expect(report.findings.child.count).toBe(0)
  })

  it('and back: a clean run violates on the same schedule without the state-change bit (gph-state-change, seed 3: stateChange lock, then none)', async () => {
    const db = newDb()
    const good = await store(db, 'gph-state-change', 3)
    expect(good.invariants.violations).toBe(0)
    const r = await cli('replay', '--db', db, '--run', '1', '--variant', 'stateChange=none', '--json')
    expect(r.code).toBe(1)
    const report = json<{ findings: { parent: { count: number }; child: { count: number; first: { name: string }[] } } }>(r.out)
    expect(report.findings.parent.count).toBe(0)
    expect(report.findings.child.first.map((f) => f.name)).toContain('hinting.no-discard-in-use')
  })
})

describe('a replay of a tampered run', () => {
  it('names the altered seq, shows both events and exits 1 (gph-volatile-at, seed 3)', async () => {
    const db = newDb()
    await store(db, 'gph-volatile-at', 3)
    const raw = new Database(db)
    let seq = 0
    try {
      dropTriggers(raw, ['event_batches'])
      seq = (raw.prepare("SELECT seq FROM events WHERE run_id = 1 AND type = 'PageAllocated' AND seq > 1000 ORDER BY seq LIMIT 1").get() as { seq: number }).seq
      rewriteRow(raw, 1, seq, (r) => ({ ...r, data: r.data.replace('"order":0', '"order":1') }))
    } finally {
      raw.close()
    }
    const r = await cli('replay', '--db', db, '--run', '1')
    expect(r.code).toBe(1)
    expect(r.out).toContain(`DIVERGED at seq ${seq}`)
    expect(r.out).toContain(`first divergent seq ${seq}: the events differ in data`)
    expect(r.out).toMatch(new RegExp(`run 1: ${seq} .*PageAllocated .*order=1`))
    expect(r.out).toMatch(new RegExp(`run 2: ${seq} .*PageAllocated .*order=0`))
    // The replay itself followed every recorded decision: the events it made are the run's as written.
    expect(r.out).toContain('recorded decisions followed, each where it was made')
  })
})

/** The default workload at seed 2, interrupted once `stop` says so (asked between slices, with the events made so far). */
const storeInterrupted = (db: string, stop: (events: number) => boolean): Promise<RunSummary> => {
  let made = 0
  return runToStore({
    workload: loadWorkload(path.join(WORKLOADS, 'default.json')),
    workloadSource: 'workloads/default.json',
    seed: 2,
    db,
    config: resolveConfig(),
    onProgress: (_done, _total, events) => (made = events),
    interrupted: () => (stop(made) ? 'interrupted by the test' : null),
  })
}

describe('a replay of an interrupted run', () => {
  it('compares the events the run stored, and goes on past its head without calling that a divergence (default, seed 2, interrupted after a slice)', async () => {
    const db = newDb()
    let slices = 0
    const parent = await storeInterrupted(db, () => ++slices > 1)
    expect(parent.status).toBe('interrupted')
    const whole = await store(db, 'default', 2)
    expect(parent.events).toBeLessThan(whole.events)
    const r = await replayRun({ db, runId: parent.runId })
    expect(r.comparison.divergence).toBeNull()
    expect(r.comparison.toSeq).toBe(parent.events)
    expect(r.run.events).toBeGreaterThan(parent.events)
    // The replay's events 1..head are the interrupted run's, and past it the whole run's.
    expect(rows(db, r.run.runId, parent.events).map((x) => x.h)).toEqual(rows(db, parent.runId).map((x) => x.h))
    expect(rows(db, r.run.runId).map((x) => x.h)).toEqual(rows(db, whole.runId).map((x) => x.h))
    const c = await cli('replay', '--db', db, '--run', String(parent.runId))
    expect(c.out).not.toContain('DIVERGED')
    expect(c.out).toContain(`run ${parent.runId} was interrupted at seq ${parent.events}: events up to it are compared`)
  })
})

describe('an interrupted run keeps the schedule decisions of its events', () => {
  it('its stored schedule holds every decision up to its head, and its replay is identical (default, seed 2, interrupted past the first chunk of 65,536 decisions)', async () => {
    const db = newDb()
    const parent = await storeInterrupted(db, (events) => events > EVENTS_PAST_A_CHUNK)
    expect(parent.status).toBe('interrupted')
    // Past the first chunk, and not at a chunk's end: some decisions were still in the recorder.
    expect(parent.decisions).toBeGreaterThan(65536)
    expect(parent.decisions % 65536).not.toBe(0)
    const r = await replayRun({ db, runId: parent.runId })
    expect(r.comparison.divergence).toBeNull()
    expect(r.comparison.toSeq).toBe(parent.events)
    expect(r.schedule.departure === null || r.schedule.departure.seq >= parent.events).toBe(true)
    expect(r.identical).toBe(true)
    const c = await cli('replay', '--db', db, '--run', String(parent.runId))
    expect(c.out).toContain('identical')
    expect(c.out).not.toContain('NOT identical')
  })
})

describe('a run stored by another engine version', () => {
  it('is refused with a plain message (exit 2), and replayed with --force', async () => {
    const db = newDb()
    await store(db, 'gph-volatile-at', 3)
    const raw = new Database(db)
    raw.prepare("UPDATE runs SET engine_version = '0.1.0' WHERE id = 1").run()
    raw.close()
    const refused = await cli('replay', '--db', db, '--run', '1')
    expect({ code: refused.code, out: refused.out }).toEqual({ code: 2, out: '' })
    expect(refused.err).toMatch(/^mmsim replay: run 1 was stored by mmsim engine 0\.1\.0; this is engine .*--force replays it all the same/)
    const forced = await cli('replay', '--db', db, '--run', '1', '--force')
    expect(forced.code).toBe(0)
    for (const said of ['identical', 'run 1 was stored by engine 0.1.0 and replayed by']) expect(forced.out).toContain(said)
  })

  it('a run of hash version 2 (test/fixtures/v3.db: bare delays) replays identical, into a run with decision records', async () => {
    const db = path.join(tmpDir(), 'v3.db')
    fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'v3.db'), db)
    // Stored by engine 0.2.0: anon_vma's engine makes the same events for this workload (no anonymous memory in it).
    const r = await replayRun({ db, runId: 1, force: true })
    expect(r.schedule).toMatchObject({ layout: 'delays', recorded: 1323, followed: 1323, departure: null })
    expect(r.comparison.divergence).toBeNull()
    expect(r.sameHead).toBeNull()
    expect(r.identical).toBe(true)
    // The replay's head is what this engine stores for the same workload and seed (test/pinned.test.ts).
    expect(r.run.headHash).toBe('8e4fb9edf03ea3a7ff77a9a3e5918ad07bf412b90474891c3361d5f8687507ea')
  })
})

describe('fork', () => {
  it('a fork at seq 2000 has events 1..2000 identical to its parent (per-event hash), then goes its own way (gph-discard-list, seed 3, fork seed 11)', async () => {
    const db = newDb()
    await store(db, 'gph-discard-list', 3)
    const f = await forkRun({ db, runId: 1, atSeq: 2000, scheduleSeed: 11 })
    expect(f.prefixIdentical).toBe(true)
    expect(rows(db, 2, 2000).map((x) => x.h)).toEqual(rows(db, 1, 2000).map((x) => x.h))
    // The fork's first own decision is the first one asked once 2000 events exist: the step in
    // progress when the 2000th event is made finishes first (its events are the parent's too).
    expect(f.schedule.departure).toMatchObject({ reason: 'fork' })
    expect(f.schedule.departure!.seq).toBeGreaterThanOrEqual(2000)
    expect(f.comparison.divergence!.seq).toBeGreaterThan(f.schedule.departure!.seq)
    const listing = await cli('runs', '--db', db)
    expect(listing.out).toMatch(/^2 .* fork of 1 at 2000$/m)
    const lineage = json<{ lineage: object }>((await cli('runs', '--db', db, '--json')).out.trim().split('\n')[1]!).lineage
    expect(lineage).toMatchObject({ parentRun: 1, derivation: 'fork', forkSeq: 2000, scheduleSeed: 11, departedSeq: f.schedule.departure!.seq })
    // The lineage is under the fork's seal: the fork verifies as written.
    expect(json<{ integrity: object }>((await cli('check', '--db', db, '--run', '2', '--json')).out).integrity).toMatchObject({ ok: true, hashVersion: 3 })
  })

  it("without --seed or --variant a fork draws what its parent's seed drew: the parent again, to its head hash", async () => {
    const db = newDb()
    const p = await store(db, 'gph-volatile-at', 3)
    const r = await cli('fork', '--db', db, '--run', '1', '--at', '1500', '--json')
    expect(r.code).toBe(0)
    expect(json<{ prefixIdentical: boolean; sameHead: boolean; run: { headHash: string } }>(r.out)).toMatchObject({
      prefixIdentical: true,
      sameHead: true,
      run: { headHash: p.headHash },
    })
  })

  it('--at past the end of the run is exit 2 and says what the run has', async () => {
    const db = newDb()
    const p = await store(db, 'gph-volatile-at', 3)
    const r = await cli('fork', '--db', db, '--run', '1', '--at', String(p.events + 1))
    expect(r.code).toBe(2)
    expect(r.err).toContain(`--at ${p.events + 1} is past the end of run 1, which has events seq 1..${p.events}`)
  })
})

describe('diff', () => {
  it('of a run with itself says identical (exit 0); with a run of another seed names the first divergent seq with both events (exit 1)', async () => {
    const db = newDb()
    await store(db, 'gph-volatile-at', 3)
    await store(db, 'gph-volatile-at', 4)
    const same = await cli('diff', '--db', db, '--run', '1', '--run', '1')
    expect(same.code).toBe(0)
    expect(same.out).toContain('compared by per-event chain hash: identical')
    const j = await cli('diff', '--db', db, '--run', '1', '--run', '2', '--json')
    expect(j.code).toBe(1)
    const d = json<{ identical: boolean; divergence: { seq: number; a: StoredRow; b: StoredRow }; a: { eventsByType: Record<string, number> }; b: { buddyinfo: string } }>(j.out)
    expect(d.identical).toBe(false)
    const r1 = rows(db, 1)
    const r2 = rows(db, 2)
    const first = r1.findIndex((x, i) => x.h !== r2[i]?.h) + 1
    expect(d.divergence.seq).toBe(first)
    expect(d.a.eventsByType.MachineBooted).toBe(1)
    expect(d.b.buddyinfo).toMatch(/^Node 0, zone +Normal/)
    const text = await cli('diff', '--db', db, '--run', '1', '--run', '2')
    expect(text.out).toContain(`first divergent seq ${first}`)
    expect(text.out).toContain('events by type')
    expect(text.out).toContain('buddyinfo at the end of run 2')
  })

  it('needs two --run (exit 2)', async () => {
    const db = newDb()
    await store(db, 'gph-volatile-at', 3)
    const r = await cli('diff', '--db', db, '--run', '1')
    expect(r.code).toBe(2)
    expect(r.err).toContain('give --run twice')
  })
})
