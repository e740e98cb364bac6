// Time travel: the state of a run after any seq, as the nearest stored snapshot at or before it
// (a full snapshot and its deltas, each verified) plus a fold of the events after it. A snapshot
// that does not verify is passed over with a warning, for the one before it or for seq 1: a
// snapshot can make an answer faster, never different. Used by `mmsim state` and, later, the
// viewer's scrubber.
import * as E from 'fp-ts/Either'
import type { Logger } from 'pino'
import type { MmState } from '../projections'
import { StoreError, readRows, snapshotAt, snapshotBefore, type Db, type SnapshotContent, type SnapshotKind, type SnapshotMeta } from '../storage'
import { foldFrom, type FoldStart } from './fold'
import { Restorer, loadSnapshot } from './restore'

export interface StateAt {
  readonly state: MmState
  /** The last seq folded: the one asked for. */
  readonly seq: number
  /** The snapshot the state was restored from, or null when it was folded from seq 1. */
  readonly from: { readonly snapshotSeq: number; readonly kind: SnapshotKind } | null
  /** Snapshots that did not verify and were passed over. */
  readonly ignored: readonly IgnoredSnapshot[]
}

export interface IgnoredSnapshot {
  readonly seq: number
  readonly problem: string
}

interface Restored extends FoldStart {
  readonly meta: SnapshotMeta
}

/** The links from a full snapshot to `target`, in restore order; `complete` is false when one is not stored. */
const chainTo = (db: Db, runId: number, target: SnapshotMeta): { chain: SnapshotMeta[]; complete: boolean } => {
  const chain = [target]
  for (let m = target; m.kind === 'delta';) {
    const base = m.baseSeq === null || m.baseSeq >= m.seq ? null : snapshotAt(db, runId, m.baseSeq)
    if (base === null) return { chain: chain.reverse(), complete: false }
    chain.push((m = base))
  }
  return { chain: chain.reverse(), complete: true }
}

/**
 * Restores the newest snapshot at or before `seq` that verifies: walks its chain from the full
 * snapshot and stops at the first link that does not verify, keeping the state of the link before
 * it; when the full snapshot itself fails, tries the chains before it.
 */
const restoreNearest = (db: Db, runId: number, seq: number, ignore: (m: SnapshotMeta, problem: string) => void): Restored | null => {
  // Each pass looks only below where the last one failed, so this ends.
  for (let target = snapshotBefore(db, runId, seq + 1); target !== null;) {
    const { chain, complete } = chainTo(db, runId, target)
    if (!complete) {
      // Every delta from the first one whose base is gone up to the target depends on it.
      ignore(chain[0]!, `the snapshot it is a delta on (seq ${chain[0]!.baseSeq}) is not stored`)
      target = snapshotBefore(db, runId, chain[0]!.seq)
      continue
    }
    const r = new Restorer()
    let last: { meta: SnapshotMeta; content: SnapshotContent } | null = null
    for (const link of chain) {
      const c = loadSnapshot(db, runId, link)
      const why = E.isLeft(c) ? c.left : r.apply(c.right)
      if (why !== null) {
        ignore(link, why)
        break
      }
      last = { meta: link, content: (c as E.Right<SnapshotContent>).right }
    }
    if (last !== null) {
      const state = r.finish(last.content)
      if (E.isRight(state)) return { state: state.right, seq: last.meta.seq, meta: last.meta }
      ignore(last.meta, state.left)
    }
    // Everything from this chain's full snapshot on depends on what failed.
    target = snapshotBefore(db, runId, last?.meta.seq ?? chain[0]!.seq)
  }
  return null
}

/** The state of run `runId` after event `seq` (which the run must have). */
export const stateAt = (db: Db, file: string, runId: number, seq: number, log?: Logger): StateAt => {
  const ignored: IgnoredSnapshot[] = []
  const start = restoreNearest(db, runId, seq, (m, problem) => {
    ignored.push({ seq: m.seq, problem })
    log?.warn({ runId, snapshotSeq: m.seq, problem }, `snapshot at seq ${m.seq} ignored: ${problem}`)
  })
  const folded = foldFrom(db, file, runId, start, seq)
  return { state: folded.state, seq: folded.lastSeq, from: start === null ? null : { snapshotSeq: start.seq, kind: start.meta.kind }, ignored }
}

/** The simulated time of event `seq` of a run. */
export const eventTimeNs = (db: Db, runId: number, seq: number): number => {
  for (const r of readRows(db, runId, { fromSeq: seq, toSeq: seq })) return r.t
  throw new StoreError(`run ${runId}: event ${seq} is not stored`)
}

/** Which event a simulated time falls on: the last at or before it; or the run's span, when the time is outside it. */
export type SeqAtTime =
  | { readonly _tag: 'Seq'; readonly seq: number }
  | { readonly _tag: 'BeforeFirst'; readonly firstNs: number }
  | { readonly _tag: 'AfterLast'; readonly lastSeq: number; readonly lastNs: number }

/**
 * The last seq of run `runId` (events 1..headSeq, headSeq > 0) whose time is at or before
 * `timeNs`. Simulated time never goes back, so a binary search over single events' times finds it
 * in about log2(headSeq) reads. A time after the last event is outside the run (the run does not
 * say what came after it), as one before the first is.
 */
export const seqAtTime = (db: Db, runId: number, headSeq: number, timeNs: number): SeqAtTime => {
  const lastNs = eventTimeNs(db, runId, headSeq)
  if (timeNs > lastNs) return { _tag: 'AfterLast', lastSeq: headSeq, lastNs }
  const firstNs = eventTimeNs(db, runId, 1)
  if (timeNs < firstNs) return { _tag: 'BeforeFirst', firstNs }
  let lo = 1
  let hi = headSeq
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (eventTimeNs(db, runId, mid) <= timeNs) lo = mid
    else hi = mid - 1
  }
  return { _tag: 'Seq', seq: lo }
}
