// The SQLite event store: a stored run folds back to exactly the engine's live state, the same
// workload and seed store the same hash chains, stored events cannot be changed through SQL,
// a change made behind the triggers' back is found and located, files that are not ours are
// refused, and a run whose process is interrupted or killed stays readable and verifiable.
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { beforeAll, describe, expect, it } from 'vitest'
import { foldRun } from '../analysis/fold'
import { resolveConfig } from '../engine/config'
import { runToStore, type RunSummary } from '../cli/commands/run'
import { Folder, diffStates, renderBuddyinfo } from '../projections'
import type { MmEvent } from '../events'
import { EventWriter, createRun, endRun, getRun, listSnapshots, openForRead, openForWrite, readEvents, readRows, rowHash, verifyRun, type RunRow, type StoredRow } from '../storage'
import { stateAt } from '../analysis/stateAt'
import type { Workload } from '../workload/codec'
import { MMSIM_JS, ROOT, ensureBuilt } from './built'
import { cli, runInMemory, tmpDir, workload } from './helpers'
import { cutEvents, rewriteRow, rewriteRows, storedRow } from './tamper'

// Allocations of several orders and migratetypes, two CPUs churning, pressure to the low
// watermark and a drain: about 40,000 events, so more than one batch and many hash blocks.
const mixed: Workload = workload([
  { op: 'alloc', cpu: 0, order: 4, count: 4, tag: 'a' },
  { op: 'churn', cpu: 0, steps: 5000, liveMax: 128 },
  { op: 'churn', cpu: 1, steps: 5000, liveMax: 128, mtWeights: [40, 40, 20] },
  { op: 'barrier' },
  { op: 'free', cpu: 1, tag: 'a' },
  { op: 'pressure', cpu: 0, tag: 'p', watermark: 'low' },
  { op: 'free', cpu: 0, tag: 'p', cold: true },
  { op: 'drain', cpu: 1, all: true },
])

const store = (db: string, w: Workload = mixed, seed = 7): Promise<RunSummary> => runToStore({ workload: w, workloadSource: 'test', seed, db, config: resolveConfig() })

/** Runs `f` on a fresh read-only connection, as another process reading the file would. */
const reading = <T>(file: string, f: (db: Database.Database) => T): T => {
  const db = openForRead(file)
  try {
    return f(db)
  } finally {
    db.close()
  }
}

const runRow = (file: string, id = 1): RunRow => reading(file, (db) => getRun(db, file, id))
const verify = (file: string, id = 1) =>
  reading(file, (db) => {
    const r = getRun(db, file, id)
    return verifyRun(db, id, r.head_seq, r.head_hash)
  })
const hColumn = (file: string, id: number): number[] => reading(file, (db) => [...readRows(db, id)].map((r) => r.h))

describe('a stored run folds back to the live state', () => {
  it('fold of the store in a fresh connection equals the engine state field by field (seed 7)', async () => {
    const file = path.join(tmpDir(), 'fold.db')
    const summary = await store(file)
    const live = runInMemory(mixed, 7)
    expect(live.result.outcome).toEqual({ _tag: 'Finished' })
    expect(summary.events).toBe(live.events.length)
    const folded = reading(file, (db) => foldRun(db, file, summary.runId))
    expect(folded.lastSeq).toBe(live.result.lastSeq)
    expect(diffStates(live.result.state, folded.state)).toEqual([])
    expect(renderBuddyinfo(folded.state.zone)).toBe(summary.buddyinfo)
    const row = runRow(file, summary.runId)
    expect(row.status).toBe('finished')
    expect(row.head_seq).toBe(live.events.length)
    expect(row.head_hash).toBe(summary.headHash)
  })

  it('every event read back equals the event the engine emitted (seed 7)', async () => {
    const file = path.join(tmpDir(), 'events.db')
    await store(file)
    const live = runInMemory(mixed, 7)
    const stored = reading(file, (db) => [...readEvents(db, file, 1)])
    expect(stored.length).toBe(live.events.length)
    expect(stored.map((e) => e.seq)).toEqual(live.events.map((_, i) => i + 1))
    expect(stored).toEqual(live.events)
  })

  it('a fold up to a seq equals the live events folded up to that seq (seed 7)', async () => {
    const file = path.join(tmpDir(), 'prefix.db')
    await store(file)
    const live = runInMemory(mixed, 7)
    const upTo = 12_345
    const folder = new Folder()
    for (const e of live.events.slice(0, upTo)) folder.apply(e)
    const folded = reading(file, (db) => foldRun(db, file, 1, upTo))
    expect(folded.lastSeq).toBe(upTo)
    expect(diffStates(folder.current!, folded.state)).toEqual([])
    // The state at `upTo` is not the final state: time travel really stopped there.
    expect(diffStates(live.result.state, folded.state)).not.toEqual([])
  })
})

