// Free page reporting events: Duyck's aeration RFC (v1 5/6, reference/aeration-raw-vs-aerated-
// boundary.txt) and its mainline successor mm/page_reporting.c (kernel-facts.md §4). Both pull
// free blocks of order >= the reporting order off the free lists into a batch, hand the batch to
// the host, and put it back; they differ in when they run, which lists they walk, and how they
// remember what was reported (the aerated run behind a boundary, or PageReported on each block).
import * as t from 'io-ts'
import { Int, Migratetype, NonNegInt, Order, Pfn, intIn, oneOf } from './codecs'

const ZoneIdx = intIn(0, 63, 'a zone index')

/** Which design reports free memory in a run (the `reporting` variant; off means no device). */
export const REPORTING_MECHANISMS = ['aeration', 'page-reporting'] as const

/**
 * The reporting device as the run configured it (MachineBooted.reporting; absent when off).
 * `boundaryRace` is the race variant of the RFC's boundary helpers.
 */
const ReportingConfigRequired = t.type({
  mechanism: oneOf(REPORTING_MECHANISMS),
  /** Blocks per batch (aerator_dev_info.capacity; PAGE_REPORTING_CAPACITY 32). */
  capacity: intIn(1, 1 << 16, 'a capacity 1..65536'),
  /** How long the host takes to process one batch (the virtqueue round trip and madvise). */
  latencyNs: intIn(1, 2 ** 40, 'a time in ns 1..2^40'),
  /** The host releases the batch's backing (ram_block_discard_range); false: it acks without freeing (balloon inhibited, VFIO). */
  hostFrees: t.boolean,
  /** 'always': the RFC's aerator_del_from_boundary on every delete; 'skip-when-allocated': not when the boundary page is allocated (the race). */
  delFromBoundary: oneOf(['always', 'skip-when-allocated'] as const),
})
export const ReportingConfig = t.intersection([
  ReportingConfigRequired,
  t.partial({
    /** Absent: the RFC's aerator_put_migratetype, the block's recorded migratetype; 'pageblock': its pageblock's migratetype at put-back (page_reporting_drain's get_pageblock_migratetype), so a block whose pageblock was isolated meanwhile goes to the ISOLATE list. */
    putBack: t.literal('pageblock'),
  }),
])
export type ReportingConfig = t.TypeOf<typeof ReportingConfig>

/** The device when the workload does not say: page_reporting's capacity, a millisecond per batch, a host that frees. */
export const DEFAULT_REPORTING_DEVICE = { capacity: 32, latencyNs: 1_000_000, hostFrees: true } as const

const Blocks = { pfns: t.array(Pfn), orders: t.array(Order), mts: t.array(Migratetype) }

/**
 * A free at order >= the reporting order asked for a pass: aerator_notify_free sets
 * ZONE_AERATION_REQUESTED and takes a reference (the first schedules the work HZ/10 later);
 * page_reporting_notify_free moves the device to REQUESTED (from IDLE, the work runs 2 s later).
 * `startup` is the initial request of aerator_startup / page_reporting_register.
 */
export const ReportingRequested = t.type({
  type: t.literal('ReportingRequested'),
  data: t.type({ zone: ZoneIdx, order: Order, scheduled: t.boolean, startup: t.boolean }),
})

/** The delayed work starts: aerator_cycle takes its own reference; page_reporting_process sets ACTIVE. */
export const ReportingWorkStarted = t.type({ type: t.literal('ReportingWorkStarted'), data: t.type({ zone: ZoneIdx }) })

/**
 * Fill: blocks leave their free lists for the batch (get_aeration_page / __isolate_free_page),
 * in this order. They are on no list and held by no user until they are returned.
 */
export const ReportingPagesPulled = t.type({ type: t.literal('ReportingPagesPulled'), data: t.type({ zone: ZoneIdx, ...Blocks }) })

/** aerator_fill found too few raw blocks to fill the batch: clears ZONE_AERATION_REQUESTED and drops that request's reference. */
export const AerationRequestCleared = t.type({ type: t.literal('AerationRequestCleared'), data: t.type({ zone: ZoneIdx }) })

/**
 * The host processed the batch (react / prdev->report): with `freed`, it released the frames'
 * backing (MADV_DONTNEED: zero-filled on the next touch); without, it acknowledged only.
 */
export const ReportingHostReacted = t.type({
  type: t.literal('ReportingHostReacted'),
  data: t.type({ zone: ZoneIdx, blocks: NonNegInt, pages: NonNegInt, freed: t.boolean }),
})

/** aerator_populate_boundaries: every boundary of the zone back at its list head, ZONE_AERATION_ACTIVE set. */
export const AerationBoundariesPopulated = t.type({ type: t.literal('AerationBoundariesPopulated'), data: t.type({ zone: ZoneIdx }) })

/**
 * Drain: each block goes back in order (put_aeration_page / __putback_isolated_page), merging
 * `merges[i]` times, at the tail (above the aerated run while ACTIVE). A block that did not merge
 * is marked aerated and becomes its list's boundary (aeration) or PageReported when `reported`.
 */
export const ReportingPagesReturned = t.type({
  type: t.literal('ReportingPagesReturned'),
  data: t.type({ zone: ZoneIdx, ...Blocks, merges: t.array(intIn(0, 10)), reported: t.boolean }),
})

/** aerator_add_to_boundary outside a drain: get_aeration_page found the list fully aerated; the boundary moves to its head block. */
export const BoundaryMoved = t.type({
  type: t.literal('BoundaryMoved'),
  data: t.type({ zone: ZoneIdx, order: Order, mt: Migratetype, pfn: Int }),
})

/** The end of aerator_scrub_zone: ZONE_AERATION_ACTIVE cleared, the boundaries no longer kept. */
export const AerationActiveCleared = t.type({ type: t.literal('AerationActiveCleared'), data: t.type({ zone: ZoneIdx }) })

/**
 * page_reporting_cycle's list_rotate_to_front: the list's head moves so that `pfn` is first (the
 * next block to report stays first while the zone lock is dropped).
 */
export const FreeListRotated = t.type({
  type: t.literal('FreeListRotated'),
  data: t.type({ zone: ZoneIdx, order: Order, mt: Migratetype, pfn: Pfn }),
})

/**
 * The work ends: aerator_cycle holding the last reference goes idle; page_reporting_process goes
 * IDLE, or finds REQUESTED and runs again 2 s later (`rescheduled`).
 */
export const ReportingWorkFinished = t.type({
  type: t.literal('ReportingWorkFinished'),
  data: t.type({ rescheduled: t.boolean }),
})
