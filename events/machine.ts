// The first event of every run: the machine the rest of the events happen on. Projections build
// their arrays from it, so a run can be folded without the workload that produced it.
import * as t from 'io-ts'
import { Int, NonNegInt, PosInt, intIn } from './codecs'

export const ZoneShape = t.type({
  name: t.string,
  startPfn: NonNegInt,
  pages: PosInt,
  /** zone->watermark[WMARK_MIN/LOW/HIGH] in pages. */
  watermarks: t.type({ min: NonNegInt, low: NonNegInt, high: NonNegInt }),
  /** per_cpu_pages batch and high (zone_batchsize, pageset_set_batch). */
  pcp: t.type({ batch: PosInt, high: NonNegInt }),
})
export type ZoneShape = t.TypeOf<typeof ZoneShape>

export const MachineBooted = t.type({
  type: t.literal('MachineBooted'),
  data: t.type({
    cpus: intIn(1, 256),
    pageblockOrder: intIn(1, 10),
    zones: t.array(ZoneShape),
    /** Size of the frame arrays: the highest pfn + 1 of any zone. */
    pfnEnd: Int,
  }),
})
export type MachineBooted = t.TypeOf<typeof MachineBooted>
