// A run derived from a stored one: its workload, seed and configuration re-executed under the
// stored schedule (replay), or under it up to a seq (fork), optionally with other variants, into
// a new run of the same database that names its parent. The shared part of `mmsim replay` and
// `mmsim fork`: load and check the parent, run, then compare the two runs event by event.
import * as E from 'fp-ts/Either'
import { firstDivergence, firstDivergenceAfterBoot, type CompareBy, type Comparison } from '../analysis/compare'
import { ENGINE_VERSION, EngineConfig, configProblem, resolveConfig, type ResolvedConfig } from '../engine/config'
import { describePlace, type DecisionPlace } from '../engine/sim/decisions'
import type { Departure } from '../engine/sim/strategy'
import { formatErrors, type RecordedSchedule } from '../events'
import { HASH_VERSION, StoreError, getRun, isStale, openForRead, readRows, readSchedule, type Db, type RunRow, type StoredRow } from '../storage'
import type { Variants, Workload } from '../workload/codec'
import { decodeWorkload } from '../workload/load'
import { runToStore, type RunOptions, type RunSummary } from './runToStore'

/** A replay or fork that cannot be made as asked (another engine version, a run still being written, a seq it does not have). */
export class DeriveRefused extends Error {
  override readonly name = 'DeriveRefused'
}

/** The database, and the run's log, progress and interrupt hooks, as `mmsim run` takes them. */
export interface DeriveOptions extends Pick<RunOptions, 'db' | 'log' | 'onProgress' | 'interrupted'> {
  readonly runId: number
  /** Replay a run stored by another engine version all the same. */
  readonly force?: boolean
  /** Seeds the schedule strategy that decides where the record does not (default: the parent's). */
  readonly scheduleSeed?: number
  /** Variants to change (workload `variants`); none: the parent's workload as stored. */
  readonly variants?: Variants
}

/** The parent as the report shows it. */
export interface ParentRun {
  readonly id: number
  readonly events: number
  readonly headHash: string
  readonly seed: number
  readonly scheduleSeed: number
  readonly engineVersion: string
  readonly violations: number
  readonly decisions: number
}

/** A decision's place, and the recorded delay where the record has one. */
export interface DepartureReport {
  readonly decision: number
  /** Events before it: the first event it can change is seq + 1. */
  readonly seq: number
  readonly reason: Departure['reason']
  readonly asked: DecisionPlace
  readonly recorded: (DecisionPlace & { readonly delayNs: number }) | null
}

export interface ScheduleReport {
  /** records: decisions with their place, checked for fit; delays: a schedule stored before them (hash version 2), followed without a check. */
  readonly layout: RecordedSchedule['layout']
  /** Decisions the parent's record holds, and how many the new run took from it. */
  readonly recorded: number
  readonly followed: number
  readonly departure: DepartureReport | null
}

export interface Finding {
  readonly seq: number
  readonly name: string
  readonly message: string
}

export interface Findings {
  readonly count: number
  /** The first FINDINGS_LISTED of them. */
  readonly first: readonly Finding[]
}

export interface DivergenceReport {
  readonly seq: number
  readonly what: 'row' | 'hash' | 'missing'
  /** The columns that differ (what: row). */
  readonly columns: readonly string[]
  readonly parent: StoredRow | null
  readonly child: StoredRow | null
}

export interface DeriveResult {
  readonly parent: ParentRun
  readonly run: RunSummary
  /** The variants changed from the parent's workload, or null. */
  readonly variants: Variants | null
  readonly schedule: ScheduleReport
  /**
   * The first divergent seq: from seq 1 by columns and chain hash; under other variants from seq 2
   * by columns (the machine booted names the variants, so seq 1 differs by design).
   */
  readonly comparison: {
    readonly by: CompareBy
    readonly fromSeq: number
    /**
     * The last seq compared: the parent's head when the parent was interrupted (it stored only
     * what it made before the interrupt, and the new run goes on past it), else null (both whole).
     */
    readonly toSeq: number | null
    readonly compared: number
    readonly divergence: DivergenceReport | null
  }
  /**
   * The new run's head hash equals the parent's (the same identity, events and schedule); null
   * when the two cannot be equal: a parent stored by another engine version or hash version.
   */
  readonly sameHead: boolean | null
  readonly findings: { readonly parent: Findings; readonly child: Findings }
}

const FINDINGS_LISTED = 20

const withDb = <A>(file: string, body: (db: Db) => A): A => {
  const db = openForRead(file)
  try {
    return body(db)
  } finally {
    db.close()
  }
}

/** A stored run's configuration through its codec, resolved. */
export const decodeConfig = (file: string, run: RunRow): ResolvedConfig => {
  const r = EngineConfig.decode(JSON.parse(run.config))
  if (E.isLeft(r)) throw new StoreError(`${file}: run ${run.id}: its config does not decode: ${formatErrors(r.left)}`)
  const problem = configProblem(r.right)
  if (problem !== null) throw new StoreError(`${file}: run ${run.id}: its config: ${problem}`)
  return resolveConfig(r.right)
}

