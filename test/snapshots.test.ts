// Snapshots (issue 8, time travel): the state at any seq through the nearest snapshot equals the
// fold of the events from seq 1, field by field and in every projection, just before, at and
// just after a snapshot and across several deltas; a snapshot that does not verify is passed
// over with a warning and the answer stays right; `mmsim snapshot` builds for a run stored without
// them the very snapshots a run writes; `mmsim check` fails on a snapshot that differs from the fold.
import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import * as E from 'fp-ts/Either'
import { beforeAll, describe, expect, it } from 'vitest'
import { checkRun } from '../analysis/check'
import { foldRun } from '../analysis/fold'
import { buildSnapshots } from '../analysis/snapshots'
import { stateAt } from '../analysis/stateAt'
import { runToStore } from '../cli/commands/run'
import { resolveConfig } from '../engine/config'
import { diffStates, zoneSummary, type MmState, type StateInvariant } from '../projections'
import { decodeSnapshot, encodeSnapshot, getRun, openForRead, openForWrite, sha256Hex, type Db } from '../storage'
import type { Workload } from '../workload/codec'
import { loadWorkload } from '../workload/load'
import { cli, tmpDir } from './helpers'

const EVERY = 4096
/**
 * Both levels of deltas in eight snapshots: full at 4096; a delta on it at 8192; a first-level
 * delta on it at 12288; a delta on that at 16384; then the same from a full one at 20480.
 */
const SHORT_CHAINS = { deltasPerFullMax: 1, leavesPerDelta: 1, fullRatio: Infinity }
const SEED = 1

/**
 * gph-tiny-pcp's processes, page cache, host discards and discarded-page collections on a larger
 * guest with some churn: about 35,000 events, so eight snapshots, and every projection busy.
 */
const busy = (): Workload => {
  const w = loadWorkload(path.join('workloads', 'gph-tiny-pcp.json'))
  return {
    ...w,
    machine: {
      ...w.machine,
      zones: [
        { name: 'DMA32', mib: 8 },
        { name: 'Normal', mib: 24 },
      ],
    },
    ops: [...w.ops, { op: 'churn', cpu: 0, steps: 3000, liveMax: 32 }],
  }
}

/** Runs `f` on a connection of its own, closed after. */
const using = <T>(open: (file: string) => Db, file: string, f: (db: Db) => T): T => {
  const db = open(file)
  try {
    return f(db)
  } finally {
    db.close()
  }
}
const reading = <T>(file: string, f: (db: Db) => T): T => using(openForRead, file, f)
const writing = <T>(file: string, f: (db: Db) => T): T => using(openForWrite, file, f)

interface Row {
  run_id: number
  seq: number
  kind: string
  base_seq: number | null
  head_hash: string
  checksum: string
  raw_bytes: number
  bytes: Buffer
}

const rows = (file: string, run: number): Row[] => reading(file, (db) => db.prepare('SELECT * FROM snapshots WHERE run_id = ? ORDER BY seq').all(run) as Row[])

/** Replaces a snapshot row (rows cannot be updated: deleted and inserted again, as someone editing the file would). */
const tamper = (file: string, run: number, seq: number, change: (r: Row) => Partial<Row>): void => {
  const db = new Database(file)
  try {
    const r = db.prepare('SELECT * FROM snapshots WHERE run_id = ? AND seq = ?').get(run, seq) as Row
    const n = { ...r, ...change(r) }
    db.prepare('DELETE FROM snapshots WHERE run_id = ? AND seq = ?').run(run, seq)
    db.prepare('INSERT INTO snapshots VALUES (@run_id, @seq, @kind, @base_seq, @head_hash, @checksum, @raw_bytes, @bytes)').run(n)
  } finally {
    db.close()
  }
}

/** The same snapshot with its saved state changed and a checksum that matches: only a comparison with the fold finds it. */
const forged = (r: Row): Partial<Row> => {
  const c = decodeSnapshot(r.bytes)
  if (E.isLeft(c)) throw new Error(c.left)
  const { rest, chunks: _, ...header } = c.right.header
  const parts = (rest as { parts: { stats: { events: number } } }).parts
  parts.stats.events += 1
  const cb = header.chunkBytes
  const at = new Map([...c.right.indices].map((idx, k) => [idx, k]))
  const { bytes } = encodeSnapshot(header, JSON.stringify(rest), [...c.right.indices], (i) => c.right.data.subarray(at.get(i)! * cb, (at.get(i)! + 1) * cb))
  return { bytes, checksum: sha256Hex(bytes) }
}

const copy = (file: string): string => {
  const to = path.join(tmpDir(), 'copy.db')
  fs.copyFileSync(file, to)
  return to
}

