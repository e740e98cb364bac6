// The boundary projection in a snapshot: its per-frame flags and per-list boundaries as arrays,
// the zone flags, device state, batch and host counts as JSON. A run that reports nothing has no
// arrays and saves null (snapshots taken before this projection existed have no entry: the same).
import * as t from 'io-ts'
import { Int } from '../../events/codecs'
import { setNumbers, type SnapshotPart } from '../snapshotPart'
import type { BoundaryState } from './state'

const COUNTERS = [
  'refcnt',
  'deviceState',
  'passes',
  'reacts',
  'pulledBlocks',
  'pulledPages',
  'returnedPages',
  'mergedPages',
  'hostFreedPages',
  'ackedNotFreedPages',
  'unbackedPages',
  'refaults',
  'fullyReportedAtNs',
] as const satisfies readonly (keyof BoundaryState)[]

const Saved = t.type({
  requested: t.array(Int),
  active: t.array(Int),
  batch: t.type({ pfns: t.array(Int), orders: t.array(Int), mts: t.array(Int) }),
  counters: t.array(Int),
  timeline: t.array(t.tuple([Int, Int, Int, Int])),
  /** Each a Cycle: six numbers (io-ts tuples stop at five). */
  cycles: t.array(t.array(Int)),
})
type Saved = t.TypeOf<typeof Saved>
type Part = Saved | null | undefined

export const boundarySnapshot: SnapshotPart<Part> = {
  arrays: ({ boundary: b }) =>
    b === null
      ? []
      : [
          ['flag', b.flag],
          ['boundary', b.boundary],
          ['nrFreeAerated', b.nrFreeAerated],
          ['unbacked', b.unbacked],
        ],
  // Undefined when off, so that a run without reporting saves the JSON it always saved.
  save: ({ boundary: b }) =>
    b === null
      ? undefined
      : {
          requested: [...b.requested],
          active: [...b.active],
          batch: { pfns: [...b.batch.pfns], orders: [...b.batch.orders], mts: [...b.batch.mts] },
          counters: COUNTERS.map((k) => b[k]),
          timeline: b.timeline.map((p) => [...p]),
          cycles: b.cycles.map((c): number[] => [...c]),
        },
  codec: t.union([Saved, t.null, t.undefined]),
  load: ({ boundary: b }, saved) => {
    if (b === null || saved === null || saved === undefined) return (b === null) === (saved === null || saved === undefined) ? null : 'reporting is on in one and off in the other'
    if (saved.counters.length !== COUNTERS.length) return `${saved.counters.length} counters saved, not ${COUNTERS.length}`
    COUNTERS.forEach((k, i) => (b[k] = saved.counters[i]!))
    b.batch = { pfns: [...saved.batch.pfns], orders: [...saved.batch.orders], mts: [...saved.batch.mts] }
    b.timeline = saved.timeline.map(([a, c, d, e]) => [a, c, d, e])
    if (saved.cycles.some((c) => c.length !== 6)) return 'a saved cycle is not six numbers'
    b.cycles = saved.cycles.map(([a, c, d, e, f, g]) => [a!, c!, d!, e!, f!, g!])
    return setNumbers(b.requested, saved.requested, 'requested') ?? setNumbers(b.active, saved.active, 'active')
  },
}
