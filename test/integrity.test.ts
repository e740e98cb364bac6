// Integrity of every stored column a user's answer depends on: a change to an event's frame
// columns, to the frame lists of event_pfns, to the run's identity (seed, workload, config), its
// recorded end (status, violations), or its schedule is found, and a run cut short names the
// first seq that is missing. Each case edits a copy of one stored run as an attacker with the
// sqlite3 shell would: behind the append-only triggers, without recomputing any hash (an event is
// edited in its batch's body, spelt as the writer spells it: test/tamper.ts).
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { beforeAll, describe, expect, it } from 'vitest'
import { resolveConfig } from '../engine/config'
import { runToStore } from '../cli/commands/run'
import {
  BLOCK_EVENTS,
  blockHash,
  getRun,
  openForWrite,
  reapStaleRuns,
  headHash,
  openForRead,
  readRows,
  rowText,
  runIdentity,
  runSeal,
  verifyRun,
  type IntegrityResult,
  type RunRow,
} from '../storage'
import { loadWorkload } from '../workload/load'
import { ROOT, ensureBuilt } from './built'
import { cli, tmpDir } from './helpers'
import { cutEvents, dropTriggers, elementOf, rewriteRow } from './tamper'

let template: string
/** The stored run's event count, as its run returned it. */
let stored: number

beforeAll(async () => {
  // gph-discard-list: two hash blocks, frame lists in event_pfns, and a stored schedule.
  template = path.join(tmpDir(), 'template.db')
  const workload = loadWorkload(path.join(ROOT, 'workloads', 'gph-discard-list.json'))
  stored = (await runToStore({ workload, workloadSource: 'workloads/gph-discard-list.json', seed: 3, db: template, config: resolveConfig() })).events
  expect(stored).toBeGreaterThan(BLOCK_EVENTS)
})

/** A copy of the stored run with `edit` applied through plain SQL, triggers dropped. */
const tampered = (edit: (db: Database.Database) => void): string => {
  const file = path.join(tmpDir(), 'tampered.db')
  fs.copyFileSync(template, file)
  const db = new Database(file)
  try {
    dropTriggers(db, ['event_batches', 'event_pfns', 'event_blocks', 'schedule'])
    edit(db)
  } finally {
    db.close()
  }
  return file
}

const verify = (file: string): IntegrityResult => {
  const db = openForRead(file)
  try {
    const r = getRun(db, file, 1)
    return verifyRun(db, 1, r.head_seq, r.head_hash)
  } finally {
    db.close()
  }
}

const one = <T>(db: Database.Database, sql: string, ...params: unknown[]): T => db.prepare(sql).get(...params) as T

describe('the stored run verifies as written', () => {
  it('the untouched copy verifies', () => {
    expect(verify(tampered(() => undefined))).toMatchObject({ ok: true, events: stored })
  })
})

describe("an event's frame columns", () => {
  it('a changed pfn fails at that seq (seed 3)', () => {
    let seq = 0
    const file = tampered((db) => {
      seq = one<{ seq: number }>(db, 'SELECT seq FROM events WHERE run_id = 1 AND pfn IS NOT NULL AND seq > 100 ORDER BY seq LIMIT 1').seq
      rewriteRow(db, 1, seq, (r) => ({ ...r, pfn: r.pfn! + 1 }))
    })
    expect(verify(file)).toMatchObject({ ok: false, seq })
  })

  it('a changed npages fails at that seq', () => {
    let seq = 0
    const file = tampered((db) => {
      seq = one<{ seq: number }>(db, 'SELECT seq FROM events WHERE run_id = 1 AND npages IS NOT NULL AND seq > 200 ORDER BY seq LIMIT 1').seq
      rewriteRow(db, 1, seq, (r) => ({ ...r, npages: r.npages! * 2 }))
    })
    expect(verify(file)).toMatchObject({ ok: false, seq })
  })
})

