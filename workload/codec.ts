// Workload format v1: the machine, the variants, and the operations each CPU runs. The codecs
// are the format's definition; README.md documents the same fields.
import * as t from 'io-ts'
import { CpuId, NonNegInt, Order, PosInt, intIn, oneOf, strictObject, taggedUnion } from '../events'
import { withDepthBound } from './depth'
import { PosTimeNs, TimeNs, withTimeBound } from './time'

export const WORKLOAD_VERSION = 1

/** Migratetypes a request may ask for: gfp flags map to these three (gfp_migratetype). */
export const REQUEST_MIGRATETYPES = ['unmovable', 'movable', 'reclaimable'] as const
export const MtName = oneOf(REQUEST_MIGRATETYPES)
export type MtName = t.TypeOf<typeof MtName>

export const ZoneSpec = strictObject('a zone', { name: t.string }, { pages: PosInt, mib: PosInt, startPfn: NonNegInt })
export type ZoneSpec = t.TypeOf<typeof ZoneSpec>

/**
 * A zone's free lists at the end of boot, as /proc/pagetypeinfo reports them (`mmsim import
 * buddyinfo` writes this): free blocks per order on each migratetype's lists, and optionally how
 * many pageblocks of each migratetype the zone has. Memory that is not free is reserved at boot
 * (never handed to the buddy allocator), so the zone starts with exactly these free lists.
 */
const FreeCounts = t.array(NonNegInt)
export const FREE_AREA_MIGRATETYPES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic'] as const
export const FreeAreaSpec = strictObject(
  "a zone's free areas",
  { zone: t.string },
  {
    free: strictObject('free blocks per order, by migratetype', {}, { Unmovable: FreeCounts, Movable: FreeCounts, Reclaimable: FreeCounts, HighAtomic: FreeCounts }),
    pageblocks: strictObject('pageblocks by migratetype', {}, { Unmovable: NonNegInt, Movable: NonNegInt, Reclaimable: NonNegInt, HighAtomic: NonNegInt }),
  },
)
export type FreeAreaSpec = t.TypeOf<typeof FreeAreaSpec>

export const MachineSpec = strictObject(
  'a machine',
  { cpus: intIn(1, 64), zones: t.array(ZoneSpec) },
  {
    /** The machine profile: pageblock_order 9 on x86, 8 on s390; s390 when absent and the guest hints, else x86. */
    arch: oneOf(['x86', 's390'] as const),
    /** Must agree with arch when given (it is arch's geometry, not a knob). */
    pageblockOrder: intIn(1, 10),
    /** vm.min_free_kbytes; computed as the kernel does when absent. */
    minFreeKbytes: PosInt,
    /** The guest hints page states to the host (s390 CMMA with the guest page hinting patches). */
    guestPageHinting: t.boolean,
    /** per_cpu_pages batch and high for every zone; computed as the kernel does when absent. */
    pcpBatch: PosInt,
    pcpHigh: NonNegInt,
    /** Free lists to boot with instead of every page free (an imported /proc/buddyinfo). */
    freeAreas: t.array(FreeAreaSpec),
  },
)
export type MachineSpec = t.TypeOf<typeof MachineSpec>

const Cpu = CpuId
const Tag = t.string
const Watermark = oneOf(['min', 'low', 'high'] as const)

export const AllocOp = strictObject('an alloc op', { op: t.literal('alloc'), cpu: Cpu }, { order: Order, mt: MtName, count: intIn(1, 1 << 24), tag: Tag, zone: t.string })
export const FreeOp = strictObject('a free op', { op: t.literal('free'), cpu: Cpu, tag: Tag }, { cold: t.boolean })
export const DrainOp = strictObject('a drain op', { op: t.literal('drain'), cpu: Cpu }, { all: t.boolean })
export const PressureOp = strictObject('a pressure op', { op: t.literal('pressure'), cpu: Cpu, tag: Tag }, { watermark: Watermark, mt: MtName, order: Order, zone: t.string })
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
export const IdleOp = strictObject('an idle op', { op: t.literal('idle'), cpu: Cpu, ns: PosTimeNs })
const File = intIn(0, 1 << 20, 'a file number 0..1048576')
const Index = intIn(0, (1 << 24) - 1, 'a page index 0..16777215')
const Mm = intIn(0, 1 << 20, 'a process number 0..1048576')
const Count = intIn(1, 1 << 20)