/** The refusals that come before anything runs. */
const refuse = (run: RunRow, o: DeriveOptions, derivation: 'replay' | 'fork', untilSeq: number | undefined): void => {
  const me = `mmsim ${derivation}`
  if (run.engine_version !== ENGINE_VERSION && o.force !== true)
    throw new DeriveRefused(
      `${me}: run ${run.id} was stored by mmsim engine ${run.engine_version}; this is engine ${ENGINE_VERSION}, which may make other events from the same ` +
        `workload, seed and schedule. --force replays it all the same (and says where it diverges).`,
    )
  if (run.status === 'running' && !isStale(run)) throw new DeriveRefused(`${me}: run ${run.id} is still being written (status running); replay it once it has ended`)
  if (untilSeq !== undefined && untilSeq > run.head_seq)
    throw new DeriveRefused(`${me}: --at ${untilSeq} is past the end of run ${run.id}, which has events seq 1..${run.head_seq}`)
}

const findingsOf = (db: Db, run: RunRow): Findings => {
  const first: Finding[] = []
  let count = 0
  for (const r of readRows(db, run.id, { types: ['InvariantViolated'] })) {
    count++
    if (first.length < FINDINGS_LISTED) {
      const d = JSON.parse(r.data) as { name?: unknown; message?: unknown }
      first.push({ seq: r.seq, name: String(d.name), message: String(d.message) })
    }
  }
  return { count, first }
}

const departureReport = (d: Departure | null): DepartureReport | null =>
  d === null
    ? null
    : {
        decision: d.decision,
        seq: d.seq,
        reason: d.reason,
        asked: describePlace(d.asked.where, d.asked.obj),
        recorded: d.recorded === null ? null : { ...describePlace(d.recorded.where, d.recorded.obj), delayNs: d.recorded.delayNs },
      }

/**
 * Re-executes run `o.runId` under its recorded schedule (up to `untilSeq` events, for a fork)
 * into a new run, then compares the two event by event, by columns and chain hash.
 */
export const deriveRun = async (o: DeriveOptions, derivation: 'replay' | 'fork', untilSeq?: number): Promise<DeriveResult> => {
  const loaded = withDb(o.db, (db) => {
    const run = getRun(db, o.db, o.runId)
    refuse(run, o, derivation, untilSeq)
    return { run, schedule: readSchedule(db, o.db, run) }
  })
  const { run } = loaded
  const schedule: RecordedSchedule = loaded.schedule
  const stored = decodeWorkload(JSON.parse(run.workload), `run ${run.id}'s workload`)
  const changed = o.variants !== undefined && Object.keys(o.variants).length > 0
  const workload: Workload = changed ? { ...stored, variants: { ...stored.variants, ...o.variants } } : stored
  const scheduleSeed = o.scheduleSeed ?? run.schedule_seed ?? run.seed
  const summary = await runToStore({
    workload,
    workloadSource: run.workload_source,
    seed: run.seed,
    scheduleSeed,
    db: o.db,
    config: decodeConfig(o.db, run),
    // The parent's own text: a replay that changes nothing has the parent's identity, hence its head.
    configText: run.config,
    ...(changed ? {} : { workloadText: run.workload }),
    replay: { schedule, ...(untilSeq !== undefined ? { untilSeq } : {}) },
    lineage: { parentRun: run.id, derivation, forkSeq: untilSeq ?? null },
    ...(o.log ? { log: o.log } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.interrupted ? { interrupted: o.interrupted } : {}),
  })
  return withDb(o.db, (db) => {
    const child = getRun(db, o.db, summary.runId)
    // An interrupted parent stops where it was stopped; the new run does not, and what it makes
    // after the parent's head is not a divergence.
    const toSeq = run.status === 'interrupted' ? run.head_seq : null
    const c: Comparison =
      (changed ? firstDivergenceAfterBoot(db, run, child, toSeq ?? undefined) : null) ?? firstDivergence(db, run, child, 'row+hash', toSeq === null ? {} : { toSeq })
    const r = summary.replay!
    return {
      parent: {
        id: run.id,
        events: run.head_seq,
        headHash: run.head_hash,
        seed: run.seed,
        scheduleSeed: run.schedule_seed ?? run.seed,
        engineVersion: run.engine_version,
        violations: run.violations,
        decisions: run.decisions,
      },
      run: summary,
      variants: changed ? o.variants! : null,
      schedule: { layout: schedule.layout, recorded: r.recorded, followed: r.followed, departure: departureReport(r.departure) },
      comparison: {
        by: c.by,
        fromSeq: c.fromSeq,
        toSeq,
        compared: c.compared,
        divergence: c.divergence === null ? null : { seq: c.divergence.seq, what: c.divergence.what, columns: c.divergence.columns, parent: c.divergence.a, child: c.divergence.b },
      },
      sameHead: run.engine_version === ENGINE_VERSION && run.hash_version === HASH_VERSION && toSeq === null ? child.head_hash === run.head_hash : null,
      findings: { parent: findingsOf(db, run), child: findingsOf(db, child) },
    }
  })
}
