// Buddy allocator events (mm/page_alloc.c). Each event is one step the kernel takes under the
// zone lock or with interrupts off, so the zone is consistent after every event: splits are part
// of the allocation that caused them (`fromOrder`), merges part of the free (`merges`).
import * as t from 'io-ts'
import { Migratetype, NonNegInt, Order, Pfn, intIn } from './codecs'

const ZoneIdx = intIn(0, 63, 'a zone index')

/**
 * __rmqueue_smallest: the head block of free_list[mt] at `fromOrder` is taken and expand() gives
 * the upper halves back to free_list[mt] at each lower order. `pcp` marks rmqueue_bulk moving the
 * page to this CPU's per-cpu list instead of to a user.
 */
export const PageAllocated = t.type({
  type: t.literal('PageAllocated'),
  data: t.intersection([t.type({ zone: ZoneIdx, pfn: Pfn, order: Order, mt: Migratetype, fromOrder: Order, pcp: t.boolean }), t.partial({ tag: t.string })]),
})
export type PageAllocated = t.TypeOf<typeof PageAllocated>

/** rmqueue_pcplist: the head page of this CPU's pcp list[mt] goes to a user. */
export const PcpAllocated = t.type({
  type: t.literal('PcpAllocated'),
  data: t.intersection([t.type({ zone: ZoneIdx, pfn: Pfn, mt: Migratetype }), t.partial({ tag: t.string })]),
})
export type PcpAllocated = t.TypeOf<typeof PcpAllocated>

/**
 * __free_one_page: a block of `order` at `pfn` leaves its user (`from: 'page'`), this CPU's pcp
 * list (`from: 'pcp'`, order 0) or boot memory (`from: 'boot'`), merges `merges` times with its
 * buddy and lands on free_list[mt] of the resulting order, at the tail when `tail`.
 */
export const PageFreed = t.type({
  type: t.literal('PageFreed'),
  data: t.type({
    zone: ZoneIdx,
    pfn: Pfn,
    order: Order,
    mt: Migratetype,
    merges: intIn(0, 10),
    tail: t.boolean,
    from: t.union([t.literal('page'), t.literal('pcp'), t.literal('boot')]),
  }),
})
export type PageFreed = t.TypeOf<typeof PageFreed>

/**
 * free_hot_cold_page: an order-0 page of pcp migratetype `mt` (its pageblock's type,
 * set_pcppage_migratetype) goes on this CPU's pcp list for it, at the tail when cold: list[mt]
 * for the three pcp types, the MOVABLE list for HIGHATOMIC.
 */
export const PcpFreed = t.type({
  type: t.literal('PcpFreed'),
  data: t.type({ zone: ZoneIdx, pfn: Pfn, mt: Migratetype, cold: t.boolean }),
})
export type PcpFreed = t.TypeOf<typeof PcpFreed>

/**
 * free_pcppages_bulk is about to return `count` pages of this CPU's pcp lists to the buddy
 * lists; the PageFreed events that follow carry this event's seq as their cause.
 */
export const PcpDrained = t.type({
  type: t.literal('PcpDrained'),
  data: t.type({
    zone: ZoneIdx,
    count: NonNegInt,
    reason: t.union([t.literal('high'), t.literal('drain'), t.literal('cpu-dead')]),
  }),
})
export type PcpDrained = t.TypeOf<typeof PcpDrained>

/**
 * move_freepages_block: every free block in the pageblock at `pfn` moves to free_list[toMt];
 * when `claimed`, the pageblock itself becomes `toMt` (steal_suitable_fallback).
 */
export const FreepagesMoved = t.type({
  type: t.literal('FreepagesMoved'),
  data: t.type({
    zone: ZoneIdx,
    pfn: Pfn,
    /** pageblock_nr_pages, so that the event names the frames it covers. */
    pages: intIn(1, 1 << 20),
    toMt: Migratetype,
    claimed: t.boolean,
    freePages: NonNegInt,
    alikePages: NonNegInt,
  }),
})
export type FreepagesMoved = t.TypeOf<typeof FreepagesMoved>

/** move_to_free_list: the single free block at `pfn` moves to the head of free_list[toMt]. */
export const FreeBlockMoved = t.type({
  type: t.literal('FreeBlockMoved'),
  data: t.type({ zone: ZoneIdx, pfn: Pfn, order: Order, toMt: Migratetype }),
})
export type FreeBlockMoved = t.TypeOf<typeof FreeBlockMoved>

/** change_pageblock_range / set_pageblock_migratetype for the pageblocks in [pfn, pfn + pages). */
export const PageblockMigratetypeSet = t.type({
  type: t.literal('PageblockMigratetypeSet'),
  data: t.type({ zone: ZoneIdx, pfn: Pfn, pages: intIn(1, 1 << 30), mt: Migratetype }),
})
export type PageblockMigratetypeSet = t.TypeOf<typeof PageblockMigratetypeSet>

/** __alloc_pages_nodemask gave up: no zone had a block above the watermark. Changes nothing. */
export const PageAllocFailed = t.type({
  type: t.literal('PageAllocFailed'),
  data: t.intersection([t.type({ order: Order, mt: Migratetype }), t.partial({ tag: t.string })]),
})
export type PageAllocFailed = t.TypeOf<typeof PageAllocFailed>
