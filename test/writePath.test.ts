// The write path a user relies on: the per-batch indexes answer queries by frame and by type
// exactly as a scan of the run would; a run stopped by SIGTERM is marked interrupted and
// verifies; six `mmsim run` on one database all succeed; a disk that stops taking writes ends
// the run with exit 2, one line, and a verifiable interrupted prefix; a run that stored nothing
// before it was killed is a valid, verifiable (empty) run.
import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { beforeAll, describe, expect, it } from 'vitest'
import { resolveConfig } from '../engine/config'
import { simulate } from '../engine/run'
import { eventPfns, eventSpan, type MmEvent } from '../events'
import { EventWriter, createRun, endRun, getRun, indexStoredRun, openForRead, openForWrite, readEvents, readRows, verifyRun, type EventFilter } from '../storage'
import { boundStoredBatches } from '../storage/eventBounds'
import type { Workload } from '../workload/codec'
import { loadWorkload } from '../workload/load'
import { runToStore } from '../hunt/runToStore'
import { ensureBuilt, startCli } from './built'
import { cli, tmpDir, workload } from './helpers'

const reading = <T>(file: string, f: (db: Database.Database) => T): T => {
  const db = openForRead(file)
  try {
    return f(db)
  } finally {
    db.close()
  }
}

const verify = (file: string, id: number) =>
  reading(file, (db) => {
    const r = getRun(db, file, id)
    return verifyRun(db, id, r.head_seq, r.head_hash)
  })

const storedCount = (file: string, id: number): number => reading(file, (db) => db.prepare('SELECT count(*) FROM events WHERE run_id = ?').pluck().get(id) as number)

/** The gph-discard-list run at seed 1 into a new file, in batches of one hash block (several batches, events listing many frames). */
const storeDiscardListRun = (file: string): ReturnType<typeof simulate> => {
  const w = loadWorkload(path.join(__dirname, '..', 'workloads', 'gph-discard-list.json'))
  const db = openForWrite(file)
  const runId = createRun(db, { engineVersion: 'test', seed: 1, config: {}, workload: w, workloadName: w.name, workloadSource: 'test' })
  const writer = new EventWriter(file, runId, 4096)
  try {
    const r = simulate({ workload: w, seed: 1, config: resolveConfig(), sink: writer, onDecisions: (c) => writer.appendDecisions(c) })
    expect(writer.flush()).toBeNull()
    expect(writer.headSeq).toBe(r.lastSeq)
    endRun(db, runId, { status: 'finished', outcome: r.outcome._tag, reason: null, violations: r.violations })
    return r
  } finally {
    writer.close()
    db.close()
  }
}

