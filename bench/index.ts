// `npm run bench`: end-to-end throughput of `mmsim run` (simulate, encode, hash, store, index,
// until the database is fully queryable) on a workload of at least two million events, beside
// two ceilings measured in the same process: raw better-sqlite3 inserts of a minimal event row
// (seq, t, type, JSON data), one row per statement in 100k-row transactions, measured before
// and after the run and averaged (the machine may be shared); and the run's own batch rows
// inserted again into the project's schema. Then the stored run read back: queries by frame and
// by type, and a full fold (read, decode, fold). Timing lives here, never in tests. The ratio to
// the minimal row is last.
// The same run is also stored without snapshots, to show what taking them costs. Time travel on
// a run of ten million events (bench/timetravel.ts, five minutes or more) is a section of its
// own: `npm run bench -- --only timetravel` (or `--only e2e,timetravel` for both).
// Then exploration (bench/explore.ts): schedules per second with one and two workers, and PCT
// against random in schedules to the first violation (`--only explore`). Bisect's time on the
// time-travel run is printed by that section, and alone by `--only bisect` (bench/bisect.ts).
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { foldRun } from '../analysis/fold'
import { resolveConfig } from '../engine/config'
import { simulate } from '../engine/run'
import { WRITE_PRAGMAS, createSchema, openForRead, readRows, type EventFilter, type StoredRow } from '../storage'
import { runToStore } from '../hunt/runToStore'
import { benchWorkload } from './workload'
import { measureThreads, type ThreadCpu } from './threadCpu'
import { timeTravelBench } from './timetravel'
import { benchExplore } from './explore'
import { bisectBench } from './bisect'

const EVENTS_MIN = 2_000_000
const STEPS_PER_CPU = 520_000
const MINIMAL_TX_ROWS = 100_000

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

/** The run's stored batch rows, inserted again into a new database of mmsim's schema: what SQLite alone costs the layout. */
const rawInsert = (file: string, batches: readonly unknown[][]): number => {
  const db = new Database(file)
  db.pragma('page_size = 16384')
  createSchema(db)
  for (const p of WRITE_PRAGMAS) db.pragma(p)
  const ins = db.prepare('INSERT INTO event_batches (run_id, first_seq, last_seq, first_t, last_t, hashes, body) VALUES (?, ?, ?, ?, ?, ?, ?)')
  const t0 = performance.now()
  // One transaction per batch, as the writer commits them.
  for (const b of batches) db.transaction(() => ins.run(b))()
  const ms = performance.now() - t0
  db.close()
  return ms
}

/** The minimal event row: what any event store must at least write. */
const minimalInsert = (file: string, rows: readonly StoredRow[]): number => {
  const db = new Database(file)
  for (const p of WRITE_PRAGMAS) db.pragma(p)
  db.exec('CREATE TABLE events (seq INTEGER PRIMARY KEY, t INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL)')
  const ins = db.prepare('INSERT INTO events (seq, t, type, data) VALUES (?, ?, ?, ?)')
  const tx = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const r = rows[i]!
      ins.run(r.seq, r.t, r.type, r.data)
    }
  })
  const t0 = performance.now()
  for (let i = 0; i < rows.length; i += MINIMAL_TX_ROWS) tx(i, Math.min(rows.length, i + MINIMAL_TX_ROWS))
  const ms = performance.now() - t0
  db.close()
  return ms
}

/** Wall time of a query a user runs on the stored run, through the store's read path. */
const queryMs = (file: string, runId: number, f: EventFilter): { ms: number; rows: number } => {
  const db = openForRead(file)
  const t0 = performance.now()
  let rows = 0
  for (const _ of readRows(db, runId, f)) rows++
  const ms = performance.now() - t0
  db.close()
  return { ms, rows }
}

const SECTIONS = ['e2e', 'timetravel', 'explore', 'bisect'] as const
type Section = (typeof SECTIONS)[number]

