// Counts a user reads in a run summary, folded from the events like any other projection.
import type { MmEvent } from '../events'

export interface StatsState {
  events: number
  byType: Map<string, number>
  violations: { seq: number; name: string; message: string }[]
  lastSeq: number
  lastTimeNs: number
}

export const createStats = (): StatsState => ({ events: 0, byType: new Map(), violations: [], lastSeq: 0, lastTimeNs: 0 })

export const evolveStats = (s: StatsState, e: MmEvent): void => {
  s.events++
  s.lastSeq = e.seq
  s.lastTimeNs = e.t
  s.byType.set(e.type, (s.byType.get(e.type) ?? 0) + 1)
  if (e.type === 'InvariantViolated') s.violations.push({ seq: e.seq, name: e.data.name, message: e.data.message })
}

/** Event counts by type, sorted by type name so that output is stable. */
export const eventsByType = (s: StatsState): Record<string, number> => Object.fromEntries([...s.byType.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