// Page cache and process operations (guest page hinting): each names a file page or a range of them.
export const ReadOp = strictObject('a read op', { op: t.literal('read'), cpu: Cpu, file: File }, { index: Index, count: Count })
export const WriteOp = strictObject('a write op', { op: t.literal('write'), cpu: Cpu, file: File }, { index: Index, count: Count })
export const WritebackOp = strictObject('a writeback op', { op: t.literal('writeback'), cpu: Cpu, file: File }, { index: Index, count: Count })
export const DropOp = strictObject('a drop op', { op: t.literal('drop'), cpu: Cpu, file: File }, { index: Index, count: Count })
export const MapOp = strictObject('a map op', { op: t.literal('map'), cpu: Cpu, mm: Mm, file: File }, { index: Index, count: Count, writable: t.boolean })
export const TouchOp = strictObject('a touch op', { op: t.literal('touch'), cpu: Cpu, mm: Mm, file: File }, { index: Index, count: Count, write: t.boolean })
export const UnmapOp = strictObject('an unmap op', { op: t.literal('unmap'), cpu: Cpu, mm: Mm, file: File }, { index: Index, count: Count })
export const ForkOp = strictObject('a fork op', { op: t.literal('fork'), cpu: Cpu, parent: Mm, child: Mm })
export const ExitOp = strictObject('an exit op', { op: t.literal('exit'), cpu: Cpu, mm: Mm })
export const AnonOp = strictObject('an anon op', { op: t.literal('anon'), cpu: Cpu, mm: Mm, pages: Count })

// Anonymous memory by page index in the process's anonymous heap (the VMA the first anon op
// maps): stores that fault or break COW, protection changes and unmaps that split and merge VMAs,
// and rmap walks. They work with or without guest page hinting.
/** Page indices in the anonymous heap: 0..HEAP_PAGES - 1. */
export const HEAP_PAGES = 1 << 22
const HeapIndex = intIn(0, HEAP_PAGES - 1, `a heap page index 0..${HEAP_PAGES - 1}`)
const HeapCount = intIn(1, HEAP_PAGES, `a page count 1..${HEAP_PAGES}`)
export const AnonWriteOp = strictObject('an anon-write op', { op: t.literal('anon-write'), cpu: Cpu, mm: Mm }, { index: HeapIndex, count: HeapCount })
export const MprotectOp = strictObject('an mprotect op', { op: t.literal('mprotect'), cpu: Cpu, mm: Mm, index: HeapIndex, count: HeapCount, writable: t.boolean })
export const MunmapOp = strictObject('a munmap op', { op: t.literal('munmap'), cpu: Cpu, mm: Mm, index: HeapIndex, count: HeapCount })
export const RmapOp = strictObject(
  'an rmap op',
  { op: t.literal('rmap'), cpu: Cpu },
  {
    /** page_referenced (reclaim's aging), try_to_unmap, or rmap_walk (every VMA that covers the page, as migration walks). */
    walk: oneOf(['page_referenced', 'try_to_unmap', 'rmap_walk'] as const),
    /** The pages process `mm` maps at heap indices [index, index + count) ... */
    mm: Mm,
    index: HeapIndex,
    count: HeapCount,
    /** ... or, instead, this many pages drawn from each anon_vma that mapped pages name. */
    sample: intIn(1, 1 << 20),
  },
)
export const ReclaimOp = strictObject('a reclaim op', { op: t.literal('reclaim'), cpu: Cpu })
export const CpuDownOp = strictObject('a cpu-down op', { op: t.literal('cpu-down'), cpu: Cpu, target: Cpu })
export const CpuUpOp = strictObject('a cpu-up op', { op: t.literal('cpu-up'), cpu: Cpu, target: Cpu })

