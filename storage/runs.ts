// The runs table: one row per run with everything needed to re-execute it, and its status.
// A run is 'running' until it ends; a process that died leaves it 'running' with a pid that is
// gone, which reapStaleRuns turns into 'interrupted'.
import { randomUUID } from 'node:crypto'
import * as os from 'node:os'
import * as t from 'io-ts'
import * as E from 'fp-ts/Either'
import { NonNegInt, PosInt, oneOf } from '../events/codecs'
import { formatErrors } from '../events/report'
import type { Db } from './open'
import { StoreError } from './errors'
import { HASH_VERSION, SCHEDULE_GENESIS, headHash, identityHash, sealHash, type RunLineage } from './hashChain'

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
  /** 1: a run written by schema 1, 2: one whose schedule is bare delays; each verified as it was written (storage/hashChain.ts). */
  hash_version: t.union([t.literal(1), t.literal(2), t.literal(3)]),
  schedule_hash: t.union([t.string, t.null]),
  seal: t.union([t.string, t.null]),
  /** Schema 4: the run this one replays or forks, and how it followed that run's schedule. */
  parent_run: t.union([PosInt, t.null]),
  derivation: t.union([t.literal('replay'), t.literal('fork'), t.null]),
  fork_seq: t.union([NonNegInt, t.null]),
  schedule_seed: t.union([t.number, t.null]),
  departed_seq: t.union([NonNegInt, t.null]),
  departed_decision: t.union([NonNegInt, t.null]),
  /** Schema 5: the run's stable identity (schema.ts): its own uuid, and the digest of what it runs. */
  uuid: t.union([t.string, t.null]),
  digest: t.union([t.string, t.null]),
})
export type RunRow = t.TypeOf<typeof RunRow>

/** A run derived from another: replayed (the whole schedule) or forked (its schedule up to a seq). */
export interface NewLineage {
  readonly parentRun: number
  readonly derivation: 'replay' | 'fork'
  readonly forkSeq: number | null
}

export interface NewRun {
  readonly engineVersion: string
  readonly seed: number
  readonly config: unknown
  readonly workload: unknown
  readonly workloadName: string
  readonly workloadSource: string
  /** The seed of the schedule strategy (default: seed). */
  readonly scheduleSeed?: number
  readonly lineage?: NewLineage
  /** The config and workload columns' text exactly, when they are copied from another run (a replay keeps its identity). */
  readonly configText?: string
  readonly workloadText?: string
}

/** The identity hash of a stored run: the genesis of its block chain (hash version 2). */
export const runIdentity = (r: Pick<RunRow, 'engine_version' | 'seed' | 'config' | 'workload'>): string =>
  identityHash({ engineVersion: r.engine_version, seed: r.seed, config: r.config, workload: r.workload })

/** The lineage columns of a run row (schema 4), as the seal and the listing take them. */
export const runLineage = (r: Pick<RunRow, 'parent_run' | 'derivation' | 'fork_seq' | 'schedule_seed' | 'departed_seq' | 'departed_decision'>): RunLineage => ({
  parentRun: r.parent_run,
  derivation: r.derivation,
  forkSeq: r.fork_seq,
  scheduleSeed: r.schedule_seed,
  departedSeq: r.departed_seq,
  departedDecision: r.departed_decision,
})

/**
 * The seal over the columns of a run row that its head does not cover: hash version 2's, or from
 * version 3 with the run's lineage too (older runs keep the seal they were written with).
 */
export const runSeal = (r: Omit<RunRow, 'id' | 'head_seq' | 'head_hash' | 'decisions' | 'schedule_hash' | 'seal' | 'uuid' | 'digest'>): string =>
  sealHash(
    {
      identity: runIdentity(r),
      workloadName: r.workload_name,
      workloadSource: r.workload_source,
      createdAt: r.created_at,
      pid: r.pid,
      host: r.host,
      status: r.status,
      outcome: r.outcome,
      reason: r.reason,
      violations: r.violations,
      finishedAt: r.finished_at,
    },
    r.hash_version >= 3 ? runLineage(r) : null,
  )

/** The genesis of run `id`'s block chain, for its writer. */
export const chainGenesis = (db: Db, id: number): string => {
  const r = db.prepare('SELECT engine_version, seed, config, workload FROM runs WHERE id = ?').get(id) as
    Pick<RunRow, 'engine_version' | 'seed' | 'config' | 'workload'> | undefined
  if (r === undefined) throw new StoreError(`${db.name}: no run ${id}`)
  return runIdentity(r)
}