describe('the per-batch indexes answer like a scan of the run', () => {
  const file = path.join(tmpDir(), 'index.db')
  let all: MmEvent[] = []

  beforeAll(() => {
    storeDiscardListRun(file)
    all = reading(file, (rdb) => [...readEvents(rdb, file, 1)])
    expect(all.length).toBeGreaterThan(4096)
    expect(all.some((e) => eventPfns(e) !== null)).toBe(true)
  })

  const query = (f: EventFilter): number[] => reading(file, (db) => [...readEvents(db, file, 1, f)].map((e) => e.seq))
  const covers = (e: MmEvent, pfn: number): boolean => {
    const s = eventSpan(e)
    return (s !== null && s.pfn <= pfn && pfn < s.pfn + s.npages) || (eventPfns(e)?.includes(pfn) ?? false)
  }

  it('--pfn: every event whose span covers the frame or that lists it, in seq order, for frames across the run', () => {
    const listed = all.flatMap((e) => eventPfns(e) ?? [])
    const spanned = all.flatMap((e) => {
      const s = eventSpan(e)
      return s === null ? [] : [s.pfn, s.pfn + s.npages - 1]
    })
    const frames = [...new Set([0, ...listed.slice(0, 20), ...spanned.filter((_, i) => i % 997 === 0)])]
    for (const pfn of frames) expect(query({ pfn }), `pfn ${pfn}`).toEqual(all.filter((e) => covers(e, pfn)).map((e) => e.seq))
  })

  it('--type: every event of the types, in seq order, with --from, --to and --limit', () => {
    const types = ['DiscardListSpliced', 'PcpDrained', 'PageStateChanged']
    const want = all.filter((e) => types.includes(e.type)).map((e) => e.seq)
    expect(want.length).toBeGreaterThan(0)
    expect(query({ types })).toEqual(want)
    expect(query({ types, fromSeq: 3000, toSeq: 5000 })).toEqual(want.filter((s) => s >= 3000 && s <= 5000))
    expect(query({ types, fromSeq: 4097, limit: 7 })).toEqual(want.filter((s) => s >= 4097).slice(0, 7))
    const pfn = eventPfns(all.find((e) => eventPfns(e) !== null)!)![0]!
    expect(query({ pfn, types: ['DiscardListSpliced'] })).toEqual(all.filter((e) => e.type === 'DiscardListSpliced' && covers(e, pfn)).map((e) => e.seq))
  })

  it('indexStoredRun rebuilds from the stored batches exactly the rows the writer indexed', () => {
    const rows = (db: Database.Database) => [
      db.prepare('SELECT type, first_seq, hex(seqs) FROM event_types WHERE run_id = 1 ORDER BY type, first_seq').raw().all(),
      db.prepare('SELECT bucket, first_seq, hex(entries) FROM event_frames WHERE run_id = 1 ORDER BY bucket, first_seq').raw().all(),
    ]
    const copy = path.join(path.dirname(file), 'reindexed.db')
    fs.copyFileSync(file, copy)
    const db = new Database(copy)
    try {
      const stored = rows(db)
      expect(stored[0]!.length).toBeGreaterThan(0)
      db.exec('DROP TRIGGER event_types_no_delete; DROP TRIGGER event_frames_no_delete; DELETE FROM event_types; DELETE FROM event_frames')
      db.transaction(() => indexStoredRun(db, 1))()
      expect(rows(db)).toEqual(stored)
    } finally {
      db.close()
    }
  })
})

