// Pure decisions of the buddy allocator (mm/page_alloc.c, v4.13): they read zone state and say
// what the kernel would do; the paths in page_alloc.ts and page_free.ts emit the events.
import { MAX_ORDER, MIGRATE_HIGHATOMIC, MIGRATE_ISOLATE, MIGRATE_MOVABLE, MIGRATE_PCPTYPES, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE } from '../../events/codecs'
import { FRAME_ALLOCATED, FRAME_BUDDY, NIL, freeListIdx, nrFreeIdx, zoneOf, type ZoneState } from '../../projections/zone/state'

/** page_is_buddy: the buddy is a free block head of exactly this order in the same zone. */
export const page_is_buddy = (s: ZoneState, zone: number, buddy: number, order: number): boolean =>
  zoneOf(s, buddy) === zone && s.frame[buddy] === FRAME_BUDDY && s.freeOrder[buddy] === order

/** migratetype_is_mergeable's predecessor in v4.13: only MIGRATE_ISOLATE refuses to merge. */
const mergeRefused = (s: ZoneState, mt: number, buddy: number): boolean => {
  const buddyMt = s.pageblockMt[buddy >> s.pageblockOrder]!
  return mt !== buddyMt && (mt === MIGRATE_ISOLATE || buddyMt === MIGRATE_ISOLATE)
}

export interface FreeDecision {
  readonly merges: number
  readonly tail: boolean
}

/**
 * __free_one_page: merge with the buddy while it is free at the same order; at pageblock_order
 * and above, not across an isolated / non-isolated pageblock pair. Then buddy_merge_likely: if
 * the next-order buddy is free, the block goes to the tail so that it is less likely to be used
 * before its buddy is freed too.
 */
export const decideFreeOnePage = (s: ZoneState, zone: number, pfn: number, order: number, mt: number): FreeDecision => {
  let o = order
  let p = pfn
  while (o < MAX_ORDER - 1) {
    const buddy = p ^ (1 << o)
    if (!page_is_buddy(s, zone, buddy, o)) break
    if (o >= s.pageblockOrder && mergeRefused(s, mt, buddy)) break
    p &= buddy
    o++
  }
  let tail = false
  if (o < MAX_ORDER - 2) {
    const buddy = p ^ (1 << o)
    const combined = buddy & p
    const higherBuddy = combined ^ (1 << (o + 1))
    tail = zoneOf(s, buddy) === zone && page_is_buddy(s, zone, higherBuddy, o + 1)
  }
  return { merges: o - order, tail }
}

/** __rmqueue_smallest: the smallest order with a block on free_list[mt]; the list head is taken. */
export const rmqueue_smallest = (s: ZoneState, zone: number, order: number, mt: number): { pfn: number; fromOrder: number } | null => {
  for (let o = order; o < MAX_ORDER; o++) {
    const head = s.freeHead[freeListIdx(zone, o, mt)]!
    if (head !== NIL) return { pfn: head, fromOrder: o }
  }
  return null
}

/** fallbacks[]: where each type may borrow from, in order. ISOLATE and HIGHATOMIC borrow from none. */
export const FALLBACKS: readonly (readonly number[])[] = [
  [MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE], // UNMOVABLE
  [MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE], // MOVABLE
  [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE], // RECLAIMABLE
  [],
  [],
]

/** can_steal_fallback: large blocks, and unmovable / reclaimable requests, take whole pageblocks. */
export const can_steal_fallback = (s: ZoneState, order: number, startMt: number): boolean =>
  order >= s.pageblockOrder ||
  order >= s.pageblockOrder >> 1 || // C integer division: 9 / 2 == 4
  startMt === MIGRATE_RECLAIMABLE ||
  startMt === MIGRATE_UNMOVABLE

/** find_suitable_fallback: the first fallback type with a block at this order. */
export const find_suitable_fallback = (s: ZoneState, zone: number, order: number, startMt: number): { mt: number; canSteal: boolean } | null => {
  if (s.nrFree[nrFreeIdx(zone, order)] === 0) return null
  for (const mt of FALLBACKS[startMt] ?? []) {
    if (s.freeHead[freeListIdx(zone, order, mt)] === NIL) continue
    return { mt, canSteal: can_steal_fallback(s, order, startMt) }
  }
  return null
}

export type FallbackChoice = { readonly pfn: number; readonly order: number; readonly fallbackMt: number; readonly canSteal: boolean }

/**
 * __rmqueue_fallback's search: the largest block of a fallback type, except that a movable
 * request that cannot steal the whole pageblock takes the smallest instead, to avoid splitting
 * large blocks for a page that will not claim them.
 */
export const choose_fallback = (s: ZoneState, zone: number, order: number, startMt: number): FallbackChoice | null => {
  for (let cur = MAX_ORDER - 1; cur >= order; cur--) {
    const f = find_suitable_fallback(s, zone, cur, startMt)
    if (f === null) continue
    if (!f.canSteal && startMt === MIGRATE_MOVABLE && cur > order) {
      for (let small = order; small < MAX_ORDER; small++) {
        const g = find_suitable_fallback(s, zone, small, startMt)
        if (g !== null) return { pfn: s.freeHead[freeListIdx(zone, small, g.mt)]!, order: small, fallbackMt: g.mt, canSteal: g.canSteal }
      }
      return null
    }
    return { pfn: s.freeHead[freeListIdx(zone, cur, f.mt)]!, order: cur, fallbackMt: f.mt, canSteal: f.canSteal }
  }
  return null
}

/**
 * move_freepages_block's counts for the pageblock of `pfn`: free pages that would move, and
 * allocated pages that are movable (the kernel counts PageLRU / __PageMovable pages; mmsim counts
 * pages allocated as MIGRATE_MOVABLE).
 */
export const pageblock_counts = (s: ZoneState, pfn: number): { start: number; freePages: number; movablePages: number } => {
  const start = pfn & ~(s.pageblockPages - 1)
  const end = start + s.pageblockPages
  let freePages = 0
  let movablePages = 0
  for (let p = start; p < end;) {
    if (s.frame[p] === FRAME_BUDDY && s.freeOrder[p]! >= 0) {
      freePages += 1 << s.freeOrder[p]!
      p += 1 << s.freeOrder[p]!
    } else if (s.frame[p] === FRAME_ALLOCATED && s.allocOrder[p]! >= 0) {
      const pages = 1 << s.allocOrder[p]!
      if (s.allocMt[p] === MIGRATE_MOVABLE) movablePages += pages
      p += pages
    } else p++
  }
  return { start, freePages, movablePages }
}

/**
 * __zone_watermark_ok: free pages after this allocation must stay above the mark plus the
 * zone's lowmem_reserve for the request's class zone, and for a
 * high-order request some order >= `order` must have a block on a pcp-type list. `freePages`
 * is NR_FREE_PAGES unless the caller asks about another figure (should_reclaim_retry's).
 */
export const zone_watermark_ok = (s: ZoneState, zone: number, order: number, mark: number, classzone = zone, freePages = s.zones[zone]!.nrFreePages): boolean => {
  const z = s.zones[zone]!
  const free = freePages - ((1 << order) - 1)
  if (free <= mark + (z.lowmemReserve[classzone] ?? 0)) return false
  if (order === 0) return true
  for (let o = order; o < MAX_ORDER; o++) {
    if (s.nrFree[nrFreeIdx(zone, o)] === 0) continue
    for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) if (s.freeHead[freeListIdx(zone, o, mt)] !== NIL) return true
  }
  return false
}

export const isHighatomic = (mt: number): boolean => mt === MIGRATE_HIGHATOMIC
