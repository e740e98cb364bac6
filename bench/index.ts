// `npm run bench`: end-to-end throughput of `mmsim run` (simulate, encode, hash, store) on a
// workload of at least two million events, beside the ceiling measured in the same process:
// raw better-sqlite3 inserts of the same rows into the same schema, one prepared statement in
// large transactions. Timing lives here, never in tests. The ratio is printed last.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { resolveConfig } from '../engine/config'
import { simulate } from '../engine/run'
import { SCHEMA_SQL, WRITE_PRAGMAS, openForRead, readRows, type StoredRow } from '../storage'
import { runToStore } from '../cli/commands/run'
import { benchWorkload } from './workload'

const EVENTS_MIN = 2_000_000
const STEPS_PER_CPU = 520_000
const TX_ROWS = 32_768

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

const rawInsert = (file: string, rows: StoredRow[]): number => {
  const db = new Database(file)
  db.exec(SCHEMA_SQL)
  for (const p of WRITE_PRAGMAS) db.pragma(p)
  const ins = db.prepare('INSERT INTO events (run_id, seq, t, cpu, type, pfn, npages, cause, data, h) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
  const tx = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const r = rows[i]!
      ins.run(1, r.seq, r.t, r.cpu, r.type, r.pfn, r.npages, r.cause, r.data, r.h)
    }
  })
  const t0 = performance.now()
  for (let i = 0; i < rows.length; i += TX_ROWS) tx(i, Math.min(rows.length, i + TX_ROWS))
  const ms = performance.now() - t0
  db.close()
  return ms
}

const main = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmsim-bench-'))
  try {
    const workload = benchWorkload(STEPS_PER_CPU)
    console.log(`workload: ${workload.name}, 4 CPUs x ${fmt(STEPS_PER_CPU)} churn steps, 2 GiB guest`)

    // 1. The simulator alone, events dropped: how much of the budget the model itself takes.
    let t0 = performance.now()
    const mem = simulate({ workload, seed: 1, config: resolveConfig(), sink: { append: () => undefined } })
    const simMs = performance.now() - t0
    console.log(`simulate only (no store):  ${fmt((mem.lastSeq / simMs) * 1000)} events/s`)

    // 2. End to end, exactly what `mmsim run` does.
    const dbFile = path.join(dir, 'bench.db')
    t0 = performance.now()
    const summary = await runToStore({ workload, workloadSource: 'bench', seed: 1, db: dbFile, config: resolveConfig() })
    const e2eMs = performance.now() - t0
    if (summary.events < EVENTS_MIN) throw new Error(`the bench produced ${summary.events} events, fewer than ${EVENTS_MIN}`)
    const e2eRate = (summary.events / e2eMs) * 1000
    console.log(`events: ${fmt(summary.events)}`)
    console.log(`end to end (mmsim run):    ${fmt(e2eRate)} events/s  (${(e2eMs / 1000).toFixed(2)} s)`)

    // 3. The ceiling: the same rows, inserted raw.
    const db = openForRead(dbFile)
    const rows = [...readRows(db, summary.runId)]
    db.close()
    const rawMs = rawInsert(path.join(dir, 'raw.db'), rows)
    const rawRate = (rows.length / rawMs) * 1000
    console.log(`ceiling (raw inserts):     ${fmt(rawRate)} rows/s    (${(rawMs / 1000).toFixed(2)} s)`)
    console.log(`ratio end-to-end / ceiling: ${(e2eRate / rawRate).toFixed(3)}`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
