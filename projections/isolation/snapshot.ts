// The isolation projection in a snapshot: the per-pageblock owners and per-frame captures as
// arrays, the ranges (in registration order), the zones' isolation_lists, the refusals and the
// work counters as JSON.
import * as t from 'io-ts'
import { ISOLATION_DESIGNS, ISOLATION_ERRNOS, ISOLATORS } from '../../events/isolation'
import { Int, oneOf } from '../../events/codecs'
import type { SnapshotPart } from '../snapshotPart'
import { RANGE_STATUSES } from './state'

const Errno = t.union([oneOf(ISOLATION_ERRNOS), t.null])

const Range = t.type({
  id: Int,
  zone: Int,
  startPfn: Int,
  endPfn: Int,
  design: oneOf(ISOLATION_DESIGNS),
  by: oneOf(ISOLATORS),
  cpu: t.union([Int, t.null]),
  status: oneOf(RANGE_STATUSES),
  outcome: t.union([oneOf(['offlined', 'allocated', 'undone'] as const), t.null]),
  errno: Errno,
  reason: t.string,
  pageblocks: Int,
  captured: Int,
  migrated: Int,
  offlined: Int,
  registeredSeq: Int,
  endedSeq: t.union([Int, t.null]),
})

const Saved = t.type({
  ranges: t.array(Range),
  zoneLists: t.array(t.array(Int)),
  refused: t.array(t.type({ seq: Int, startPfn: Int, endPfn: Int, by: oneOf(ISOLATORS), errno: oneOf(ISOLATION_ERRNOS), reason: t.string })),
  work: t.type({ freesSearched: Int, listEntriesSearched: Int, pagesMoved: Int, pagesCaptured: Int }),
})
type Saved = t.TypeOf<typeof Saved>

export const isolationSnapshot: SnapshotPart<Saved> = {
  arrays: ({ isolation: s }) => [
    ['pageblockOwner', s.pageblockOwner],
    ['capturedBy', s.capturedBy],
  ],
  save: ({ isolation: s }) => ({
    ranges: [...s.ranges.values()].map((r) => ({ ...r })),
    zoneLists: s.zoneLists.map((l) => [...l]),
    refused: s.refused.map((r) => ({ ...r })),
    work: { ...s.work },
  }),
  codec: Saved,
  load: ({ isolation: s }, saved) => {
    if (saved.zoneLists.length !== s.zoneLists.length) return `${saved.zoneLists.length} zone isolation lists saved, the machine has ${s.zoneLists.length} zones`
    s.ranges.clear()
    for (const r of saved.ranges) s.ranges.set(r.id, { ...r })
    saved.zoneLists.forEach((l, i) => s.zoneLists[i]!.splice(0, s.zoneLists[i]!.length, ...l))
    s.refused.splice(0, s.refused.length, ...saved.refused)
    Object.assign(s.work, saved.work)
    return null
  },
}
