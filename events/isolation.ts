// Page isolation events (mm/page_isolation.c, memory hot-remove, alloc_contig_range), for both
// designs the reference material argues about: mainline's MIGRATE_ISOLATE pageblocks (Mel
// Gorman's review) and the 2007 patch's per-zone isolation list (register_isolation, freed pages
// captured before they reach free_area[]). Each range has an id, so every event names its range.
import * as t from 'io-ts'
import { Migratetype, NonNegInt, Order, Pfn, intIn, oneOf } from './codecs'

const ZoneIdx = intIn(0, 63, 'a zone index')
const RangeId = NonNegInt

/** The two designs: the review's MIGRATE_ISOLATE pageblocks, the patch's per-zone isolation list. */
export const ISOLATION_DESIGNS = ['migratetype', 'list'] as const
export type IsolationDesign = (typeof ISOLATION_DESIGNS)[number]

/** Who isolates: memory hot-remove (offline_pages) or alloc_contig_range for CMA or a gigantic page. */
export const ISOLATORS = ['hot-remove', 'cma', 'gigantic'] as const
export type Isolator = (typeof ISOLATORS)[number]

/** The errno values the isolation paths return (the kernel's names). */
export const ISOLATION_ERRNOS = ['EINVAL', 'EBUSY', 'EAGAIN', 'EINTR'] as const
export type IsolationErrno = (typeof ISOLATION_ERRNOS)[number]

/**
 * A range's isolation starts: register_isolation put it on the zone's isolation_list (list), or
 * start_isolate_page_range is about to isolate its pageblocks (migratetype).
 */
export const IsolationRegistered = t.type({
  type: t.literal('IsolationRegistered'),
  data: t.type({ range: RangeId, zone: ZoneIdx, startPfn: Pfn, endPfn: Pfn, design: oneOf(ISOLATION_DESIGNS), by: oneOf(ISOLATORS) }),
})

/** register_isolation or offline_pages' checks refused a range before anything changed: -EINVAL or -EBUSY. Changes nothing but the record. */
export const IsolationRefused = t.type({
  type: t.literal('IsolationRefused'),
  data: t.type({ startPfn: Pfn, endPfn: Pfn, by: oneOf(ISOLATORS), errno: oneOf(ISOLATION_ERRNOS), reason: t.string }),
})

/**
 * set_migratetype_isolate succeeded on the pageblock at `pfn`: it becomes ISOLATE
 * (nr_isolate_pageblock++), move_freepages_block moves its `freePages` free pages to the ISOLATE
 * lists and NR_FREE_PAGES drops by that many (__mod_zone_freepage_state with the old type).
 */
export const PageblockIsolated = t.type({
  type: t.literal('PageblockIsolated'),
  data: t.type({ range: RangeId, zone: ZoneIdx, pfn: Pfn, pages: intIn(1, 1 << 20), fromMt: Migratetype, freePages: NonNegInt }),
})

/**
 * unset_migratetype_isolate on the pageblock at `pfn`: move_freepages_block moves its `freePages`
 * free pages to free_list[toMt], NR_FREE_PAGES grows by that many, the pageblock becomes toMt and
 * nr_isolate_pageblock--.
 */
export const PageblockUnisolated = t.type({
  type: t.literal('PageblockUnisolated'),
  data: t.type({ range: RangeId, zone: ZoneIdx, pfn: Pfn, pages: intIn(1, 1 << 20), toMt: Migratetype, freePages: NonNegInt }),
})

/**
 * The patch's design: a block of `order` inside a registered range goes onto the range's page
 * list (order-0 entries, PG_reserved | PG_private) instead of free_area[]: freed by its user
 * (`page`), given back from a pcp list (`pcp`), or pulled off free_area[] (`buddy`).
 */
export const PageCaptured = t.type({
  type: t.literal('PageCaptured'),
  data: t.type({ range: RangeId, zone: ZoneIdx, pfn: Pfn, order: Order, from: oneOf(['page', 'pcp', 'buddy'] as const) }),
})

/**
 * migrate_pages moved one page in use out of the range: its contents were copied to `to` (a frame
 * the allocator gave, outside the range) and its page cache entry and every pte were repointed.
 * The old frame is freed by the events that follow.
 */
export const PageMigrated = t.type({
  type: t.literal('PageMigrated'),
  data: t.type({ range: RangeId, zone: ZoneIdx, from: Pfn, to: Pfn }),
})

/**
 * The whole range is isolated: start_isolate_page_range returned 0 (every pageblock ISOLATE, the
 * per-CPU lists drained after each), or the patch's range pulled in its free pages and drained.
 * From here on no allocation may return a page inside it.
 */
export const RangeIsolated = t.type({
  type: t.literal('RangeIsolated'),
  data: t.type({ range: RangeId }),
})

/** free_all_isolated_pages: a captured page is given a reference again, to be __free_page'd. */
export const IsolatedPageReleased = t.type({
  type: t.literal('IsolatedPageReleased'),
  data: t.type({ range: RangeId, zone: ZoneIdx, pfn: Pfn }),
})

/**
 * __offline_isolated_pages (migratetype) or unuse_all_isolated_pages (list): every free page of
 * [pfn, pfn + pages) leaves the allocator, PageReserved; managed pages drop by `pages`. One event
 * per MAX_ORDER_NR_PAGES chunk of the range, so that each names the frames it covers.
 */
export const PagesOfflined = t.type({
  type: t.literal('PagesOfflined'),
  data: t.type({ range: RangeId, zone: ZoneIdx, pfn: Pfn, pages: intIn(1, 1 << 10) }),
})

/** alloc_contig_range's isolate_freepages_range: every free block of the chunk is taken, as allocated blocks (one event per MAX_ORDER_NR_PAGES chunk). */
export const ContigRangeTaken = t.type({
  type: t.literal('ContigRangeTaken'),
  data: t.type({ range: RangeId, zone: ZoneIdx, pfn: Pfn, pages: intIn(1, 1 << 10) }),
})

/**
 * The range's isolation is over: offlined, allocated (alloc_contig_range) or undone after a
 * failure with its errno; for the list design, detach_isolation_info_zone.
 */
export const IsolationEnded = t.type({
  type: t.literal('IsolationEnded'),
  data: t.type({
    range: RangeId,
    outcome: oneOf(['offlined', 'allocated', 'undone'] as const),
    errno: t.union([oneOf(ISOLATION_ERRNOS), t.null]),
    reason: t.string,
  }),
})

export type IsolationEventType =
  | 'IsolationRegistered'
  | 'IsolationRefused'
  | 'PageblockIsolated'
  | 'PageblockUnisolated'
  | 'PageCaptured'
  | 'PageMigrated'
  | 'RangeIsolated'
  | 'IsolatedPageReleased'
  | 'PagesOfflined'
  | 'ContigRangeTaken'
  | 'IsolationEnded'