describe('the event bounds (schema 8) give a filtered read exactly what reading whole bodies gives', () => {
  const file = path.join(tmpDir(), 'bounds.db')
  const filters: EventFilter[] = []

  beforeAll(() => {
    storeDiscardListRun(file)
    const all = reading(file, (rdb) => [...readEvents(rdb, file, 1)])
    const spans = all.flatMap((e) => {
      const sp = eventSpan(e)
      return sp === null ? [] : [sp.pfn]
    })
    for (const pfn of [...new Set(spans.filter((_, i) => i % 499 === 0))]) filters.push({ pfn }, { pfn, fromSeq: 5000, limit: 3 })
    filters.push({ types: ['PcpDrained', 'DiscardListSpliced'] }, { types: ['PageStateChanged'], fromSeq: 4000, toSeq: 9000 })
  })

  const answers = (f: string) => reading(f, (db) => filters.map((flt) => [[...readEvents(db, f, 1, flt)], [...readRows(db, 1, flt)].map((r) => ({ ...r, h: r.h.toString() }))]))

  const copyWith = (name: string, sql: string): string => {
    const copy = path.join(path.dirname(file), name)
    fs.copyFileSync(file, copy)
    const db = new Database(copy)
    try {
      db.exec(`DROP TRIGGER event_bounds_no_delete; DROP TRIGGER event_bounds_no_update; ${sql}`)
    } finally {
      db.close()
    }
    return copy
  }

  it('with and without the bounds rows, every filter reads the same events and rows', () => {
    const byBounds = answers(file)
    expect(byBounds.flat(2).length).toBeGreaterThan(filters.length)
    expect(answers(copyWith('unbounded.db', 'DELETE FROM event_bounds'))).toEqual(byBounds)
  })

  it('the migration builds from the stored batches exactly the bounds the writer stored', () => {
    const rows = (f: string) => reading(f, (db) => db.prepare('SELECT first_seq, hex(bounds) FROM event_bounds WHERE run_id = 1 ORDER BY first_seq').raw().all())
    const stored = rows(file)
    expect(stored.length).toBeGreaterThan(1)
    const copy = copyWith('rebound.db', 'DELETE FROM event_bounds')
    const db = new Database(copy)
    try {
      db.transaction(() => boundStoredBatches(db))()
    } finally {
      db.close()
    }
    expect(rows(copy)).toEqual(stored)
  })

  it('a bounds row that points between events is an error naming the run and seq, never another event', () => {
    // Every bound moved one byte: no range stands between the body's delimiters any more.
    const copy = copyWith('shifted.db', '')
    const rw = new Database(copy)
    try {
      const set = rw.prepare('UPDATE event_bounds SET bounds = ? WHERE run_id = 1 AND first_seq = ?')
      for (const [first, blob] of rw.prepare('SELECT first_seq, bounds FROM event_bounds').raw().all() as [number, Buffer][])
        set.run(Buffer.from(Uint32Array.from(new Uint32Array(new Uint8Array(blob).buffer), (b) => b + 1).buffer), first)
    } finally {
      rw.close()
    }
    const db = openForRead(copy)
    try {
      expect(() => [...readEvents(db, copy, 1, filters[0]!)]).toThrow(/run 1 seq \d+: the batch's event bounds are damaged/)
    } finally {
      db.close()
    }
  })
})

describe('runs in processes of their own', () => {
  // Long enough that a signal or a size limit always arrives mid-run.
  const long: Workload = workload(
    [
      { op: 'churn', cpu: 0, steps: 3_000_000 },
      { op: 'churn', cpu: 1, steps: 3_000_000 },
    ],
    { zones: [{ name: 'Normal', mib: 64 }] },
  )
  const writeWorkload = (dir: string, name: string, w: Workload): string => {
    const f = path.join(dir, name)
    fs.writeFileSync(f, JSON.stringify(w))
    return f
  }

  beforeAll(() => ensureBuilt())

  it('SIGTERM: exit 130, the run is marked interrupted at its head, and it verifies', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'sigterm.db')
    const { child, exited } = startCli(['run', '--db', file, '--workload', writeWorkload(dir, 'long.json', long), '--no-progress'])
    // Once a batch is committed, stop it.
    for (let head = 0; head === 0; await new Promise((r) => setTimeout(r, 100))) {
      expect(child.exitCode).toBeNull()
      try {
        head = reading(file, (db) => (db.prepare('SELECT head_seq FROM runs WHERE id = 1').pluck().get() as number | undefined) ?? 0)
      } catch {
        /* not created yet */
      }
    }
    child.kill('SIGTERM')
    const { code, out } = await exited
    expect(code).toBe(130)
    expect(out).toContain('interrupted')
    const run = reading(file, (db) => getRun(db, file, 1))
    expect(run.status).toBe('interrupted')
    expect(run.reason).toContain('SIGTERM')
    expect(run.reason).toContain(`seq ${run.head_seq}`)
    expect(storedCount(file, 1)).toBe(run.head_seq)
    expect(verify(file, 1)).toMatchObject({ ok: true, events: run.head_seq, headHash: run.head_hash })
  })

  it('six `mmsim run` on one new database all succeed, and every run verifies', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'shared.db')
    const w = writeWorkload(
      dir,
      'small.json',
      workload([
        { op: 'churn', cpu: 0, steps: 20_000 },
        { op: 'churn', cpu: 1, steps: 20_000 },
      ]),
    )
    const children = [1, 2, 3, 4, 5, 6].map((seed) => startCli(['run', '--db', file, '--workload', w, '--seed', String(seed), '--no-progress', '--json']))
    const results = await Promise.all(children.map((c) => c.exited))
    for (const r of results) {
      expect(r.err, `exit ${r.code}`).toBe('')
      expect(r.code, r.err).toBe(0)
    }
    const ids = results.map((r) => (JSON.parse(r.out) as { runId: number }).runId).sort()
    expect(ids).toEqual([1, 2, 3, 4, 5, 6])
    for (const id of ids) {
      const run = reading(file, (db) => getRun(db, file, id))
      expect(run.status).toBe('finished')
      expect(run.head_seq).toBeGreaterThan(20_000)
      expect(verify(file, id)).toMatchObject({ ok: true, events: run.head_seq })
    }
  })

  it('a file size limit reached mid-run: exit 2 and one line; the prefix is stored, interrupted and verifiable', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'full.db')
    // 8 MiB per file (ulimit -f counts KiB blocks): a few batches fit, the run does not.
    const { exited } = startCli(['run', '--db', file, '--workload', writeWorkload(dir, 'long.json', long), '--no-progress'], 'ulimit -f 8192;')
    const { code, out, err } = await exited
    expect(code).toBe(2)
    expect(out).toBe('')
    expect(err.trimEnd().split('\n')).toHaveLength(1)
    expect(err).toContain(`${file}: cannot store run 1`)
    const listed = await cli('runs', '--db', file, '--json')
    expect(listed.code).toBe(0)
    const row = JSON.parse(listed.out.trim()) as { status: string; events: number }
    expect(row.status).toBe('interrupted')
    const run = reading(file, (db) => getRun(db, file, 1))
    expect(run.head_seq).toBeGreaterThan(0)
    expect(row.events).toBe(run.head_seq)
    expect(storedCount(file, 1)).toBe(run.head_seq)
    expect(err).toContain(`events up to seq ${run.head_seq} are stored`)
    expect(verify(file, 1)).toMatchObject({ ok: true, events: run.head_seq, headHash: run.head_hash })
    const check = await cli('check', '--db', file)
    expect(check.code).toBe(0)
    expect(check.out).toContain('integrity: ok')
  })
})

