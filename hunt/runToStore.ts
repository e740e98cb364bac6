// Running a workload into the store: the library form of `mmsim run`. The run row is created
// only after the workload passed every check, and it ends as finished, failed (with the reason)
// or interrupted (a signal, or a disk that stopped taking writes), never looking complete when
// it is not. The simulation runs on this thread; EventWriter stores on a writer thread.
import type { Logger } from 'pino'
import { ENGINE_VERSION, type ResolvedConfig } from '../engine/config'
import { Run, WorkloadRejected, compileOrThrow, type ReplayInput, type ReplayResult, type RunResult } from '../engine/run'
import {
  eventsByType,
  isolationActive,
  isolationView,
  renderBuddyinfo,
  reportingSummary,
  stateDistribution,
  zoneSummary,
  type IsolationView,
  type MmState,
  type ReportingSummary,
} from '../projections'
import {
  DEFAULT_BATCH_EVENTS,
  EventWriter,
  SNAPSHOT_EVERY_DEFAULT,
  WriteFailed,
  createRun,
  endRun,
  getRun,
  openForWrite,
  reapStaleRuns,
  type Db,
  type NewLineage,
  type RunEnd,
} from '../storage'
import type { Workload } from '../workload/codec'
import { WorkloadError } from '../workload/load'
import { AssertionFailed } from '../lib'

/**
 * Simulator steps between two looks at signals and at the writer: a slice is a few thousand
 * events, less than a batch, so that append never has to wait for the writer (room() does,
 * between slices, with the event loop running) and a stop request waits well under a batch.
 */
export const RUN_SLICE_STEPS = 1 << 13

export interface RunOptions {
  readonly workload: Workload
  readonly workloadSource: string
  readonly seed: number
  readonly db: string
  readonly config: ResolvedConfig
  /** Seeds the schedule strategy (default: seed); see engine/run.ts. */
  readonly scheduleSeed?: number
  /** Follow a recorded schedule while it fits (replay, fork). */
  readonly replay?: ReplayInput
  /** The run this one replays or forks. */
  readonly lineage?: NewLineage
  /** The config and workload columns' text, copied from the parent so that a replay keeps its identity. */
  readonly configText?: string
  readonly workloadText?: string
  readonly log?: Logger
  readonly onProgress?: (done: number, total: number, events: number) => void
  /** Checked between slices; a non-null value stops the run as interrupted with that reason. */
  readonly interrupted?: () => string | null
  /** Events between two snapshots of the state (a multiple of BLOCK_EVENTS; 0: none). Default SNAPSHOT_EVERY_DEFAULT. */
  readonly snapshotEvery?: number
  /** Sees the run's final state (the live projections), before the summary is made. */
  readonly onState?: (state: MmState) => void
}

export interface RunSummary {
  readonly runId: number
  /** The run's stable identity (storage/schema.ts, schema 5): its uuid, and the digest of what it runs. */
  readonly uuid: string | null
  readonly digest: string | null
  readonly db: string
  readonly status: 'finished' | 'failed' | 'interrupted'
  readonly reason: string | null
  readonly workload: string
  readonly seed: number
  /** The engine configuration it ran with, the schedule strategy among it. */
  readonly config: ResolvedConfig
  /** The schedule strategy's seed: the run's seed unless it was given another (replay, fork). */
  readonly scheduleSeed: number
  readonly outcome: string
  readonly events: number
  readonly steps: number
  readonly simulatedNs: number
  readonly wallMs: number
  readonly headHash: string
  readonly decisions: number
  /** Snapshots taken (stored up to the head; derived data, `mmsim snapshot` rebuilds them). */
  readonly snapshots: number
  readonly eventsByType: Record<string, number>
  readonly zones: ReturnType<typeof zoneSummary>
  readonly buddyinfo: string
  readonly invariants: { readonly checked: readonly string[]; readonly violations: number; readonly found: readonly { seq: number; name: string; message: string }[] }
  /** Guest page hinting's counts, when the guest hints. */
  readonly hinting: HintingSummary | null
  /** Free page reporting's cycles, reported share over time and host memory, when the run reports (variants.reporting). */
  readonly reporting: ReportingSummary | null
  /** How a replay or fork followed its parent's schedule; null for a run from a workload alone. */
  readonly replay: ReplayResult | null
  /** Page isolation's ranges, work counters and miscounts, when the run isolated (or refused) a range. */
  readonly isolation?: IsolationView
}

