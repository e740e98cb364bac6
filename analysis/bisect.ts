// Bisect: the first seq of a stored run at which an invariant fails, with the event there, the
// chain of events that caused it, the events around it and the state before and after it. For a
// state invariant the search is a binary search over the run's snapshots: each probe restores one
// (stateAt) and checks it, and only the window found is folded event by event, so a run of any
// length costs about log2(windows) restores and one window's fold, not a fold of every event. For an event monitor (an
// invariant over transitions) there is no state to search: the answer is the first event it fails
// on, found by folding with the monitor until it fires.
import type { MmEvent } from '../events'
import { eventMonitors, frameState, stateInvariants, zoneSummary, type EventMonitor, type FrameState, type MmState, type StateInvariant } from '../projections'
import { getRun, listSnapshots, readEvents, type Db } from '../storage'
import { foldFrom } from './fold'
import { stateAt } from './stateAt'

/** Events shown on each side of the bad one. */
export const AROUND_EVENTS_DEFAULT = 5
/** Cause links followed back from the bad event; a chain is short, this bounds a corrupt one. */
const CAUSES_MAX = 64

export interface BisectOptions {
  /** The invariant to bisect (default: the run's first recorded finding). */
  readonly invariant?: string | undefined
  /** State invariants to search among besides the projections' own (programs and tests add predicates of their own). */
  readonly extraInvariants?: readonly StateInvariant<MmState>[] | undefined
  readonly aroundEvents?: number | undefined
  /**
   * A state invariant is checked after every event from seq 1 until it first fails, instead of
   * the binary search over snapshots: the monotone question "has it failed at or before s",
   * answered exactly, at the cost of a fold up to the failure (not log2 restores and one window).
   */
  readonly everyEvent?: boolean | undefined
}

/** The projections' view of the state at one seq: the zones' counts, and the frame the finding names. */
export interface BisectView {
  readonly seq: number
  readonly zones: ReturnType<typeof zoneSummary>
  readonly frame: FrameState | null
}

export interface BisectFound {
  readonly _tag: 'Found'
  readonly run: number
  readonly invariant: string
  readonly kind: 'state' | 'event'
  /** For a state invariant: the first seq after which it does not hold. For a monitor: the event it fails on. */
  readonly seq: number
  readonly message: string
  readonly pfn: number | null
  readonly event: MmEvent
  /** The event's causes, nearest first, following `cause` links. */
  readonly causes: readonly MmEvent[]
  /** The events from `aroundEvents` before the bad one to as many after it. */
  readonly around: readonly MmEvent[]
  /** The state after seq − 1 and after seq. */
  readonly before: BisectView | null
  readonly after: BisectView
  /** What the search cost: restores and folds made, and events folded by them (the report's own views not counted). */
  readonly cost: { readonly folds: number; readonly eventsFolded: number; readonly windows: number }
}

export type BisectResult =
  | BisectFound
  /**
   * No failure found (or the run recorded no finding to default to, invariant null). For a state
   * invariant that means it holds at the snapshot points probed, the run's last seq included.
   */
  | {
      readonly _tag: 'Holds'
      readonly run: number
      readonly invariant: string | null
      readonly kind: 'state' | 'event' | null
      readonly headSeq: number
      readonly cost: { readonly folds: number; readonly eventsFolded: number; readonly windows: number }
    }
  | { readonly _tag: 'UnknownInvariant'; readonly run: number; readonly invariant: string; readonly known: readonly string[] }

type Target = { readonly kind: 'state'; readonly inv: StateInvariant<MmState> } | { readonly kind: 'event'; readonly mon: EventMonitor<MmState, MmEvent> }

interface Hit {
  readonly seq: number
  readonly message: string
  readonly pfn: number | null
}

/** Thrown inside a fold to end it at the first hit: folds have no other way to stop early. */
class Stop extends Error {}