describe("a batch's stored bytes", () => {
  const batchOf = (db: Database.Database, seq: number) =>
    one<{ first_seq: number; last_seq: number; body: string; hashes: Buffer }>(
      db,
      'SELECT first_seq, last_seq, body, hashes FROM event_batches WHERE run_id = 1 AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1',
      seq,
    )
  const setBatch = (db: Database.Database, first: number, column: string, value: unknown) =>
    db.prepare(`UPDATE event_batches SET ${column} = ? WHERE run_id = 1 AND first_seq = ?`).run(value, first)

  it("a changed hash in a batch's hashes fails at exactly that seq", () => {
    const file = tampered((db) => {
      const b = batchOf(db, 777)
      const hashes = Buffer.from(b.hashes)
      hashes.writeDoubleLE(hashes.readDoubleLE((777 - b.first_seq) * 8) + 1, (777 - b.first_seq) * 8)
      setBatch(db, b.first_seq, 'hashes', hashes)
    })
    expect(verify(file)).toMatchObject({ ok: false, seq: 777 })
  })

  it('an event respelt with a space between its fields fails at that seq: the body is read exactly as written', () => {
    const seq = 900
    const file = tampered((db) => {
      // The event's first comma made ", ": the same JSON value, other bytes.
      const e = elementOf(db, 1, seq)
      const comma = e.body.indexOf(',', e.start)
      setBatch(db, e.first, 'body', `${e.body.slice(0, comma)}, ${e.body.slice(comma + 1)}`)
    })
    const r = verify(file)
    expect(r).toMatchObject({ ok: false, seq })
    expect((r as { problem: string }).problem).toContain('damaged')
  })

  it('a body cut off mid-event fails at that event, and reading it names the file, run and seq', async () => {
    const seq = 1003
    const file = tampered((db) => {
      const e = elementOf(db, 1, seq)
      setBatch(db, e.first, 'body', e.body.slice(0, e.start + 5))
    })
    expect(verify(file)).toMatchObject({ ok: false, seq })
    const events = await cli('events', '--db', file, '--from', String(seq - 1), '--limit', '3')
    expect(events.code).toBe(2)
    expect(events.err).toContain(`${file}: run 1 seq ${seq}: the stored batch is damaged`)
    const state = await cli('state', 'zone', '--db', file)
    expect(state.code).toBe(2)
    expect(state.err).toContain(`${file}: run 1 seq ${seq}`)
  })

  it("a batch's recorded times or seqs that disagree with its body fail at the batch", () => {
    const b = (() => {
      const db = new Database(template, { readonly: true })
      try {
        return batchOf(db, 1)
      } finally {
        db.close()
      }
    })()
    expect(verify(tampered((db) => setBatch(db, b.first_seq, 'first_t', 12345)))).toMatchObject({ ok: false, seq: b.first_seq })
    expect(verify(tampered((db) => setBatch(db, b.first_seq, 'last_seq', b.last_seq - 1)))).toMatchObject({ ok: false, seq: b.last_seq })
  })
})

describe('the frame lists of event_pfns', () => {
  const listed = (db: Database.Database) => one<{ seq: number; pfn: number }>(db, 'SELECT seq, pfn FROM event_pfns WHERE run_id = 1 ORDER BY seq, pfn LIMIT 1')

  it('a removed row fails at its event', () => {
    let seq = 0
    const file = tampered((db) => {
      const r = listed(db)
      seq = r.seq
      db.prepare('DELETE FROM event_pfns WHERE run_id = 1 AND seq = ? AND pfn = ?').run(r.seq, r.pfn)
    })
    expect(verify(file)).toMatchObject({ ok: false, seq })
  })

  it('a frame moved to another pfn fails at its event', () => {
    let seq = 0
    const file = tampered((db) => {
      const r = listed(db)
      seq = r.seq
      db.prepare('UPDATE event_pfns SET pfn = ? WHERE run_id = 1 AND seq = ? AND pfn = ?').run(r.pfn + 100_000, r.seq, r.pfn)
    })
    expect(verify(file)).toMatchObject({ ok: false, seq })
  })

  it('a row added for an event that lists no frames fails at that event', () => {
    const file = tampered((db) => db.prepare('INSERT INTO event_pfns (run_id, pfn, seq) VALUES (1, 7, 10)').run())
    expect(verify(file)).toMatchObject({ ok: false, seq: 10 })
  })

  it('a row added beyond the last event fails', () => {
    const file = tampered((db) => db.prepare('INSERT INTO event_pfns (run_id, pfn, seq) VALUES (1, 7, 999999)').run())
    expect(verify(file).ok).toBe(false)
  })
})

