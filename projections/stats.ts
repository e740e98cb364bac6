// Counts a user reads in a run summary, folded from the events like any other projection.
import * as t from 'io-ts'
import type { MmEvent } from '../events'
import { Int } from '../events/codecs'
import { mapEntries, refill, type SnapshotPart } from './snapshotPart'

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

const Saved = t.type({
  events: Int,
  byType: t.array(t.tuple([t.string, Int])),
  /** [seq, name, message]. */
  violations: t.array(t.tuple([Int, t.string, t.string])),
  lastSeq: Int,
  lastTimeNs: Int,
})
type Saved = t.TypeOf<typeof Saved>

/** The counts in a snapshot, with the findings in the order they were made. */
export const statsSnapshot: SnapshotPart<Saved> = {
  arrays: () => [],
  save: ({ stats: s }) => ({
    events: s.events,
    byType: mapEntries(s.byType),
    violations: s.violations.map((v) => [v.seq, v.name, v.message]),
    lastSeq: s.lastSeq,
    lastTimeNs: s.lastTimeNs,
  }),
  codec: Saved,
  load: ({ stats: s }, saved) => {
    s.events = saved.events
    refill(s.byType, saved.byType)
    s.violations = saved.violations.map(([seq, name, message]) => ({ seq, name, message }))
    s.lastSeq = saved.lastSeq
    s.lastTimeNs = saved.lastTimeNs
    return null
  },
}