describe('events whose data has characters other than ASCII', () => {
  it('are stored as text, read back as they were, and verify', () => {
    const file = path.join(tmpDir(), 'unicode.db')
    const db = openForWrite(file)
    const id = createRun(db, { engineVersion: 't', seed: 1, config: {}, workload: {}, workloadName: 'w', workloadSource: 'w.json' })
    const writer = new EventWriter(file, id, 4096)
    const reason = (i: number) => (i % 10 === 3 ? `zone «Normal» épuisée ✓ 😀 \u0000 "${i}"` : 'plain')
    const events: MmEvent[] = Array.from({ length: 5000 }, (_, i) => ({
      seq: i + 1,
      t: i * 7,
      cpu: i % 3 === 0 ? null : i % 2,
      type: 'OpSkipped' as const,
      data: { op: `$.ops[${i}]`, reason: reason(i) },
    }))
    try {
      for (const e of events) writer.append(e)
      expect(writer.flush()).toBeNull()
      endRun(db, id, { status: 'finished', outcome: 'Finished', reason: null, violations: 0 })
    } finally {
      writer.close()
      db.close()
    }
    reading(file, (rdb) => {
      expect(rdb.prepare('SELECT DISTINCT typeof(body) FROM event_batches').pluck().all()).toEqual(['text'])
      expect([...readEvents(rdb, file, id)]).toEqual(events)
      expect(rdb.prepare("SELECT json_extract(data, '$.reason') FROM events WHERE seq = 4").pluck().get()).toBe(reason(3))
    })
    expect(verify(file, id)).toMatchObject({ ok: true, events: 5000 })
  })
})

describe('determinism of the stored hash chains', () => {
  it('the same workload and seed store the same head hash and the same per-event hashes', async () => {
    const file = path.join(tmpDir(), 'det.db')
    const a = await store(file, mixed, 3)
    const b = await store(file, mixed, 3)
    const c = await store(file, mixed, 4)
    expect([a.runId, b.runId, c.runId]).toEqual([1, 2, 3])
    const [ra, rb, rc] = [runRow(file, 1), runRow(file, 2), runRow(file, 3)]
    expect(ra.head_hash).toMatch(/^[0-9a-f]{64}$/)
    expect(rb.head_hash).toBe(ra.head_hash)
    expect(hColumn(file, 2)).toEqual(hColumn(file, 1))
    expect(hColumn(file, 1).length).toBe(ra.head_seq)
    const blocks = (id: number) => reading(file, (db) => db.prepare('SELECT hash FROM event_blocks WHERE run_id = ? ORDER BY block').pluck().all(id))
    expect(blocks(2)).toEqual(blocks(1))
    expect(rc.head_hash).not.toBe(ra.head_hash)
    expect(hColumn(file, 3)).not.toEqual(hColumn(file, 1))
  })
})

describe('append-only tables', () => {
  let file: string
  beforeAll(async () => {
    file = path.join(tmpDir(), 'ao.db')
    await store(file)
  })

  const statements: [string, string][] = [
    ['event_batches', 'UPDATE event_batches SET body = body WHERE run_id = 1 AND first_seq = 1'],
    ['event_batches', "UPDATE event_batches SET hashes = x''"],
    ['event_batches', 'DELETE FROM event_batches WHERE run_id = 1 AND first_seq = 1'],
    ['event_batches', 'DELETE FROM event_batches'],
    ['event_blocks', "UPDATE event_blocks SET hash = 'x' WHERE run_id = 1 AND block = 0"],
    ['event_blocks', 'DELETE FROM event_blocks WHERE run_id = 1'],
    ['schedule', 'UPDATE schedule SET decisions = decisions WHERE run_id = 1'],
    ['schedule', 'DELETE FROM schedule'],
  ]
  for (const [table, sql] of statements)
    it(`refuses \`${sql}\``, () => {
      const db = new Database(file)
      try {
        // The statement must hit rows, or refusing it would prove nothing.
        expect(db.prepare(`SELECT count(*) FROM ${table} WHERE run_id = 1`).pluck().get()).toBeGreaterThan(0)
        expect(() => db.prepare(sql).run()).toThrow(/append-only/)
      } finally {
        db.close()
      }
    })

  it('the events view cannot be written either', () => {
    const db = new Database(file)
    try {
      expect(() => db.prepare("UPDATE events SET type = 'PageFreed' WHERE run_id = 1 AND seq = 500").run()).toThrow(/view/)
      expect(() => db.prepare('DELETE FROM events WHERE run_id = 1').run()).toThrow(/view/)
    } finally {
      db.close()
    }
  })

  it('leaves the run intact after the refused statements', () => {
    const r = verify(file)
    expect(r.ok).toBe(true)
    expect(reading(file, (db) => db.prepare('SELECT count(*) FROM events WHERE run_id = 1').pluck().get())).toBe(runRow(file).head_seq)
  })
})