describe("the run's row", () => {
  const cases: [string, string][] = [
    ['seed', 'UPDATE runs SET seed = seed + 1'],
    ['workload', `UPDATE runs SET workload = replace(workload, '"cpus":3', '"cpus":4')`],
    ['config', `UPDATE runs SET config = replace(config, '"stepsMax":', '"stepsMax":1')`],
    ['engine_version', `UPDATE runs SET engine_version = engine_version || '.1'`],
    ['violations', 'UPDATE runs SET violations = 3'],
    ['status', `UPDATE runs SET status = 'failed', reason = 'x'`],
    ['head_seq', 'UPDATE runs SET head_seq = head_seq - 1'],
    ['decisions', 'UPDATE runs SET decisions = decisions - 1'],
    ['workload_source', `UPDATE runs SET workload_source = 'elsewhere.json'`],
    ['created_at', `UPDATE runs SET created_at = '2020-01-01T00:00:00.000Z'`],
    ['hash_version', 'UPDATE runs SET hash_version = 1'],
    ['schedule_hash', `UPDATE runs SET schedule_hash = ''`],
    ['parent_run', 'UPDATE runs SET parent_run = 1'],
    ['derivation', `UPDATE runs SET derivation = 'fork', fork_seq = 10`],
    ['schedule_seed', 'UPDATE runs SET schedule_seed = schedule_seed + 1'],
    ['departed_seq', 'UPDATE runs SET departed_seq = 5, departed_decision = 7'],
    ['head_hash', `UPDATE runs SET head_hash = (SELECT hash FROM event_blocks WHERE run_id = 1 ORDER BY block DESC LIMIT 1)`],
  ]
  for (const [column, sql] of cases)
    it(`a changed ${column} fails verification`, () => {
      const file = tampered((db) => {
        const value = () => db.prepare(`SELECT ${column} FROM runs WHERE id = 1`).pluck().get()
        const before = value()
        expect(db.prepare(sql).run().changes).toBe(1)
        expect(value()).not.toEqual(before)
      })
      expect(verify(file).ok).toBe(false)
    })
})

describe('a changed identity whose hashes were recomputed', () => {
  const withSeed = (db: Database.Database, seed: number): RunRow => {
    const row = getRun(db, 'x', 1)
    const next = { ...row, seed }
    db.prepare('UPDATE runs SET seed = ?, seal = ? WHERE id = 1').run(seed, runSeal(next))
    return next
  }

  it('a new seed with a recomputed seal fails at block 0: the blocks chain from the identity', () => {
    const file = tampered((db) => void withSeed(db, 99))
    const r = verify(file)
    expect(r).toMatchObject({ ok: false, seq: 1 })
    expect((r as { problem: string }).problem).toContain('identity')
  })

  it('with every block and the head recomputed too, only the external anchor tells: the head differs', () => {
    const anchor = verify(template)
    expect(anchor.ok).toBe(true)
    const file = tampered((db) => {
      const run = withSeed(db, 99)
      const frames = new Map<number, number[]>()
      for (const f of db.prepare('SELECT seq, pfn FROM event_pfns WHERE run_id = 1 ORDER BY seq, pfn').all() as { seq: number; pfn: number }[])
        frames.set(f.seq, [...(frames.get(f.seq) ?? []), f.pfn])
      let prev = runIdentity(run)
      let rows: string[] = []
      let block = 0
      for (const r of [...readRows(db, 1)]) {
        rows.push(rowText(r.seq, r.t, r.cpu, r.type, r.pfn, r.npages, r.cause, frames.get(r.seq) ?? [], r.data))
        if (rows.length === BLOCK_EVENTS || r.seq === run.head_seq) {
          prev = blockHash(prev, rows)
          db.prepare('UPDATE event_blocks SET hash = ? WHERE run_id = 1 AND block = ?').run(prev, block++)
          rows = []
        }
      }
      db.prepare('UPDATE runs SET head_hash = ? WHERE id = 1').run(headHash(prev, run.head_seq, run.schedule_hash!, run.decisions))
    })
    const r = verify(file)
    expect(r.ok).toBe(true)
    expect(r.ok && anchor.ok && r.headHash !== anchor.headHash).toBe(true)
  })
})