/** Runs `fold`, which calls `found` at its first hit; that ends the fold. */
const untilFirst = (fold: (found: (h: Hit) => never) => void): Hit | null => {
  let hit: Hit | null = null
  try {
    fold((h) => {
      hit = h
      throw new Stop()
    })
  } catch (err) {
    if (!(err instanceof Stop)) throw err
  }
  return hit
}

const firstRecorded = (db: Db, file: string, runId: number): string | null => {
  for (const e of readEvents(db, file, runId, { types: ['InvariantViolated'] })) if (e.type === 'InvariantViolated') return e.data.name
  return null
}

interface Cost {
  folds: number
  eventsFolded: number
}

/**
 * The first seq in (from, to] after which `inv` fails, folding that window from the state after
 * `from` (restored from a snapshot) and checking the state after every event in it. Every event is
 * checked, not only the window's end, because an invariant can fail and hold again inside it.
 */
const firstFailureIn = (db: Db, file: string, runId: number, inv: StateInvariant<MmState>, from: number, to: number, cost: Cost): Hit | null => {
  const start = from === 0 ? null : stateAt(db, file, runId, from)
  cost.folds++
  return untilFirst((found) => {
    foldFrom(db, file, runId, start === null ? null : { state: start.state, seq: start.seq }, to, (s, e) => {
      cost.eventsFolded++
      const v = inv.check(s)
      if (v !== null) found({ seq: e.seq, message: v.message, pfn: v.pfn ?? null })
    })
  })
}

/**
 * Binary search over the run's snapshot points s1 < s2 < ... < head for the first at which the
 * invariant fails, each probe a restore of one snapshot and one check (no fold); then the window
 * between the last point that holds and that one is folded, checking the state after every event
 * in it, for the first failing seq. The probe, "does it fail at s", stands for the monotone "has
 * it failed at or before s": the two agree as long as a failure that begins in one window still
 * shows at a later snapshot point, which holds for the structural invariants (a broken list or
 * count stays broken until something repairs it). A failure that recovers inside the window found
 * is still found at its first seq; one that comes and goes between two points that both hold is
 * not (BisectOptions.everyEvent, `mmsim bisect --every-event`, checks every event from seq 1). Checking every event of every probed window instead
 * would cost log2(windows) window folds with an invariant check per event, and the frame-scanning
 * invariants cost about a frame's worth of work per frame of the machine per check.
 */
const bisectState = (db: Db, file: string, runId: number, headSeq: number, inv: StateInvariant<MmState>, cost: Cost & { windows: number }): Hit | null => {
  const ends = [...listSnapshots(db, runId, headSeq - 1).map((m) => m.seq), headSeq]
  cost.windows = ends.length
  const failsAt = (seq: number): boolean => {
    const at = stateAt(db, file, runId, seq)
    cost.folds++
    cost.eventsFolded += at.from === null ? seq : seq - at.from.snapshotSeq
    return inv.check(at.state) !== null
  }
  // Invariant of the loop: every point before lo holds; every point after hi fails.
  let lo = 0
  let hi = ends.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (failsAt(ends[mid]!)) hi = mid - 1
    else lo = mid + 1
  }
  if (lo === ends.length) return null
  return firstFailureIn(db, file, runId, inv, lo === 0 ? 0 : ends[lo - 1]!, ends[lo]!, cost)
}

/** The first event `mon` fails on, folding from seq 1 and stopping there. */
const firstMonitorHit = (db: Db, file: string, runId: number, headSeq: number, mon: EventMonitor<MmState, MmEvent>, cost: Cost): Hit | null => {
  cost.folds++
  return untilFirst((found) => {
    foldFrom(db, file, runId, null, headSeq, undefined, (s, e) => {
      cost.eventsFolded++
      // As the engine and `mmsim check` do: no state before MachineBooted, and findings are not checked.
      if (s === null || e.type === 'InvariantViolated') return
      const v = mon.check(s, e)
      if (v !== null) found({ seq: e.seq, message: v.message, pfn: v.pfn ?? null })
    })
  })
}

const eventAt = (db: Db, file: string, runId: number, seq: number): MmEvent => {
  for (const e of readEvents(db, file, runId, { fromSeq: seq, toSeq: seq })) return e
  throw new Error(`run ${runId}: event ${seq} is not stored`)
}

