// Workload format v1: the machine, the variants, and the operations each CPU runs. The codecs
// are the format's definition; README.md documents the same fields.
import * as t from 'io-ts'
import { CpuId, NonNegInt, Order, PosInt, intIn, oneOf, strictObject, taggedUnion } from '../events'

export const WORKLOAD_VERSION = 1

/** Migratetypes a request may ask for: gfp flags map to these three (gfp_migratetype). */
export const REQUEST_MIGRATETYPES = ['unmovable', 'movable', 'reclaimable'] as const
export const MtName = oneOf(REQUEST_MIGRATETYPES)
export type MtName = t.TypeOf<typeof MtName>

export const ZoneSpec = strictObject('a zone', { name: t.string }, { pages: PosInt, mib: PosInt, startPfn: NonNegInt })
export type ZoneSpec = t.TypeOf<typeof ZoneSpec>

export const MachineSpec = strictObject(
  'a machine',
  { cpus: intIn(1, 64), zones: t.array(ZoneSpec) },
  {
    pageblockOrder: intIn(1, 10),
    /** vm.min_free_kbytes; computed as the kernel does when absent. */
    minFreeKbytes: PosInt,
    /** per_cpu_pages batch and high for every zone; computed as the kernel does when absent. */
    pcpBatch: PosInt,
    pcpHigh: NonNegInt,
  },
)
export type MachineSpec = t.TypeOf<typeof MachineSpec>

const Cpu = CpuId
const Tag = t.string
const Watermark = oneOf(['min', 'low', 'high'] as const)

export const AllocOp = strictObject(
  'an alloc op',
  { op: t.literal('alloc'), cpu: Cpu },
  { order: Order, mt: MtName, count: intIn(1, 1 << 24), tag: Tag, zone: t.string },
)
export const FreeOp = strictObject('a free op', { op: t.literal('free'), cpu: Cpu, tag: Tag }, { cold: t.boolean })
export const DrainOp = strictObject('a drain op', { op: t.literal('drain'), cpu: Cpu }, { all: t.boolean })
export const PressureOp = strictObject(
  'a pressure op',
  { op: t.literal('pressure'), cpu: Cpu, tag: Tag },
  { watermark: Watermark, mt: MtName, order: Order, zone: t.string },
)
export const ChurnOp = strictObject(
  'a churn op',
  { op: t.literal('churn'), cpu: Cpu, steps: intIn(1, 1 << 30) },
  {
    /** Relative weights of orders 0..10 for allocations. */
    orderWeights: t.array(NonNegInt),
    /** Relative weights of unmovable, movable, reclaimable. */
    mtWeights: t.array(NonNegInt),
    /** Most allocations held at once before frees are forced. */
    liveMax: PosInt,
    /** Share of frees that are cold (to the pcp list tail), in percent. */
    coldPercent: intIn(0, 100),
  },
)
export const IdleOp = strictObject('an idle op', { op: t.literal('idle'), cpu: Cpu, ns: PosInt })
/** Every CPU waits here until all have arrived: orders the ops before it before those after it. */
export const BarrierOp = strictObject('a barrier op', { op: t.literal('barrier') })

export interface RepeatOp {
  readonly op: 'repeat'
  readonly times: number
  readonly ops: readonly Op[]
}
export type Op =
  | t.TypeOf<typeof AllocOp>
  | t.TypeOf<typeof FreeOp>
  | t.TypeOf<typeof DrainOp>
  | t.TypeOf<typeof PressureOp>
  | t.TypeOf<typeof ChurnOp>
  | t.TypeOf<typeof IdleOp>
  | t.TypeOf<typeof BarrierOp>
  | RepeatOp

export const Op: t.Type<Op, unknown, unknown> = t.recursion('an op', () =>
  taggedUnion('an op', 'op', {
    alloc: AllocOp,
    free: FreeOp,
    drain: DrainOp,
    pressure: PressureOp,
    churn: ChurnOp,
    idle: IdleOp,
    barrier: BarrierOp,
    repeat: RepeatOpCodec,
  }),
)
const RepeatOpCodec: t.Type<RepeatOp, unknown, unknown> = strictObject('a repeat op', {
  op: t.literal('repeat'),
  times: intIn(1, 1 << 30),
  ops: t.array(Op),
}) as unknown as t.Type<RepeatOp, unknown, unknown>

export const Variants = strictObject('variants', {}, {})
export type Variants = t.TypeOf<typeof Variants>

export const Settings = strictObject(
  'settings',
  {},
  {
    /** Simulated time between two operations of one CPU. */
    thinkNs: NonNegInt,
  },
)

export const Workload = strictObject(
  'a workload',
  { version: t.literal(WORKLOAD_VERSION), name: t.string, machine: MachineSpec, ops: t.array(Op) },
  { description: t.string, variants: Variants, settings: Settings },
)
export type Workload = t.TypeOf<typeof Workload>

export const mtIndex = (m: MtName): number => REQUEST_MIGRATETYPES.indexOf(m)