export interface HintingSummary {
  readonly variants: Record<string, string>
  readonly states: NonNullable<ReturnType<typeof stateDistribution>>
  /** State transitions by "from>to", most frequent first. */
  readonly transitions: Record<string, number>
  readonly hostDiscards: number
  readonly hostPagedOut: number
  readonly discardFaultsPerCpu: number[]
  readonly collections: number
  readonly collectedPagesPerCpu: number[]
}

export const hintingSummary = (s: MmState): HintingSummary | null => {
  const p = s.pages
  const states = stateDistribution(s)
  if (p === null || states === null) return null
  return {
    variants: { ...p.config },
    states,
    transitions: Object.fromEntries([...p.transitions.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))),
    hostDiscards: p.hostDiscards,
    hostPagedOut: p.hostPagedOut,
    discardFaultsPerCpu: [...s.cpus.discardFaults],
    collections: s.cpus.collections,
    collectedPagesPerCpu: [...s.cpus.collectedPages],
  }
}

/** Frames guest page hinting's host holds no content of (discarded or paged out): what it got back. */
const hostTookByHinting = (s: MmState): number => {
  const d = stateDistribution(s)
  return d === null ? 0 : d.frames - d.resident
}

/** Refuses a bad workload before a run row exists. */
const refuseBadWorkload = (o: RunOptions): void => {
  try {
    compileOrThrow(o.workload)
  } catch (err) {
    if (err instanceof WorkloadRejected) throw new WorkloadError(err.errors.map((e) => `${o.workloadSource}: ${e.path}: ${e.message}`).join('\n'))
    throw err
  }
}

type Stop = { readonly by: 'end' } | { readonly by: 'signal'; readonly reason: string } | { readonly by: 'writer'; readonly failure: WriteFailed }

/** Steps the run slice by slice, yielding to the event loop (signals) between slices. */
const advanceToEnd = async (run: Run, writer: EventWriter, o: RunOptions): Promise<Stop> => {
  let committed = writer.headSeq
  while (!run.advance(RUN_SLICE_STEPS)) {
    await new Promise((r) => setImmediate(r))
    await writer.room()
    // Logged between slices, so one line may stand for several batches the writer committed.
    if (writer.headSeq !== committed) o.log?.info({ headSeq: (committed = writer.headSeq) }, 'batch committed')
    const failure = writer.failed
    if (failure !== null) {
      run.stop(failure.message)
      return { by: 'writer', failure }
    }
    const reason = o.interrupted?.() ?? null
    if (reason !== null) {
      run.stop(reason)
      return { by: 'signal', reason }
    }
  }
  return { by: 'end' }
}

/** Ends the run row; on a disk that takes no more writes this may fail too, and the run is then reaped as interrupted by the next writer. */
const tryEndRun = (db: Db, runId: number, end: RunEnd, o: RunOptions): void => {
  try {
    endRun(db, runId, end)
  } catch (err) {
    o.log?.error({ err: (err as Error).message }, 'could not mark the run ended')
  }
}

/** Runs a workload into a database; the library form of `mmsim run`. */
export const runToStore = async (o: RunOptions): Promise<RunSummary> => {
  refuseBadWorkload(o)
  const db = openForWrite(o.db)
  try {
    reapStaleRuns(db, o.db)
    const runId = createRun(db, {
      engineVersion: ENGINE_VERSION,
      seed: o.seed,
      config: o.config,
      workload: o.workload,
      workloadName: o.workload.name,
      workloadSource: o.workloadSource,
      ...(o.scheduleSeed !== undefined ? { scheduleSeed: o.scheduleSeed } : {}),
      ...(o.lineage !== undefined ? { lineage: o.lineage } : {}),
      ...(o.configText !== undefined ? { configText: o.configText } : {}),
      ...(o.workloadText !== undefined ? { workloadText: o.workloadText } : {}),
    })
    // Every line of the run's log carries its id.
    const log = o.log?.child({ runId })
    log?.info({ db: o.db, seed: o.seed, workload: o.workload.name }, 'run created')
    let writer: EventWriter
    try {
      writer = new EventWriter(o.db, runId, DEFAULT_BATCH_EVENTS, o.snapshotEvery ?? SNAPSHOT_EVERY_DEFAULT)
    } catch (err) {
      // No writer thread, no events: the run row says why rather than staying 'running'.
      tryEndRun(db, runId, { status: 'failed', outcome: null, reason: (err as Error).message, violations: 0 }, log ? { ...o, log } : o)
      throw err
    }
    try {
      return await storeRun(log ? { ...o, log } : o, db, runId, writer)
    } finally {
      writer.close()
    }
  } finally {
    db.close()
  }
}

