// One frame's whole history: every event that touched it (its own, one over the block it is part
// of, one that lists it among many frames) with the frame's state after each. The events come
// from the store's per-frame index; the states from the snapshot before the first of them
// (stateAt) and one fold on to the last.
import type { MmEvent } from '../events'
import { eventSpan } from '../events/span'
import { frameState, type FrameState } from '../projections'
import { readRows, type Db } from '../storage'
import type { Logger } from 'pino'
import { foldFrom } from './fold'
import { stateAt } from './stateAt'

/** How an event touched the frame. */
export type Touch = 'own' | 'block' | 'listed'

export interface PageHistoryEntry {
  readonly event: MmEvent
  readonly touch: Touch
  /** The frame as every projection sees it after the event. */
  readonly after: FrameState
}

export interface PageHistoryQuery {
  readonly pfn: number
  readonly fromSeq?: number | undefined
  readonly toSeq?: number | undefined
}

const touchOf = (e: MmEvent, pfn: number): Touch => {
  const span = eventSpan(e)
  if (span === null || pfn < span.pfn || pfn >= span.pfn + span.npages) return 'listed'
  return span.npages === 1 ? 'own' : 'block'
}

/**
 * The frame's history within [fromSeq, toSeq], oldest first. The seqs come from the index
 * (readRows with a frame filter); the fold starts from the state just before the first of them
 * and stops after the last.
 */
export const pageHistory = (db: Db, file: string, runId: number, q: PageHistoryQuery, log?: Logger): PageHistoryEntry[] => {
  const seqs = new Set<number>()
  let first = 0
  let last = 0
  for (const r of readRows(db, runId, { pfn: q.pfn, ...(q.fromSeq !== undefined ? { fromSeq: q.fromSeq } : {}), ...(q.toSeq !== undefined ? { toSeq: q.toSeq } : {}) })) {
    seqs.add(r.seq)
    if (first === 0) first = r.seq
    last = r.seq
  }
  if (seqs.size === 0) return []
  const out: PageHistoryEntry[] = []
  const start = first > 1 ? stateAt(db, file, runId, first - 1, log) : null
  foldFrom(db, file, runId, start, last, (s, e) => {
    if (seqs.has(e.seq)) out.push({ event: e, touch: touchOf(e, q.pfn), after: frameState(s, q.pfn) })
  })
  return out
}