// Page isolation (memory hot-remove, alloc_contig_range). A range the kernel would refuse
// (unaligned, spanning zones, overlapping) is not a workload error: the op runs and records the
// kernel's -EINVAL or -EBUSY.
const IsolationLimits = {
  /** Migrate rounds that leave a page unmoved before the op gives up (retry_max, 5 in v4.13). */
  retries: intIn(1, 1 << 20),
  /** Simulated time after which the migrate loop gives up (-EAGAIN; default 100 ms). */
  timeoutNs: PosTimeNs,
  /** Wait between two migrate rounds (default 100 µs). */
  retryWaitNs: PosTimeNs,
}
export const HotRemoveOp = strictObject('a hot-remove op', { op: t.literal('hot-remove'), cpu: Cpu, startPfn: NonNegInt, pages: PosInt }, IsolationLimits)
export const ContigAllocOp = strictObject(
  'a contig-alloc op',
  { op: t.literal('contig-alloc'), cpu: Cpu, startPfn: NonNegInt, pages: PosInt, tag: Tag },
  { ...IsolationLimits, by: oneOf(['cma', 'gigantic'] as const) },
)

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
  | t.TypeOf<typeof ReadOp>
  | t.TypeOf<typeof WriteOp>
  | t.TypeOf<typeof WritebackOp>
  | t.TypeOf<typeof DropOp>
  | t.TypeOf<typeof MapOp>
  | t.TypeOf<typeof TouchOp>
  | t.TypeOf<typeof UnmapOp>
  | t.TypeOf<typeof ForkOp>
  | t.TypeOf<typeof ExitOp>
  | t.TypeOf<typeof AnonOp>
  | t.TypeOf<typeof AnonWriteOp>
  | t.TypeOf<typeof MprotectOp>
  | t.TypeOf<typeof MunmapOp>
  | t.TypeOf<typeof RmapOp>
  | t.TypeOf<typeof ReclaimOp>
  | t.TypeOf<typeof CpuDownOp>
  | t.TypeOf<typeof CpuUpOp>
  | t.TypeOf<typeof HotRemoveOp>
  | t.TypeOf<typeof ContigAllocOp>
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
    read: ReadOp,
    write: WriteOp,
    writeback: WritebackOp,
    drop: DropOp,
    map: MapOp,
    touch: TouchOp,
    unmap: UnmapOp,
    fork: ForkOp,
    exit: ExitOp,
    anon: AnonOp,
    'anon-write': AnonWriteOp,
    mprotect: MprotectOp,
    munmap: MunmapOp,
    rmap: RmapOp,
    reclaim: ReclaimOp,
    'cpu-down': CpuDownOp,
    'cpu-up': CpuUpOp,
    'hot-remove': HotRemoveOp,
    'contig-alloc': ContigAllocOp,
    repeat: RepeatOpCodec,
  }),
)
const RepeatOpCodec: t.Type<RepeatOp, unknown, unknown> = strictObject('a repeat op', {
  op: t.literal('repeat'),
  times: intIn(1, 1 << 30),
  ops: t.array(Op),
}) as unknown as t.Type<RepeatOp, unknown, unknown>

/** Each switch of guest page hinting and of anonymous reverse mapping, and its values, the kernel's design first. */
export const VARIANT_VALUES = {
  discardList: ['on', 'off'],
  stateChange: ['lock', 'cas', 'none'],
  volatileAt: ['writeback-end', 'writeback-start', 'writeback-start-checked'],
  forkVsDiscard: ['checked', 'unchecked'],
  anonVmaLinking: ['chain', 'legacy'],
  lockRmap: ['on', 'off'],
  anonVmaReuse: ['fixed', 'degree', 'off'],
  anonVmaPrepare: ['recheck', 'unchecked'],
  isolation: ['migratetype', 'list'],
  freeMtRecheck: ['on', 'off'],
  isolateRecheck: ['on', 'off'],
  listFreeHot: ['pcp', 'bypass'],
  discardIntoIsolated: ['pcp', 'isolate-check'],
  reporting: ['off', 'aeration', 'page-reporting'],
  delFromBoundary: ['always', 'skip-when-allocated'],
  aerationPutBack: ['recorded', 'pageblock'],
} as const

/**
 * The switches of guest page hinting (DEFAULT_HINTING) and of anonymous reverse mapping
 * (DEFAULT_RMAP); absent ones take the kernel's design.
 */
export const Variants = strictObject(
  'variants',
  {},
  {
    discardList: oneOf(VARIANT_VALUES.discardList),
    stateChange: oneOf(VARIANT_VALUES.stateChange),
    volatileAt: oneOf(VARIANT_VALUES.volatileAt),
    forkVsDiscard: oneOf(VARIANT_VALUES.forkVsDiscard),
    anonVmaLinking: oneOf(VARIANT_VALUES.anonVmaLinking),
    lockRmap: oneOf(VARIANT_VALUES.lockRmap),
    anonVmaReuse: oneOf(VARIANT_VALUES.anonVmaReuse),
    anonVmaPrepare: oneOf(VARIANT_VALUES.anonVmaPrepare),
    isolation: oneOf(VARIANT_VALUES.isolation),
    freeMtRecheck: oneOf(VARIANT_VALUES.freeMtRecheck),
    isolateRecheck: oneOf(VARIANT_VALUES.isolateRecheck),
    listFreeHot: oneOf(VARIANT_VALUES.listFreeHot),
    discardIntoIsolated: oneOf(VARIANT_VALUES.discardIntoIsolated),
    /** Free page reporting: the aeration RFC, mainline mm/page_reporting.c, or none (the default). */
    reporting: oneOf(VARIANT_VALUES.reporting),
    /** The RFC's aerator_del_from_boundary on every delete, or skipped when the boundary block is allocated (the race). */
    delFromBoundary: oneOf(VARIANT_VALUES.delFromBoundary),
    /** Where the aerator puts a block back: its recorded migratetype (the RFC's aerator_put_migratetype), or its pageblock's now (as page_reporting_drain does). */
    aerationPutBack: oneOf(VARIANT_VALUES.aerationPutBack),
  },
)
export type Variants = t.TypeOf<typeof Variants>

