// Checking a stored run: its integrity (both hash chains), the findings it recorded, every
// event monitor re-run as the run folds, and every state invariant at a chosen seq, each
// reported with the first seq at which it fails. Re-running the monitors means a run is checked
// for every invariant, whatever the engine that wrote it recorded (a run stored with monitors
// off, or by an engine that lacked a monitor added since).
import type { MmEvent } from '../events'
import { checkInvariants, eventMonitors, stateInvariants, type MmState } from '../projections'
import { StoreError, getRun, verifyRun, type Db, type IntegrityResult } from '../storage'
import { SnapshotChecker, type SnapshotCheck } from './checkSnapshots'
import { foldRun } from './fold'

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

const failing = (s: MmState): Map<string, string> => new Map(checkInvariants(stateInvariants, s).map((v) => [v.name, v.message]))

/**
 * Invariant findings at `atSeq`, each with the first seq it fails: a forward fold checked at
 * intervals brackets the first failure, then a second fold steps through that interval one
 * event at a time.
 */
const stateFindings = (db: Db, file: string, runId: number, atSeq: number): StateFinding[] => {
  const every = Math.max(1, Math.floor(atSeq / CHECKPOINTS))
  let lastGood = 0
  let firstBad = -1
  foldRun(db, file, runId, atSeq, (s, e) => {
    if (firstBad >= 0 || (e.seq % every !== 0 && e.seq !== atSeq)) return
    if (failing(s).size === 0) lastGood = e.seq
    else firstBad = e.seq
  })
  if (firstBad < 0) return []
  const found = new Map<string, StateFinding>()
  foldRun(db, file, runId, atSeq, (s, e) => {
    if (e.seq <= lastGood || e.seq > atSeq) return
    for (const [name, message] of failing(s)) if (!found.has(name)) found.set(name, { name, message, firstSeq: e.seq })
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

export const checkRun = (db: Db, file: string, runId: number, at?: number): CheckReport => {
  const run = getRun(db, file, runId)
  const integrity = verifyRun(db, runId, run.head_seq, run.head_hash)
  const atSeq = Math.min(at ?? run.head_seq, run.head_seq)
  const recorded: { seq: number; name: string; message: string }[] = []
  const found = new Map<string, MonitorFinding>()
  const monitors = (): MonitorFinding[] => [...found.values()].sort((a, b) => a.firstSeq - b.firstSeq || (a.name < b.name ? -1 : 1))
  const base = { run: runId, integrity, checked: [...stateInvariants.map((i) => i.name), ...eventMonitors.map((m) => m.name)] }
  // A run that stored no event (its process killed before the first batch) is valid and
  // verifiable: there is nothing to fold, so no invariant can fail.
  if (run.head_seq === 0) return { ...base, atSeq: 0, recorded, state: [], monitors: [], snapshots: { checked: 0, failures: [] } }
  const snapshots = new SnapshotChecker(db, runId, atSeq)
  try {
    const { lastSeq } = foldRun(
      db,
      file,
      runId,
      atSeq,
      (s, e) => {
        if (e.type === 'InvariantViolated') recorded.push({ seq: e.seq, name: e.data.name, message: e.data.message })
        snapshots.onEvent(s, e.seq)
      },
      (s, e) => monitorEvent(found, s, e),
    )
    return { ...base, atSeq: lastSeq, recorded, state: stateFindings(db, file, runId, lastSeq), monitors: monitors(), snapshots: snapshots.report() }
  } catch (err) {
    // An altered row may no longer fold; the integrity failure already says where.
    if (!integrity.ok && err instanceof StoreError) return { ...base, atSeq: integrity.seq - 1, recorded, state: [], monitors: monitors(), snapshots: snapshots.report() }
    throw err
  }
}