export const createRun = (db: Db, r: NewRun): number => {
  const row = {
    created_at: new Date().toISOString(),
    engine_version: r.engineVersion,
    seed: r.seed,
    config: r.configText ?? JSON.stringify(r.config),
    workload: r.workloadText ?? JSON.stringify(r.workload),
    workload_name: r.workloadName,
    workload_source: r.workloadSource,
    status: 'running' as const,
    outcome: null,
    reason: null,
    violations: 0,
    pid: process.pid,
    host: os.hostname(),
    finished_at: null,
    hash_version: HASH_VERSION,
    parent_run: r.lineage?.parentRun ?? null,
    derivation: r.lineage?.derivation ?? null,
    fork_seq: r.lineage?.forkSeq ?? null,
    schedule_seed: r.scheduleSeed ?? r.seed,
    departed_seq: null,
    departed_decision: null,
  }
  // An empty run's head: no block, no decision; every committed batch moves it (EventWriter).
  const identity = runIdentity(row)
  const head = headHash(identity, 0, SCHEDULE_GENESIS, 0)
  const info = db
    .prepare(
      `INSERT INTO runs (created_at, engine_version, seed, config, workload, workload_name, workload_source, status, pid, host,
                         head_seq, head_hash, decisions, hash_version, schedule_hash, seal,
                         parent_run, derivation, fork_seq, schedule_seed, uuid, digest)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, 0, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      row.created_at,
      row.engine_version,
      row.seed,
      row.config,
      row.workload,
      row.workload_name,
      row.workload_source,
      row.pid,
      row.host,
      head,
      HASH_VERSION,
      SCHEDULE_GENESIS,
      runSeal(row),
      row.parent_run,
      row.derivation,
      row.fork_seq,
      row.schedule_seed,
      // Storage-side identity: drawn here, never by the deterministic engine.
      randomUUID(),
      identity,
    )
  return Number(info.lastInsertRowid)
}

export interface RunEnd {
  readonly status: Exclude<RunStatus, 'running'>
  readonly outcome: string | null
  readonly reason: string | null
  readonly violations: number
  /** A replay or fork: where it stopped following its parent's schedule (seq, decision index). */
  readonly departed?: { readonly seq: number; readonly decision: number } | null
}

type SealedChange = Pick<RunRow, 'status' | 'outcome' | 'reason' | 'violations' | 'finished_at'> & Partial<Pick<RunRow, 'departed_seq' | 'departed_decision'>>

/**
 * Changes the sealed columns of a run and its seal together, in one transaction (read, reseal,
 * write), so a reader never sees one without the other. Schema 1 runs have no seal to keep.
 */
const updateSealed = (db: Db, id: number, change: SealedChange, onlyIfRunning = false): void =>
  db
    .transaction(() => {
      const row = getRun(db, db.name, id)
      if (onlyIfRunning && row.status !== 'running') return
      const next = { ...row, ...change }
      const seal = row.hash_version === 1 ? row.seal : runSeal(next)
      db.prepare('UPDATE runs SET status = ?, outcome = ?, reason = ?, violations = ?, finished_at = ?, seal = ? WHERE id = ?').run(
        next.status,
        next.outcome,
        next.reason,
        next.violations,
        next.finished_at,
        seal,
        id,
      )
      // Schema 4's columns, only when they change: a run of an older schema is never given them.
      if (next.departed_seq !== row.departed_seq || next.departed_decision !== row.departed_decision)
        db.prepare('UPDATE runs SET departed_seq = ?, departed_decision = ? WHERE id = ?').run(next.departed_seq, next.departed_decision, id)
      // IMMEDIATE: the write lock first, so a writer that committed after our read cannot make
      // the update fail with SQLITE_BUSY_SNAPSHOT (the busy timeout waits for the lock instead).
    })
    .immediate()

/** Marks a run ended. Its head (seq, hash) was kept current by every committed batch. */
export const endRun = (db: Db, id: number, end: RunEnd): void => {
  const { departed, ...rest } = end
  updateSealed(db, id, {
    ...rest,
    finished_at: new Date().toISOString(),
    ...(departed != null ? { departed_seq: departed.seq, departed_decision: departed.decision } : {}),
  })
}

/**
 * Columns later schemas added, as an older file's runs are read: a schema 1 run has hash version
 * 1 and nothing sealed; a run before schema 4 has no lineage.
 */
const OLDER_SCHEMA_DEFAULTS = {
  hash_version: 1,
  schedule_hash: null,
  seal: null,
  parent_run: null,
  derivation: null,
  fork_seq: null,
  schedule_seed: null,
  departed_seq: null,
  departed_decision: null,
  uuid: null,
  digest: null,
}

const decodeRow = (u: unknown, file: string): RunRow => {
  const r = RunRow.decode({ ...OLDER_SCHEMA_DEFAULTS, ...(u as object) })
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
export const isStale = (r: RunRow): boolean => r.status === 'running' && r.pid !== null && r.host === os.hostname() && r.pid !== process.pid && !alive(r.pid)

export const reapStaleRuns = (db: Db, file: string): number => {
  let n = 0
  for (const r of listRuns(db, file)) {
    if (!isStale(r)) continue
    const reason = `process ${r.pid} ended before the run did; events up to seq ${r.head_seq} are complete`
    updateSealed(db, r.id, { status: 'interrupted', outcome: r.outcome, reason, violations: r.violations, finished_at: r.finished_at }, true)
    n++
  }
  return n
}

export const listRuns = (db: Db, file: string): RunRow[] => (db.prepare('SELECT * FROM runs ORDER BY id').all() as unknown[]).map((u) => decodeRow(u, file))

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