describe('the stored schedule', () => {
  it('a changed decision fails verification', () => {
    const file = tampered((db) => {
      const blob = one<{ decisions: Buffer }>(db, 'SELECT decisions FROM schedule WHERE run_id = 1 AND chunk = 0').decisions
      blob[8] = blob[8]! ^ 1
      db.prepare('UPDATE schedule SET decisions = ? WHERE run_id = 1 AND chunk = 0').run(blob)
    })
    expect(verify(file).ok).toBe(false)
  })

  it('a removed chunk fails verification', () => {
    const file = tampered((db) => db.prepare('DELETE FROM schedule WHERE run_id = 1').run())
    expect(verify(file).ok).toBe(false)
  })
})

describe('a run cut short', () => {
  it('dropping the last block and copying its predecessor hash into the run fails', () => {
    const file = tampered((db) => {
      const tail = one<{ block: number; first_seq: number }>(db, 'SELECT block, first_seq FROM event_blocks WHERE run_id = 1 ORDER BY block DESC LIMIT 1')
      expect(tail.block).toBeGreaterThan(0)
      const prev = one<{ hash: string }>(db, 'SELECT hash FROM event_blocks WHERE run_id = 1 AND block = ?', tail.block - 1).hash
      cutEvents(db, 1, tail.first_seq)
      db.prepare('DELETE FROM event_pfns WHERE run_id = 1 AND seq >= ?').run(tail.first_seq)
      db.prepare('DELETE FROM event_blocks WHERE run_id = 1 AND block = ?').run(tail.block)
      db.prepare('UPDATE runs SET head_seq = ?, head_hash = ? WHERE id = 1').run(tail.first_seq - 1, prev)
    })
    expect(verify(file).ok).toBe(false)
  })

  it('events removed from inside the last block name the first missing seq, not the block start', () => {
    const file = tampered((db) => cutEvents(db, 1, 5000))
    expect(verify(file)).toMatchObject({ ok: false, seq: 5000 })
    expect((verify(file) as { problem: string }).problem).toContain('5000')
  })

  it('`mmsim check` says where the run was cut', async () => {
    const file = tampered((db) => cutEvents(db, 1, 5000))
    const r = await cli('check', '--db', file)
    expect(r.code).toBe(1)
    expect(r.out).toContain('integrity: FAILED at seq 5000')
  })
})

describe('a run whose process died', () => {
  it('is marked interrupted by the next writer, with its seal rewritten: it still verifies', () => {
    ensureBuilt()
    const file = path.join(tmpDir(), 'died.db')
    // Another process creates the run, stores a batch and exits without ending it.
    const script = `
      const s = require(${JSON.stringify(path.join(ROOT, 'dist', 'storage'))})
      const db = s.openForWrite(${JSON.stringify(file)})
      const id = s.createRun(db, { engineVersion: 't', seed: 1, config: {}, workload: {}, workloadName: 'w', workloadSource: 'w.json' })
      const w = new s.EventWriter(${JSON.stringify(file)}, id)
      w.append({ seq: 1, t: 0, cpu: 0, type: 'OpSkipped', data: { op: '$.ops[0]', reason: 'test' } })
      w.flush()
      w.close()
      db.close()`
    execFileSync(process.execPath, ['-e', script], { timeout: 60_000 })
    const db = openForWrite(file)
    try {
      expect(reapStaleRuns(db, file)).toBe(1)
    } finally {
      db.close()
    }
    const reading = openForRead(file)
    try {
      expect(getRun(reading, file, 1)).toMatchObject({ status: 'interrupted', head_seq: 1 })
    } finally {
      reading.close()
    }
    expect(verify(file)).toMatchObject({ ok: true, events: 1 })
  })
})