const sections = (argv: readonly string[]): readonly Section[] => {
  const i = argv.indexOf('--only')
  if (i < 0) return ['e2e', 'explore']
  const want = (argv[i + 1] ?? '').split(',')
  const bad = want.filter((w) => !(SECTIONS as readonly string[]).includes(w))
  if (bad.length > 0) throw new Error(`--only takes ${SECTIONS.join(', ')} (comma-separated), not ${bad.join(', ')}`)
  return want as Section[]
}

/** `--bisect-steps N`: the bisect section's run, smaller than the time-travel run's ten million events. */
const bisectSteps = (argv: readonly string[]): number | undefined => {
  const i = argv.indexOf('--bisect-steps')
  if (i < 0) return undefined
  const n = Number(argv[i + 1])
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--bisect-steps takes a positive integer, not ${argv[i + 1]}`)
  return n
}

const perEvent = (cpu: ThreadCpu | null, events: number): string =>
  cpu === null ? '' : `; CPU per event: simulation thread ${((cpu.mainMs * 1000) / events).toFixed(2)} µs, writer thread ${((cpu.newThreadMs * 1000) / events).toFixed(2)} µs`

const main = async () => {
  const only = sections(process.argv.slice(2))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmsim-bench-'))
  try {
    if (only.includes('e2e')) await endToEnd(dir)
    if (only.includes('timetravel')) await timeTravelBench(dir)
    if (only.includes('explore')) await benchExplore()
    if (only.includes('bisect')) await bisectBench(dir, bisectSteps(process.argv.slice(2)))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const endToEnd = async (dir: string) => {
  const workload = benchWorkload(STEPS_PER_CPU)
  console.log(`workload: ${workload.name}, 4 CPUs x ${fmt(STEPS_PER_CPU)} churn steps, 2 GiB guest`)

  // 1. The simulator alone, events dropped: how much of the budget the model itself takes.
  let t0 = performance.now()
  const mem = simulate({ workload, seed: 1, config: resolveConfig(), sink: { append: () => undefined } })
  const simMs = performance.now() - t0
  console.log(`simulate only (no store):  ${fmt((mem.lastSeq / simMs) * 1000)} events/s`)

  // 2. End to end, exactly what `mmsim run` does, between two measurements of the minimal
  // ceiling (on rows of the same shape, from a short run stored first).
  const probe = path.join(dir, 'probe.db')
  const probeRun = await runToStore({ workload: benchWorkload(Math.ceil(STEPS_PER_CPU / 4)), workloadSource: 'bench', seed: 2, db: probe, config: resolveConfig() })
  const probeDb = openForRead(probe)
  const probeRows = [...readRows(probeDb, probeRun.runId)]
  probeDb.close()
  const minBeforeMs = minimalInsert(path.join(dir, 'minimal-1.db'), probeRows)
  const dbFile = path.join(dir, 'bench.db')
  t0 = performance.now()
  const { result: summary, cpu } = await measureThreads(() => runToStore({ workload, workloadSource: 'bench', seed: 1, db: dbFile, config: resolveConfig() }))
  const e2eMs = performance.now() - t0
  if (summary.events < EVENTS_MIN) throw new Error(`the bench produced ${summary.events} events, fewer than ${EVENTS_MIN}`)
  const e2eRate = (summary.events / e2eMs) * 1000
  console.log(`events: ${fmt(summary.events)}`)
  console.log(`end to end (mmsim run):    ${fmt(e2eRate)} events/s  (${(e2eMs / 1000).toFixed(2)} s; ${summary.snapshots} snapshots${perEvent(cpu, summary.events)})`)
  // What snapshots cost: the same run stored without them (`mmsim run --snapshot-every 0`).
  t0 = performance.now()
  const bare = await measureThreads(() => runToStore({ workload, workloadSource: 'bench', seed: 1, db: path.join(dir, 'bare.db'), config: resolveConfig(), snapshotEvery: 0 }))
  const bareMs = performance.now() - t0
  console.log(`  without snapshots:       ${fmt((bare.result.events / bareMs) * 1000)} events/s  (${(bareMs / 1000).toFixed(2)} s${perEvent(bare.cpu, bare.result.events)})`)

  const minAfter = await measureThreads(() => Promise.resolve(minimalInsert(path.join(dir, 'minimal-2.db'), probeRows)))
  const minAfterMs = minAfter.result
  const minRate = (2 * probeRows.length * 1000) / (minBeforeMs + minAfterMs)
  console.log(
    `minimal ceiling:           ${fmt(minRate)} rows/s    (seq, t, type, data; one row per INSERT, ${fmt(MINIMAL_TX_ROWS)}-row transactions; before ${fmt((probeRows.length / minBeforeMs) * 1000)}, after ${fmt((probeRows.length / minAfterMs) * 1000)})`,
  )

  if (cpu !== null && minAfter.cpu !== null) {
    // What each thread spent, whatever the neighbours did: on two free cores the run would go
    // at the pace of its busier thread.
    const us = (ms: number, n: number) => ((ms * 1000) / n).toFixed(2)
    const minUs = (minAfter.cpu.mainMs * 1000) / probeRows.length
    const busiestUs = (Math.max(cpu.mainMs, cpu.newThreadMs) * 1000) / summary.events
    console.log(
      `CPU per event: simulation thread ${us(cpu.mainMs, summary.events)} µs, writer thread ${us(cpu.newThreadMs, summary.events)} µs, other threads (GC) ${us(cpu.otherMs, summary.events)} µs; minimal row ${minUs.toFixed(2)} µs; two free cores would give about ${(minUs / busiestUs).toFixed(2)} of the minimal ceiling`,
    )
  }

  // 3. The run's batch rows into the project's schema again, one INSERT and commit per batch.
  const db = openForRead(dbFile)
  const batches = db
    .prepare('SELECT run_id, first_seq, last_seq, first_t, last_t, hashes, body FROM event_batches WHERE run_id = ? ORDER BY first_seq')
    .raw()
    .all(summary.runId) as unknown[][]
  const middle = [...readRows(db, summary.runId, { fromSeq: (summary.events >> 1) + 1, limit: 1 })][0]!
  db.close()
  const rawMs = rawInsert(path.join(dir, 'raw.db'), batches)
  const rawRate = (summary.events / rawMs) * 1000
  console.log(
    `same-schema raw inserts:   ${fmt(rawRate)} events/s  (the run's ${fmt(batches.length)} batch rows, one INSERT and commit each, ${(rawMs / 1000).toFixed(2)} s; ratio end-to-end / this: ${(e2eRate / rawRate).toFixed(3)})`,
  )

  // 4. The stored run answers at once: queries by frame and by type through the indexes.
  const pfn = (JSON.parse(middle.data) as { pfn?: number }).pfn ?? 0
  const byFrame = queryMs(dbFile, summary.runId, { pfn })
  const byType = queryMs(dbFile, summary.runId, { types: ['PcpDrained'], limit: 1000 })
  console.log(`queries: frame ${pfn} ${byFrame.rows} events in ${byFrame.ms.toFixed(1)} ms; type PcpDrained ${byType.rows} events in ${byType.ms.toFixed(1)} ms`)

  // 5. Time travel's base: the whole run read back, decoded and folded into state, as `mmsim state` and `mmsim check` do.
  // Its CPU time too (all threads: the fold's own and the collector's helpers), which holds on a shared machine.
  const foldDb = openForRead(dbFile)
  t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const folded = foldRun(foldDb, dbFile, summary.runId)
  const foldCpu = process.cpuUsage(cpu0)
  const foldMs = performance.now() - t0
  foldDb.close()
  const foldCpuMs = (foldCpu.user + foldCpu.system) / 1000
  console.log(
    `full fold (read, decode, fold): ${fmt((folded.lastSeq / foldMs) * 1000)} events/s  (${(foldMs / 1000).toFixed(2)} s; ${fmt((folded.lastSeq / foldCpuMs) * 1000)} events per CPU second)`,
  )
  console.log(`ratio end-to-end / minimal ceiling: ${(e2eRate / minRate).toFixed(3)}`)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