/** The host's memory pressure: how often it looks for pages to take, and which. */
export const HostSpec = strictObject(
  'host',
  {},
  {
    /**
     * Simulated time between two passes of the host's reclaim. At most 2^30 ns (about a second):
     * the host's jitter (engine/host.ts) takes a quarter and a half of it with 32-bit shifts.
     */
    intervalNs: intIn(1, 2 ** 30, 'a time in ns 1..2^30 (about 1 s)'),
    /** Pages the host takes per pass at most. */
    pagesPerPass: PosInt,
    /** Frames the host looks at per pass (its clock hand moves this far at most). */
    scanPerPass: PosInt,
    /** Discard unused (free) pages: Ur -> Uz. */
    unused: t.boolean,
    /** Discard volatile pages (Vr -> Vz) and clean potentially volatile ones (Pr -> Vz). */
    volatile: t.boolean,
    /** Page stable pages out to the host's swap (Sr -> Sp, dirty Pr -> Sp). */
    pageOut: t.boolean,
    /** The host's pressure starts at this simulated time (default 0) ... */
    activeFromNs: TimeNs,
    /** ... and ends at this one (default: never). */
    activeUntilNs: TimeNs,
  },
)
export type HostSpec = t.TypeOf<typeof HostSpec>

/** The free page reporting device (virtio-balloon's reporting queue) and what the host does with a batch. */
export const ReportingDeviceSpec = strictObject(
  'reporting device',
  {},
  {
    /** Blocks per batch (default 32: PAGE_REPORTING_CAPACITY, the RFC's aerator capacity). */
    capacity: intIn(1, 1 << 16, 'a capacity 1..65536'),
    /** Simulated time the host takes to process one batch (default 1 ms). */
    latencyNs: intIn(1, 2 ** 40, 'a time in ns 1..2^40'),
    /** The host releases the batch's backing (default true); false acknowledges without freeing, as QEMU does with the balloon inhibited (VFIO). */
    hostFrees: t.boolean,
  },
)
export type ReportingDeviceSpec = t.TypeOf<typeof ReportingDeviceSpec>

export const Settings = strictObject(
  'settings',
  {},
  {
    /** Simulated time between two operations of one CPU. */
    thinkNs: TimeNs,
    /** Simulated time a block I/O (a read or a writeback) takes. */
    ioNs: PosTimeNs,
  },
)

/**
 * What a workload imported from a recording (`mmsim import ftrace`) knows of it, for the run
 * summary's comparison: each replayed allocation's tag is `L<line>@<recorded pfn in hex>`.
 */
export const Recording = strictObject(
  'a recording',
  {
    format: t.literal('ftrace'),
    source: t.string,
    /** Lines read, and the allocations and frees replayed from them. */
    lines: NonNegInt,
    allocations: NonNegInt,
    frees: NonNegInt,
    /** mm_page_alloc_extfrag lines: the recording's fallbacks. */
    extfrag: NonNegInt,
    /** Lines not replayed, by reason. */
    unusable: t.record(t.string, NonNegInt),
  },
  {
    /** The zone covers the recorded pfns, so a replayed allocation can land on the same frame. */
    pfnsComparable: t.boolean,
  },
)
export type Recording = t.TypeOf<typeof Recording>

const WorkloadFields = strictObject(
  'a workload',
  { version: t.literal(WORKLOAD_VERSION), name: t.string, machine: MachineSpec, ops: t.array(Op) },
  { description: t.string, variants: Variants, host: HostSpec, settings: Settings, recording: Recording, reportingDevice: ReportingDeviceSpec },
)
export type Workload = t.TypeOf<typeof WorkloadFields>
/** The format: its fields, and simulated time bounded so that every accepted run ends readable. */
export const Workload = withDepthBound(withTimeBound(WorkloadFields))

export const mtIndex = (m: MtName): number => REQUEST_MIGRATETYPES.indexOf(m)