const viewOf = (s: MmState, seq: number, pfn: number | null): BisectView => ({ seq, zones: zoneSummary(s.zone), frame: pfn === null ? null : frameState(s, pfn) })

/**
 * The views after seq − 1 and after seq: one restore and fold to seq − 1, then the one event
 * folded on (not two restores). The view before is copied out before the state moves on.
 */
const viewsAround = (db: Db, file: string, runId: number, seq: number, pfn: number | null): { before: BisectView | null; after: BisectView } => {
  if (seq <= 1) return { before: null, after: viewOf(stateAt(db, file, runId, seq).state, seq, pfn) }
  const at = stateAt(db, file, runId, seq - 1)
  const before = JSON.parse(JSON.stringify(viewOf(at.state, seq - 1, pfn))) as BisectView
  const next = foldFrom(db, file, runId, { state: at.state, seq: seq - 1 }, seq)
  return { before, after: viewOf(next.state, seq, pfn) }
}

const causesOf = (db: Db, file: string, runId: number, e: MmEvent): MmEvent[] => {
  const out: MmEvent[] = []
  for (let c = e.cause; c !== undefined && c < e.seq && out.length < CAUSES_MAX;) {
    const ce = eventAt(db, file, runId, c)
    out.push(ce)
    c = ce.cause !== undefined && ce.cause < c ? ce.cause : undefined
  }
  return out
}

/** Bisects run `runId` for its first failure of an invariant; see the file's head. */
export const bisectRun = (db: Db, file: string, runId: number, opts: BisectOptions = {}): BisectResult => {
  const run = getRun(db, file, runId)
  const headSeq = run.head_seq
  const name = opts.invariant ?? (headSeq === 0 ? null : firstRecorded(db, file, runId))
  const cost = { folds: 0, eventsFolded: 0, windows: 0 }
  if (name === null) return { _tag: 'Holds', run: runId, invariant: null, kind: null, headSeq, cost }
  const states = [...(opts.extraInvariants ?? []), ...stateInvariants]
  const inv = states.find((i) => i.name === name)
  const mon = eventMonitors.find((m) => m.name === name)
  const target: Target | null = inv !== undefined ? { kind: 'state', inv } : mon !== undefined ? { kind: 'event', mon } : null
  if (target === null) return { _tag: 'UnknownInvariant', run: runId, invariant: name, known: [...states.map((i) => i.name), ...eventMonitors.map((m) => m.name)] }
  if (headSeq === 0) return { _tag: 'Holds', run: runId, invariant: name, kind: target.kind, headSeq, cost }
  cost.windows = 1
  const hit =
    target.kind === 'event'
      ? firstMonitorHit(db, file, runId, headSeq, target.mon, cost)
      : opts.everyEvent === true
        ? firstFailureIn(db, file, runId, target.inv, 0, headSeq, cost)
        : bisectState(db, file, runId, headSeq, target.inv, cost)
  if (hit === null) return { _tag: 'Holds', run: runId, invariant: name, kind: target.kind, headSeq, cost }
  const around = opts.aroundEvents ?? AROUND_EVENTS_DEFAULT
  const event = eventAt(db, file, runId, hit.seq)
  // A monitor's finding names the frame in its message only sometimes; the event's own pfn is the next best thing.
  const eventPfn = 'pfn' in event.data && typeof event.data.pfn === 'number' ? event.data.pfn : null
  const pfn = hit.pfn ?? eventPfn
  return {
    _tag: 'Found',
    run: runId,
    invariant: name,
    kind: target.kind,
    seq: hit.seq,
    message: hit.message,
    pfn,
    event,
    causes: causesOf(db, file, runId, event),
    around: [...readEvents(db, file, runId, { fromSeq: Math.max(1, hit.seq - around), toSeq: Math.min(headSeq, hit.seq + around) })],
    ...viewsAround(db, file, runId, hit.seq, pfn),
    cost,
  }
}
