// The zone projection in a snapshot: every frame, pageblock and list array as it is, and each
// zone's counters (the rest of ZoneInfo comes from the machine).
import * as t from 'io-ts'
import { Int } from '../../events/codecs'
import type { SnapshotPart } from '../snapshotPart'
import type { ZoneInfo } from './state'

/** The fields of ZoneInfo that events change. */
const COUNTERS = [
  'managed',
  'nrFreePages',
  'buddyPages',
  'pcpPages',
  'allocatedPages',
  'discardPages',
  'nrIsolatePageblock',
  'capturedPages',
] as const satisfies readonly (keyof ZoneInfo)[]
/** Snapshots stored before page isolation captured pages lack the last counter: it was 0 then. */
const COUNTERS_BEFORE_CAPTURE = COUNTERS.length - 1

/** Per zone, its COUNTERS in order. */
const Counters = t.array(t.array(Int))
type Counters = t.TypeOf<typeof Counters>

export const zoneSnapshot: SnapshotPart<Counters> = {
  arrays: ({ zone: z }) => [
    ['pageblockZone', z.pageblockZone],
    ['pageblockMt', z.pageblockMt],
    ['frame', z.frame],
    ['freeOrder', z.freeOrder],
    ['listMt', z.listMt],
    ['next', z.next],
    ['prev', z.prev],
    ['allocOrder', z.allocOrder],
    ['allocMt', z.allocMt],
    ['pcpCpu', z.pcpCpu],
    ['gen', z.gen],
    ['freeHead', z.freeHead],
    ['freeTail', z.freeTail],
    ['freeLen', z.freeLen],
    ['nrFree', z.nrFree],
    ['pcpHead', z.pcpHead],
    ['pcpTail', z.pcpTail],
    ['pcpLen', z.pcpLen],
    ['pcpCount', z.pcpCount],
  ],
  save: (s) => s.zone.zones.map((z) => COUNTERS.map((k) => z[k])),
  codec: Counters,
  load: (s, saved) => {
    if (saved.length !== s.zone.zones.length) return `${saved.length} zones saved, the machine has ${s.zone.zones.length}`
    for (const [i, z] of s.zone.zones.entries()) {
      const c = saved[i]!
      if (c.length !== COUNTERS.length && c.length !== COUNTERS_BEFORE_CAPTURE) return `zone ${z.name}: ${c.length} counters saved, not ${COUNTERS.length}`
      COUNTERS.forEach((k, j) => (z[k] = c[j] ?? 0))
    }
    return null
  },
}
