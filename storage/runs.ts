// The runs table: one row per run with everything needed to re-execute it, and its status.
// A run is 'running' until it ends; a process that died leaves it 'running' with a pid that is
// gone, which reapStaleRuns turns into 'interrupted'.
import * as os from 'node:os'
import * as t from 'io-ts'
import * as E from 'fp-ts/Either'
import { NonNegInt, PosInt, oneOf } from '../events/codecs'
import { formatErrors } from '../events/report'
import type { Db } from './open'
import { StoreError } from './errors'

export const RUN_STATUSES = ['running', 'finished', 'failed', 'interrupted'] as const
export const RunStatus = oneOf(RUN_STATUSES)
export type RunStatus = t.TypeOf<typeof RunStatus>

/** A row of `runs` as the store returns it; decoded, so a damaged row is reported, not used. */
export const RunRow = t.type({
  id: PosInt,
  created_at: t.string,
  engine_version: t.string,
  seed: t.number,
  config: t.string,
  workload: t.string,
  workload_name: t.string,
  workload_source: t.string,
  status: RunStatus,
  outcome: t.union([t.string, t.null]),
  reason: t.union([t.string, t.null]),
  head_seq: NonNegInt,
  head_hash: t.string,
  decisions: NonNegInt,
  violations: NonNegInt,
  pid: t.union([t.number, t.null]),
  host: t.union([t.string, t.null]),
  finished_at: t.union([t.string, t.null]),
})
export type RunRow = t.TypeOf<typeof RunRow>

export interface NewRun {
  readonly engineVersion: string
  readonly seed: number
  readonly config: unknown
  readonly workload: unknown
  readonly workloadName: string
  readonly workloadSource: string
}

export const createRun = (db: Db, r: NewRun): number => {
  const info = db
    .prepare(
      `INSERT INTO runs (created_at, engine_version, seed, config, workload, workload_name, workload_source, status, pid, host)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
    )
    .run(new Date().toISOString(), r.engineVersion, r.seed, JSON.stringify(r.config), JSON.stringify(r.workload), r.workloadName, r.workloadSource, process.pid, os.hostname())
  return Number(info.lastInsertRowid)
}

export interface RunEnd {
  readonly status: Exclude<RunStatus, 'running'>
  readonly outcome: string | null
  readonly reason: string | null
  readonly violations: number
}

/** Marks a run ended. Its head (seq, hash) was kept current by every committed batch. */
export const endRun = (db: Db, id: number, end: RunEnd): void => {
  db.prepare(`UPDATE runs SET status = ?, outcome = ?, reason = ?, violations = ?, finished_at = ? WHERE id = ?`).run(
    end.status,
    end.outcome,
    end.reason,
    end.violations,
    new Date().toISOString(),
    id,
  )
}

const decodeRow = (u: unknown, file: string): RunRow => {
  const r = RunRow.decode(u)
  if (E.isLeft(r)) throw new StoreError(`${file}: run ${(u as { id?: unknown }).id}: ${formatErrors(r.left)}`)
  return r.right
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** A 'running' run whose process is gone (killed, crashed) is shown, and on write marked, interrupted. */
export const isStale = (r: RunRow): boolean =>
  r.status === 'running' && r.pid !== null && r.host === os.hostname() && r.pid !== process.pid && !alive(r.pid)

export const reapStaleRuns = (db: Db, file: string): number => {
  let n = 0
  for (const r of listRuns(db, file)) {
    if (!isStale(r)) continue
    db.prepare(`UPDATE runs SET status = 'interrupted', reason = ? WHERE id = ? AND status = 'running'`).run(
      `process ${r.pid} ended before the run did; events up to seq ${r.head_seq} are complete`,
      r.id,
    )
    n++
  }
  return n
}

export const listRuns = (db: Db, file: string): RunRow[] =>
  (db.prepare('SELECT * FROM runs ORDER BY id').all() as unknown[]).map((u) => decodeRow(u, file))

export const getRun = (db: Db, file: string, id: number): RunRow => {
  const u = db.prepare('SELECT * FROM runs WHERE id = ?').get(id)
  if (u === undefined) throw new StoreError(`${file}: no run ${id} (\`mmsim runs --db ${file}\` lists them)`)
  return decodeRow(u, file)
}

/** The newest run, for commands whose --run defaults to the last one. */
export const latestRunId = (db: Db, file: string): number => {
  const u = db.prepare('SELECT max(id) AS id FROM runs').get() as { id: number | null }
  if (u.id === null) throw new StoreError(`${file}: holds no runs yet`)
  return u.id
}