const storeRun = async (o: RunOptions, db: Db, runId: number, writer: EventWriter): Promise<RunSummary> => {
  const started = performance.now()
  let run: Run | null = null
  let result: RunResult
  let stop: Stop
  try {
    run = new Run({
      workload: o.workload,
      seed: o.seed,
      ...(o.scheduleSeed !== undefined ? { scheduleSeed: o.scheduleSeed } : {}),
      ...(o.replay !== undefined ? { replay: o.replay } : {}),
      config: o.config,
      sink: writer,
      onDecisions: (c) => writer.appendDecisions(c),
      ...(o.log ? { log: o.log } : {}),
      onProgress: (done, total) => o.onProgress?.(done, total, run?.kernel.lastSeq ?? 0),
    })
    stop = await advanceToEnd(run, writer, o)
    result = run.finish()
    o.onState?.(result.state)
  } catch (err) {
    // What was committed stays readable; the run says why it ended.
    writer.flush()
    const reason = err instanceof AssertionFailed ? `mmsim assertion failed: ${err.message}` : (err as Error).message
    tryEndRun(db, runId, { status: 'failed', outcome: null, reason, violations: run?.kernel.violations ?? 0 }, o)
    throw err
  }
  // An interrupt stops storing at once (within one batch's commit); otherwise everything is stored.
  const failure = (stop.by === 'signal' ? writer.abandon() : writer.flush()) ?? (stop.by === 'writer' ? stop.failure : null)
  if (failure !== null) {
    const head = writer.headSeq
    const reason = `${failure.message}; events up to seq ${head} are complete`
    tryEndRun(db, runId, { status: 'interrupted', outcome: result.outcome._tag, reason, violations: result.violations }, o)
    throw new WriteFailed(`${failure.message} (events up to seq ${head} are stored; the run is marked interrupted)`, failure.code, head)
  }
  const status = stop.by === 'signal' ? 'interrupted' : 'finished'
  const reason = stop.by === 'signal' ? `${stop.reason}; events up to seq ${writer.headSeq} are complete` : null
  const departure = result.replay?.departure ?? null
  endRun(db, runId, {
    status,
    outcome: result.outcome._tag,
    reason,
    violations: result.violations,
    departed: departure === null ? null : { seq: departure.seq, decision: departure.decision },
  })
  return summarize(o, db, runId, status, reason, result, writer, writer.snapshots, performance.now() - started)
}

const summarize = (
  o: RunOptions,
  db: Db,
  runId: number,
  status: RunSummary['status'],
  reason: string | null,
  result: RunResult,
  writer: EventWriter,
  snapshots: number,
  wallMs: number,
): RunSummary => {
  const s = result.state
  const row = getRun(db, o.db, runId)
  return {
    runId,
    uuid: row.uuid,
    digest: row.digest,
    db: o.db,
    status,
    reason,
    workload: o.workload.name,
    seed: o.seed,
    config: o.config,
    scheduleSeed: o.scheduleSeed ?? o.seed,
    outcome: result.outcome._tag === 'Deadlock' ? `Deadlock (${result.outcome.waits.join('; ')})` : result.outcome._tag,
    events: writer.headSeq,
    steps: result.steps,
    simulatedNs: result.timeNs,
    wallMs,
    headHash: writer.headHash,
    decisions: writer.decisions,
    snapshots,
    eventsByType: eventsByType(s.stats),
    zones: zoneSummary(s.zone),
    buddyinfo: renderBuddyinfo(s.zone),
    invariants: { checked: result.finalCheck.checked, violations: result.violations, found: s.stats.violations.slice(0, 20) },
    hinting: hintingSummary(s),
    reporting: reportingSummary(s, hostTookByHinting(s)),
    replay: result.replay,
    ...isolationPart(s),
  }
}

/** The isolation section, only for runs that isolated or refused a range (other runs' summaries stay as they were). */
const isolationPart = (s: MmState): { isolation?: IsolationView } => {
  const v = isolationView(s)
  return isolationActive(v) ? { isolation: v } : {}
}