describe('a run that stored nothing before it ended', () => {
  it('is valid and verifiable: `mmsim check` says so and exits 0', async () => {
    // What a process killed before its first batch leaves, once the next writer marked it.
    const file = path.join(tmpDir(), 'empty.db')
    const db = openForWrite(file)
    const w = workload([{ op: 'alloc', cpu: 0, order: 0, tag: 'a' }])
    const id = createRun(db, { engineVersion: 'test', seed: 1, config: {}, workload: w, workloadName: w.name, workloadSource: 'test' })
    endRun(db, id, { status: 'interrupted', outcome: null, reason: 'process 1 ended before the run did; events up to seq 0 are complete', violations: 0 })
    db.close()
    expect(verify(file, id)).toMatchObject({ ok: true, events: 0 })
    const r = await cli('check', '--db', file)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toContain('integrity: ok (0 events')
    const ev = await cli('events', '--db', file)
    expect(ev.code).toBe(0)
    expect(ev.out).toBe('')
  })

  it('stopped before its first batch, the run reports the head its row holds: the anchor a user keeps matches `mmsim check`', async () => {
    const file = path.join(tmpDir(), 'early.db')
    // Long in steps, short in events: the first slice ends before a batch fills.
    const w = workload([{ op: 'repeat', times: 50_000, ops: [{ op: 'idle', cpu: 0, ns: 1000 }] }])
    const s = await runToStore({ workload: w, workloadSource: 'idle', seed: 1, db: file, config: resolveConfig(), interrupted: () => 'interrupted by a test' })
    expect(s.status).toBe('interrupted')
    expect(s.events).toBe(0)
    const row = reading(file, (db) => getRun(db, file, s.runId))
    expect(s.headHash).toBe(row.head_hash)
    expect(verify(file, s.runId)).toMatchObject({ ok: true, events: 0, headHash: s.headHash })
  })
})