describe('integrity: a change behind the triggers is found and located', () => {
  /** A stored run with the update trigger dropped, for `edit` to change rows as an attacker would. */
  const tampered = async (edit: (db: Database.Database) => void): Promise<string> => {
    const file = path.join(tmpDir(), 'tamper.db')
    await store(file)
    expect(verify(file).ok).toBe(true)
    const db = new Database(file)
    try {
      db.exec('DROP TRIGGER event_batches_no_update')
      edit(db)
    } finally {
      db.close()
    }
    return file
  }
  const row = (db: Database.Database, seq: number): StoredRow => storedRow(db, 1, seq)
  const setRow = (db: Database.Database, seq: number, data: string, h: number) => rewriteRow(db, 1, seq, (r) => ({ ...r, data, h }))
  // The same event, spelt differently: the fold is unchanged, only the stored bytes differ.
  const respell = (data: string) => data.replace('{"', '{ "')

  it('a row whose data was changed fails verification at exactly that seq', async () => {
    const file = await tampered((db) => {
      const r = row(db, 500)
      setRow(db, 500, respell(r.data), r.h)
    })
    const result = verify(file)
    expect(result.ok).toBe(false)
    expect(result).toMatchObject({ ok: false, seq: 500 })
  })

  it('a changed value (not only its spelling) is found at that seq', async () => {
    const file = await tampered((db) => {
      const r = row(db, 500)
      const data = JSON.parse(r.data) as Record<string, unknown>
      data.zone = 1
      setRow(db, 500, JSON.stringify(data), r.h)
    })
    expect(verify(file)).toMatchObject({ ok: false, seq: 500 })
  })

  it("rewriting the row's own hash does not hide the change: the next row's hash catches it", async () => {
    const file = await tampered((db) => {
      const prev = row(db, 499)
      const r = row(db, 500)
      const data = respell(r.data)
      setRow(db, 500, data, rowHash(prev.h, r.seq, r.t, r.cpu, r.type, r.pfn, r.npages, r.cause, [], data))
    })
    const result = verify(file)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.seq).toBeGreaterThanOrEqual(500)
    expect(result.seq).toBeLessThanOrEqual(501)
  })

  it('rewriting every per-event hash after the change is caught by the SHA-256 of its block', async () => {
    let blockOf500: { first_seq: number; last_seq: number } | undefined
    const file = await tampered((db) => {
      blockOf500 = db.prepare('SELECT first_seq, last_seq FROM event_blocks WHERE run_id = 1 AND first_seq <= 500 AND last_seq >= 500').get() as typeof blockOf500
      let h = row(db, 499).h
      rewriteRows(db, 1, 500, (r) => {
        const data = r.seq === 500 ? respell(r.data) : r.data
        h = rowHash(h, r.seq, r.t, r.cpu, r.type, r.pfn, r.npages, r.cause, [], data)
        return { ...r, data, h }
      })
    })
    const result = verify(file)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.problem).toMatch(/SHA-256/)
    // The block chain locates the change to its block.
    expect(blockOf500).toBeDefined()
    expect(result.seq).toBe(blockOf500!.first_seq)
  })

  it('a run cut short behind its head is found: the hash blocks of the removed events remain', async () => {
    // The tail block of events is deleted and the run's head rewritten to the block before, as
    // if the run had ended there; event_blocks still records the removed block.
    let tail = { block: 0, first_seq: 0 }
    const file = await tampered((db) => {
      db.exec('DROP TRIGGER event_batches_no_delete')
      tail = db.prepare('SELECT block, first_seq FROM event_blocks WHERE run_id = 1 ORDER BY block DESC LIMIT 1').get() as typeof tail
      const prev = db
        .prepare('SELECT hash FROM event_blocks WHERE run_id = 1 AND block = ?')
        .pluck()
        .get(tail.block - 1) as string
      cutEvents(db, 1, tail.first_seq)
      db.prepare('UPDATE runs SET head_seq = ?, head_hash = ? WHERE id = 1').run(tail.first_seq - 1, prev)
    })
    expect(tail.block).toBeGreaterThan(0)
    expect(verify(file)).toMatchObject({ ok: false, seq: tail.first_seq })
  })

  it('`mmsim check` on the changed run exits 1 and says integrity FAILED', async () => {
    const file = await tampered((db) => {
      const r = row(db, 500)
      setRow(db, 500, respell(r.data), r.h)
    })
    const r = await cli('check', '--db', file, '--run', '1')
    expect(r.err).toBe('')
    expect(r.code).toBe(1)
    expect(r.out).toContain('integrity: FAILED at seq 500')
  })

  it('`mmsim check` says integrity FAILED even when the changed row no longer folds', async () => {
    // A block's pfn moved to another frame: the event cannot apply to the state it meets. The
    // user asked whether the run is intact; the answer is still "no, from seq N", exit 1.
    let seq = 0
    const file = await tampered((db) => {
      seq = db.prepare("SELECT seq FROM events WHERE run_id = 1 AND seq >= 500 AND type = 'PageAllocated' ORDER BY seq LIMIT 1").pluck().get() as number
      const r = row(db, seq)
      const data = JSON.parse(r.data) as { pfn: number }
      data.pfn += 1
      setRow(db, seq, JSON.stringify(data), r.h)
    })
    const r = await cli('check', '--db', file, '--run', '1')
    expect(r.out).toContain(`integrity: FAILED at seq ${seq}`)
    expect(r.code).toBe(1)
  })
})

