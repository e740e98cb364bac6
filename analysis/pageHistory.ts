// One frame's whole history: every event that touched it (its own, one over the block it is part
// of, one that lists it among many frames) with the frame's state after each. The events come
// from the store's per-frame index; the states from one fold over the run up to the last of them.
import type { MmEvent } from '../events'
import { eventSpan } from '../events/span'
import { frameState, type FrameState } from '../projections'
import { readRows, type Db } from '../storage'
import { foldRun } from './fold'

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
 * (readRows with a frame filter); the fold then stops after the last of them.
 */
export const pageHistory = (db: Db, file: string, runId: number, q: PageHistoryQuery): PageHistoryEntry[] => {
  const seqs = new Set<number>()
  let last = 0
  for (const r of readRows(db, runId, { pfn: q.pfn, ...(q.fromSeq !== undefined ? { fromSeq: q.fromSeq } : {}), ...(q.toSeq !== undefined ? { toSeq: q.toSeq } : {}) })) {
    seqs.add(r.seq)
    last = r.seq
  }
  if (seqs.size === 0) return []
  const out: PageHistoryEntry[] = []
  foldRun(db, file, runId, last, (s, e) => {
    if (seqs.has(e.seq)) out.push({ event: e, touch: touchOf(e, q.pfn), after: frameState(s, q.pfn) })
  })
  return out
}
