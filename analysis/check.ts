// Checking a stored run: its integrity (both hash chains), the findings it recorded, every
// event monitor re-run as the run folds, and every state invariant at a chosen seq, each
// reported with the first seq at which it fails. Re-running the monitors means a run is checked
// for every invariant, whatever the engine that wrote it recorded (a run stored with monitors
// off, or by an engine that lacked a monitor added since).
import type { MmEvent } from '../events'
import { checkInvariants, eventMonitors, stateInvariants, type MmState, type StateInvariant } from '../projections'
import { StoreError, getRun, verifyRun, type Db, type IntegrityResult } from '../storage'
import { SnapshotChecker, type SnapshotCheck } from './checkSnapshots'
import { foldFrom, foldRun } from './fold'
import { stateAt } from './stateAt'

export interface StateFinding {
  readonly name: string
  readonly message: string
  /** The first seq after which the invariant does not hold. */
  readonly firstSeq: number
}

/** An event monitor that fails on some event of the run, re-run while folding. */
export interface MonitorFinding {
  readonly name: string
  /** The first failure's message. */
  readonly message: string
  /** The seq of the first event it fails on. */
  readonly firstSeq: number
  /** How many events it fails on, up to the checked seq. */
  readonly count: number
}

export interface CheckReport {
  readonly run: number
  readonly atSeq: number
  readonly integrity: IntegrityResult
  readonly checked: readonly string[]
  readonly recorded: readonly { seq: number; name: string; message: string }[]
  readonly state: readonly StateFinding[]
  readonly monitors: readonly MonitorFinding[]
  /** The run's stored snapshots up to atSeq, each against the fold: a failure is an integrity failure. */
  readonly snapshots: SnapshotCheck
}

/** Checks spaced so that a run of any length costs about this many full checks, plus a refinement. */
const CHECKPOINTS = 64

type Invariants = readonly StateInvariant<MmState>[]

const failing = (invariants: Invariants, s: MmState): Map<string, string> => new Map(checkInvariants(invariants, s).map((v) => [v.name, v.message]))

/**
 * Where the invariants first fail, bracketed during check's one fold from seq 1: the state is
 * checked at intervals, and the first checkpoint that fails and the last one before it that
 * held are kept. Checking them in that fold spares a second fold of the whole run.
 */
class Checkpoints {
  lastGood = 0
  firstBad = -1
  private lastChecked = 0
  private readonly every: number
  constructor(
    private readonly atSeq: number,
    private readonly invariants: Invariants,
  ) {
    this.every = Math.max(1, Math.floor(atSeq / CHECKPOINTS))
  }

  onEvent(s: MmState, seq: number): void {
    if (this.firstBad < 0 && (seq % this.every === 0 || seq === this.atSeq)) this.mark(s, seq)
  }

  /** The fold ended at `lastSeq` (before atSeq when the run is cut short): its state is checked too. */
  ended(s: MmState, lastSeq: number): void {
    if (this.firstBad < 0 && this.lastChecked !== lastSeq) this.mark(s, lastSeq)
  }

  private mark(s: MmState, seq: number): void {
    this.lastChecked = seq
    if (failing(this.invariants, s).size === 0) this.lastGood = seq
    else this.firstBad = seq
  }
}

/**
 * Invariant findings at `atSeq`, each with the first seq it fails: the checkpoints bracket the
 * first failure, then a fold steps through from the last good checkpoint one event at a time. It
 * starts from the state at that checkpoint, restored from the nearest snapshot when `snapshotsSound`
 * (the run verified, and every snapshot up to atSeq matched the fold from seq 1), else folded
 * from seq 1.
 */
const stateFindings = (db: Db, file: string, runId: number, atSeq: number, invariants: Invariants, marks: Checkpoints, snapshotsSound: boolean): StateFinding[] => {
  if (marks.firstBad < 0) return []
  const found = new Map<string, StateFinding>()
  const start = snapshotsSound && marks.lastGood > 0 ? stateAt(db, file, runId, marks.lastGood) : null
  foldFrom(db, file, runId, start === null ? null : { state: start.state, seq: start.seq }, atSeq, (s, e) => {
    if (e.seq <= marks.lastGood || e.seq > atSeq) return
    for (const [name, message] of failing(invariants, s)) if (!found.has(name)) found.set(name, { name, message, firstSeq: e.seq })
  })
  return [...found.values()].sort((a, b) => a.firstSeq - b.firstSeq || (a.name < b.name ? -1 : 1))
}

/**
 * Runs every event monitor on `e` against the state it meets, as the engine does when it emits:
 * not on MachineBooted (there is no state yet) nor on the findings themselves.
 */
const monitorEvent = (found: Map<string, MonitorFinding>, s: MmState | null, e: MmEvent): void => {
  if (s === null || e.type === 'InvariantViolated') return
  for (const m of eventMonitors) {
    const v = m.check(s, e)
    if (v === null) continue
    const f = found.get(m.name)
    found.set(m.name, f === undefined ? { name: m.name, message: v.message, firstSeq: e.seq, count: 1 } : { ...f, count: f.count + 1 })
  }
}

/** `extraInvariants`: state invariants checked beside the projections' own (tests, library users). */
export const checkRun = (db: Db, file: string, runId: number, at?: number, extraInvariants: Invariants = []): CheckReport => {
  const invariants = [...stateInvariants, ...extraInvariants]
  const run = getRun(db, file, runId)
  const integrity = verifyRun(db, runId, run.head_seq, run.head_hash)
  const atSeq = Math.min(at ?? run.head_seq, run.head_seq)
  const recorded: { seq: number; name: string; message: string }[] = []
  const found = new Map<string, MonitorFinding>()
  const monitors = (): MonitorFinding[] => [...found.values()].sort((a, b) => a.firstSeq - b.firstSeq || (a.name < b.name ? -1 : 1))
  const base = { run: runId, integrity, checked: [...invariants.map((i) => i.name), ...eventMonitors.map((m) => m.name)] }
  // A run that stored no event (its process killed before the first batch) is valid and
  // verifiable: there is nothing to fold, so no invariant can fail.
  if (run.head_seq === 0) return { ...base, atSeq: 0, recorded, state: [], monitors: [], snapshots: { checked: 0, failures: [] } }
  const snapshots = new SnapshotChecker(db, runId, atSeq)
  const marks = new Checkpoints(atSeq, invariants)
  try {
    const { state, lastSeq } = foldRun(
      db,
      file,
      runId,
      atSeq,
      (s, e) => {
        if (e.type === 'InvariantViolated') recorded.push({ seq: e.seq, name: e.data.name, message: e.data.message })
        snapshots.onEvent(s, e.seq)
        marks.onEvent(s, e.seq)
      },
      (s, e) => monitorEvent(found, s, e),
    )
    marks.ended(state, lastSeq)
    const report = snapshots.report()
    const findings = stateFindings(db, file, runId, lastSeq, invariants, marks, integrity.ok && report.failures.length === 0)
    return { ...base, atSeq: lastSeq, recorded, state: findings, monitors: monitors(), snapshots: report }
  } catch (err) {
    // An altered row may no longer fold; the integrity failure already says where.
    if (!integrity.ok && err instanceof StoreError) return { ...base, atSeq: integrity.seq - 1, recorded, state: [], monitors: monitors(), snapshots: snapshots.report() }
    throw err
  }
}