describe('snapshots', () => {
  let file: string
  let head: number
  // Run 1 is stored with snapshots every EVERY events, run 2 without (then rebuilt with short chains).
  beforeAll(async () => {
    file = path.join(tmpDir(), 'snap.db')
    const config = resolveConfig()
    const a = await runToStore({ workload: busy(), workloadSource: 'busy', seed: SEED, db: file, config, snapshotEvery: EVERY })
    const b = await runToStore({ workload: busy(), workloadSource: 'busy', seed: SEED, db: file, config, snapshotEvery: 0 })
    expect(a.headHash).toBe(b.headHash)
    expect(a.snapshots).toBe(Math.floor(a.events / EVERY))
    expect(b.snapshots).toBe(0)
    head = a.events
    expect(head).toBeGreaterThan(8 * EVERY)
  })

  it('a run writes the very snapshots `mmsim snapshot` builds by folding its events, and they change no hash', () => {
    expect(rows(file, 2)).toEqual([])
    const summary = writing(file, (db) => buildSnapshots(db, file, 2, EVERY))
    const written = rows(file, 1)
    expect(summary.snapshots).toBe(written.length)
    expect(written.map((r) => r.kind)).toContain('delta')
    const strip = (rs: Row[]) => rs.map(({ run_id: _, ...r }) => r)
    expect(strip(rows(file, 2))).toEqual(strip(written))
    reading(file, (db) => expect(getRun(db, file, 1).head_hash).toBe(getRun(db, file, 2).head_hash))
  })

  it('the state at seqs before, at and after each snapshot, across both levels of deltas, equals the fold from seq 1 in every projection', () => {
    writing(file, (db) => buildSnapshots(db, file, 2, EVERY, SHORT_CHAINS))
    const snaps = rows(file, 2)
    expect(snaps.map((r) => r.kind)).toEqual(['full', 'delta', 'delta', 'delta', 'full', 'delta', 'delta', 'delta'])
    expect(snaps.map((r) => r.base_seq)).toEqual([null, 1, 1, 3, null, 5, 5, 7].map((k) => (k === null ? null : k * EVERY)))
    const asked = new Set<number>([1, 2, head - 1, head])
    for (const r of snaps) for (const d of [-1, 0, 1]) asked.add(r.seq + d)
    let x = 12345
    for (let i = 0; i < 12; i++) asked.add(1 + ((x = (x * 1103515245 + 12345) % 2 ** 31) % head))
    const reader = openForRead(file)
    const seen = { fromDelta: 0, fromNull: 0, cache: false, mms: false, discardLists: false }
    try {
      foldRun(reader, file, 2, head, (folded: MmState, e) => {
        if (!asked.has(e.seq)) return
        const r = reading(file, (db) => stateAt(db, file, 2, e.seq))
        expect(r.seq).toBe(e.seq)
        expect(r.ignored).toEqual([])
        const nearest = snaps.filter((s) => s.seq <= e.seq).pop()
        expect(r.from).toEqual(nearest === undefined ? null : { snapshotSeq: nearest.seq, kind: nearest.kind })
        expect(diffStates(r.state, folded), `seq ${e.seq}`).toEqual([])
        if (r.from?.kind === 'delta') seen.fromDelta++
        if (r.from === null) seen.fromNull++
        seen.cache ||= (folded.pages?.cache.size ?? 0) > 0
        seen.mms ||= folded.mms.mms.size > 0
        seen.discardLists ||= folded.cpus.discardLists.some((l) => l.length > 0)
      })
    } finally {
      reader.close()
    }
    expect(seen).toMatchObject({ cache: true, mms: true, discardLists: true })
    expect(seen.fromNull).toBe([...asked].filter((s) => s < EVERY).length)
    expect(seen.fromDelta).toBeGreaterThan(12)
  })

  describe('a snapshot that does not verify is passed over, and the answer stays right', () => {
    // Fulls at 4096 and 20480; 16384 is a delta on 12288, a delta on 4096 (SHORT_CHAINS). A link
    // that does not verify leaves the state of the link before it in its chain.
    const cases: [string, number, (r: Row) => Partial<Row>, string, number | null][] = [
      [
        'bytes changed',
        12288,
        (r) => ({ bytes: Buffer.concat([r.bytes.subarray(0, 40), Buffer.from([r.bytes[40]! ^ 1]), r.bytes.subarray(41)]) }),
        'its bytes do not match its checksum',
        4096,
      ],
      ['checksum changed', 20480, () => ({ checksum: '0'.repeat(64) }), 'its bytes do not match its checksum', 16384],
      [
        'head hash changed',
        4096,
        (r) => ({ head_hash: r.head_hash.replace(/^./, (c) => (c === '0' ? '1' : '0')) }),
        "its head hash is not the run's hash at seq 4096: it was built from other events",
        null,
      ],
    ]
    it.each(cases)('%s', async (_what, seq, change, problem, fallback) => {
      const f = copy(file)
      writing(f, (db) => buildSnapshots(db, f, 2, EVERY, SHORT_CHAINS))
      tamper(f, 2, seq, change)
      const at = seq + EVERY + 5
      const r = reading(f, (db) => stateAt(db, f, 2, at))
      const folded = reading(f, (db) => foldRun(db, f, 2, at))
      expect(r.ignored).toEqual([{ seq, problem }])
      expect(r.from?.snapshotSeq ?? null).toBe(fallback)
      expect(diffStates(r.state, folded.state)).toEqual([])
      // The command says so on stderr, and its answer is the fold's.
      const c = await cli('state', 'zone', '--db', f, '--run', '2', '--at', String(at), '--json')
      expect(c.code).toBe(0)
      expect(c.err).toContain(`snapshot at seq ${seq} ignored: ${problem}`)
      const out = JSON.parse(c.out) as { seq: number; from: { snapshotSeq: number } | null; zones: unknown }
      expect(out.seq).toBe(at)
      expect(out.from?.snapshotSeq ?? null).toBe(fallback)
      expect(out.zones).toEqual(JSON.parse(JSON.stringify(zoneSummary(folded.state.zone))))
      // mmsim check reports it as an integrity failure named by its seq.
      const k = await cli('check', '--db', f, '--run', '2', '--json')
      expect(k.code).toBe(1)
      const report = JSON.parse(k.out) as { integrity: { ok: boolean }; snapshots: { failures: { seq: number; problem: string }[] } }
      expect(report.integrity.ok).toBe(true)
      expect(report.snapshots.failures[0]).toEqual({ seq, problem })
    })
  })

  it('a delta whose base is not stored is passed over with the deltas on it, for the fold from seq 1', () => {
    const f = copy(file)
    writing(f, (db) => buildSnapshots(db, f, 2, EVERY, SHORT_CHAINS))
    const db = new Database(f)
    db.prepare('DELETE FROM snapshots WHERE run_id = 2 AND seq = ?').run(EVERY)
    db.close()
    const at = 4 * EVERY + 5
    const r = reading(f, (c) => stateAt(c, f, 2, at))
    expect(r.ignored).toEqual([
      { seq: 3 * EVERY, problem: `the snapshot it is a delta on (seq ${EVERY}) is not stored` },
      { seq: 2 * EVERY, problem: `the snapshot it is a delta on (seq ${EVERY}) is not stored` },
    ])
    expect(r.from).toBeNull()
    expect(diffStates(r.state, reading(f, (c) => foldRun(c, f, 2, at)).state)).toEqual([])
    expect(reading(f, (c) => stateAt(c, f, 2, 5 * EVERY + 5)).from).toEqual({ snapshotSeq: 5 * EVERY, kind: 'full' })
  })

  it('mmsim check verifies every snapshot against the fold: a rewritten one with a matching checksum fails it, named by its seq', async () => {
    const ok = await cli('check', '--db', file, '--run', '1')
    expect(ok.code).toBe(0)
    expect(ok.out).toContain(`snapshots: ${Math.floor(head / EVERY)} up to seq ${head} checked against the fold, all match`)
    const f = copy(file)
    const seq = rows(f, 1).find((r) => r.kind === 'delta')!.seq
    tamper(f, 1, seq, forged)
    // The forgery verifies (checksum, head hash): it is used, which is why check compares with the fold.
    expect(reading(f, (db) => stateAt(db, f, 1, seq).state.stats.events)).toBe(seq + 1)
    const bad = await cli('check', '--db', f, '--run', '1')
    expect(bad.code).toBe(1)
    expect(bad.out).toContain(`integrity: FAILED: snapshot at seq ${seq}: it does not match the fold of events 1..${seq}: state.stats.events: ${seq + 1} != ${seq}`)
    expect(bad.out).toContain('integrity: ok')
  })

  it("check's state findings: the first failing seq is the same whether the refinement starts from a snapshot or from seq 1, and a forged snapshot is not used", () => {
    // Fails once the fold has counted `from` events: in a window between two snapshots.
    const from = 5 * EVERY + 100
    const inv: StateInvariant<MmState> = {
      name: 'test.counted',
      description: 'test predicate',
      check: (s) => (s.stats.events >= from ? { name: 'test.counted', message: `${s.stats.events} events folded` } : null),
    }
    const failing: number[] = []
    reading(file, (db) =>
      foldRun(db, file, 1, undefined, (s, e) => {
        if (failing.length === 0 && inv.check(s) !== null) failing.push(e.seq)
      }),
    )
    const found = (f: string) => reading(f, (db) => checkRun(db, f, 1, undefined, [inv]))
    const withSnapshots = found(file)
    expect(withSnapshots.state.map((x) => [x.name, x.firstSeq])).toEqual([['test.counted', failing[0]]])
    // Without snapshots, the same answer.
    const bare = copy(file)
    using(
      (f) => new Database(f),
      bare,
      (db) => db.exec('DROP TRIGGER IF EXISTS snapshots_no_update; DELETE FROM snapshots'),
    )
    expect(found(bare).state).toEqual(withSnapshots.state)
    // A forged snapshot just before the failure (its stats one event ahead) would move the finding: check does not restore from it.
    const f = copy(file)
    const seq = rows(f, 1)
      .filter((r) => r.seq < failing[0]!)
      .pop()!.seq
    tamper(f, 1, seq, forged)
    const r = found(f)
    expect(r.snapshots.failures.map((x) => x.seq)).toContain(seq)
    expect(r.state).toEqual(withSnapshots.state)
  })

  it('mmsim snapshot gives a run stored without snapshots the same answers, now from a snapshot', async () => {
    const dir = tmpDir()
    const f = path.join(dir, 'none.db')
    const w = path.join(dir, 'w.json')
    fs.writeFileSync(w, JSON.stringify(busy()))
    expect((await cli('run', '--db', f, '--workload', w, '--seed', String(SEED), '--snapshot-every', '0', '--no-progress')).code).toBe(0)
    const views = [['zone'], ['pages', '--count', '64'], ['cpus']]
    const ask = async () =>
      Promise.all(
        views.map(async (v) => {
          const r = await cli('state', ...v, '--db', f, '--at', String(5 * EVERY + 77), '--json')
          expect(r.code).toBe(0)
          return JSON.parse(r.out) as { from: unknown }
        }),
      )
    const before = await ask()
    expect(before.map((a) => a.from)).toEqual([null, null, null])
    const bad = await cli('snapshot', '--db', f, '--every', '1000')
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('--every: expected a multiple of 4096 from 4096, got "1000"')
    const made = await cli('snapshot', '--db', f, '--every', String(EVERY), '--json')
    expect(made.code).toBe(0)
    expect(JSON.parse(made.out)).toMatchObject({ run: 1, snapshots: Math.floor(head / EVERY), every: EVERY, firstSeq: EVERY })
    const after = await ask()
    expect(after.map((a) => a.from)).toEqual(views.map(() => ({ snapshotSeq: 5 * EVERY, kind: expect.any(String) as string })))
    expect(after.map(({ from: _, ...a }) => a)).toEqual(before.map(({ from: _, ...a }) => a))
    const text = await cli('snapshot', '--db', f, '--every', '8192')
    expect(text.out).toMatch(/^run 1: 4 snapshots every 8,192 events \(seq 8192\.\.32768\): \d+ full, \d+ delta; [\d.]+ MiB stored \([\d.]+ MiB before compression\)\n$/)
    expect((await cli('snapshot', '--db', f, '--every', '65536')).out).toBe('run 1: no snapshots (it has fewer than 65,536 events)\n')
  })

  it('state --at-time picks the last event at or before that time; a time past the run, or both --at and --at-time, exit 2', async () => {
    const events = reading(file, (db) => db.prepare('SELECT seq, t FROM events WHERE run_id = 1 ORDER BY seq').all() as { seq: number; t: number }[])
    const mid = events[Math.floor(events.length / 2)]!
    const lastAtT = events.filter((e) => e.t <= mid.t).pop()!.seq
    const between = events.find((e) => e.t > mid.t)!
    for (const [t, want] of [
      [mid.t, lastAtT],
      [between.t - 1, lastAtT],
      [0, events.filter((e) => e.t === 0).pop()!.seq],
      [events[events.length - 1]!.t, head],
    ] as const) {
      const r = await cli('state', 'cpus', '--db', file, '--run', '1', '--at-time', String(t), '--json')
      expect(r.code, `--at-time ${t}`).toBe(0)
      expect((JSON.parse(r.out) as { seq: number }).seq).toBe(want)
    }
    const lastT = events[events.length - 1]!.t
    const past = await cli('state', 'zone', '--db', file, '--run', '1', '--at-time', String(lastT + 1))
    expect(past.code).toBe(2)
    expect(past.err).toContain(`--at-time ${lastT + 1} is past the end of run 1, whose last event (seq ${head}) is at ${lastT} ns`)
    const both = await cli('state', 'zone', '--db', file, '--at', '5', '--at-time', '5')
    expect(both.code).toBe(2)
    expect(both.err).toContain('give --at or --at-time, not both')
    for (const [flag, v] of [
      ['--at-time', '-5'],
      ['--at-time', '1.5'],
      ['--at', '0'],
      ['--at', '2.5'],
      ['--at', String(head + 1)],
    ]) {
      const r = await cli('state', 'pages', '--db', file, '--run', '1', flag!, v!)
      expect(r.code, `${flag} ${v}`).toBe(2)
      expect(r.out).toBe('')
    }
  })
})