describe('files that are not mmsim databases are refused', () => {
  it('random bytes: exit 2, "not an mmsim database"', async () => {
    const file = path.join(tmpDir(), 'random.db')
    fs.writeFileSync(file, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 251)))
    const r = await cli('runs', '--db', file)
    expect(r.code).toBe(2)
    expect(r.err).toContain('not an mmsim database')
    expect(r.err).toContain(file)
    expect(r.out).toBe('')
  })

  it('an SQLite file of another program: exit 2, "not an mmsim database", and it is left alone by run', async () => {
    const file = path.join(tmpDir(), 'other.db')
    const db = new Database(file)
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)')
    db.prepare('INSERT INTO customers (name) VALUES (?)').run('Ada')
    db.close()
    const r = await cli('runs', '--db', file)
    expect(r.code).toBe(2)
    expect(r.err).toContain('not an mmsim database')
    const w = await cli('run', '--db', file, '--no-progress')
    expect(w.code).toBe(2)
    expect(w.err).toContain('not an mmsim database')
    const after = new Database(file, { readonly: true })
    try {
      expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all()).toEqual(['customers'])
    } finally {
      after.close()
    }
  })

  it('a database of a newer mmsim (user_version 99): exit 2, "newer mmsim"', async () => {
    const file = path.join(tmpDir(), 'newer.db')
    await store(file, workload([{ op: 'alloc', cpu: 0, order: 0, tag: 'a' }]))
    const db = new Database(file)
    db.pragma('user_version = 99')
    db.close()
    for (const argv of [['runs'], ['events', '--run', '1'], ['state', 'zone'], ['check'], ['run', '--no-progress']]) {
      const r = await cli(...argv, '--db', file)
      expect(r.code, argv.join(' ')).toBe(2)
      expect(r.err, argv.join(' ')).toContain('newer mmsim')
    }
  })

  it('a missing file: exit 2 for runs and events, and no file is created', async () => {
    const file = path.join(tmpDir(), 'missing.db')
    for (const argv of [['runs'], ['events'], ['state', 'zone'], ['check']]) {
      const r = await cli(...argv, '--db', file)
      expect(r.code, argv.join(' ')).toBe(2)
      expect(r.err, argv.join(' ')).toContain('no such database')
    }
    expect(fs.existsSync(file)).toBe(false)
  })
})

describe('a run whose process is interrupted or killed', () => {
  // Long enough that a signal always arrives mid-run: two CPUs churning 3M steps each.
  const long: Workload = workload(
    [
      { op: 'churn', cpu: 0, steps: 3_000_000 },
      { op: 'churn', cpu: 1, steps: 3_000_000 },
    ],
    { zones: [{ name: 'Normal', mib: 64 }] },
  )

  beforeAll(ensureBuilt)

  const start = (file: string): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> } => {
    const wfile = path.join(path.dirname(file), 'long.json')
    fs.writeFileSync(wfile, JSON.stringify(long))
    // Snapshots every hash block, so that some are stored before the signal.
    const argv = [MMSIM_JS, 'run', '--db', file, '--workload', wfile, '--no-progress', '--snapshot-every', '4096']
    const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout!.on('data', (b: Buffer) => void (out += b.toString()))
    child.stderr!.on('data', (b: Buffer) => void (err += b.toString()))
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal, out, err })),
    )
    return { child, exited }
  }

  /**
   * The snapshots a stopped run stored lie within its events, and the last restores as it is. An
   * interrupt lets the writer finish the batch it is on, with its snapshots: there are some.
   */
  const snapshotsUpToHead = (file: string, head: number, some: boolean): void =>
    reading(file, (db) => {
      const seqs = listSnapshots(db, 1).map((m) => m.seq)
      if (some) expect(seqs.length).toBeGreaterThan(0)
      expect(seqs.every((s) => s <= head)).toBe(true)
      if (seqs.length === 0) return
      const last = stateAt(db, file, 1, seqs[seqs.length - 1]!)
      expect(last.ignored).toEqual([])
      expect(last.from?.snapshotSeq).toBe(seqs[seqs.length - 1])
    })

  /** Polls the file from another connection until the run has committed a batch. */
  const committed = async (file: string, child: ChildProcess): Promise<number> => {
    const deadline = performance.now() + 30_000
    while (performance.now() < deadline) {
      expect(child.exitCode, 'the run ended before it was interrupted').toBeNull()
      try {
        const db = new Database(file, { readonly: true, fileMustExist: true })
        try {
          const head = db.prepare('SELECT head_seq FROM runs WHERE id = 1').pluck().get() as number | undefined
          if (head !== undefined && head > 0) return head
        } finally {
          db.close()
        }
      } catch {
        /* not created yet, or the schema is being written */
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error('the run committed nothing within 30 s')
  }

  it('SIGINT: exit 130, the run is marked interrupted at a complete seq, and it verifies', async () => {
    const file = path.join(tmpDir(), 'sigint.db')
    const { child, exited } = start(file)
    const seen = await committed(file, child)
    child.kill('SIGINT')
    const { code, out } = await exited
    expect(code).toBe(130)
    expect(out).toContain('interrupted')
    const run = runRow(file)
    expect(run.status).toBe('interrupted')
    expect(run.head_seq).toBeGreaterThanOrEqual(seen)
    expect(run.reason).toContain('SIGINT')
    expect(run.reason).toContain(`seq ${run.head_seq}`)
    const integrity = verify(file)
    expect(integrity).toMatchObject({ ok: true, events: run.head_seq, headHash: run.head_hash })
    const ev = await cli('events', '--db', file, '--run', '1', '--limit', '5')
    expect(ev.code).toBe(0)
    expect(ev.out.trimEnd().split('\n')).toHaveLength(5)
    expect(ev.out).toContain('MachineBooted')
    const listed = await cli('runs', '--db', file, '--json')
    expect(JSON.parse(listed.out.trim())).toMatchObject({ id: 1, status: 'interrupted', events: run.head_seq })
    snapshotsUpToHead(file, run.head_seq, true)
  })

  it('SIGKILL: the listing shows the run interrupted, and what was committed verifies', async () => {
    const file = path.join(tmpDir(), 'sigkill.db')
    const { child, exited } = start(file)
    const seen = await committed(file, child)
    child.kill('SIGKILL')
    const { signal } = await exited
    expect(signal).toBe('SIGKILL')
    // The file still says 'running': nobody was there to end the run.
    const raw = runRow(file)
    expect(raw.status).toBe('running')
    expect(raw.head_seq).toBeGreaterThanOrEqual(seen)
    const listed = await cli('runs', '--db', file, '--json')
    expect(listed.code).toBe(0)
    const lines = listed.out.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({ id: 1, status: 'interrupted', events: raw.head_seq })
    expect(verify(file)).toMatchObject({ ok: true, events: raw.head_seq, headHash: raw.head_hash })
    snapshotsUpToHead(file, raw.head_seq, false)
    const ev = await cli('events', '--db', file, '--run', '1', '--limit', '5', '--json')
    expect(ev.code).toBe(0)
    expect(
      ev.out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
    ).toEqual([1, 2, 3, 4, 5])
    // The next writer marks it interrupted in the file, with the seq up to which it is complete.
    const small = path.join(path.dirname(file), 'small.json')
    fs.writeFileSync(small, JSON.stringify(workload([{ op: 'alloc', cpu: 0, order: 0, tag: 'a' }])))
    const next = await cli('run', '--db', file, '--no-progress', '--json', '--workload', small)
    expect(next.code).toBe(0)
    const reaped = runRow(file)
    expect(reaped.status).toBe('interrupted')
    expect(reaped.reason).toContain(`seq ${raw.head_seq}`)
    expect(reaped.head_seq).toBe(raw.head_seq)
  })
})
