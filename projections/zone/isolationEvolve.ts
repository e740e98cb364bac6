// Page isolation as the zone sees it (mm/page_isolation.c, the 2007 patch): pageblocks going
// ISOLATE and back with their free pages, pages captured off the way to free_area[], ranges
// offlined or taken by alloc_contig_range. Counts change as the kernel changes them, not as they
// should be: a block isolated twice (v4.13 without 2c7452a075d4) counts twice, so the races the
// variants switch on leave the miscounts the invariants look for.
import type { EventOf } from '../../events'
import { MIGRATE_ISOLATE, MIGRATE_MOVABLE } from '../../events/codecs'
import { assert } from '../../lib'
import { addFreeBlock, delFreeBlock, freepageDelta, leavePcp, leaveUser, markFrames } from './blocks'
import { FRAME_ABSENT, FRAME_ALLOCATED, FRAME_BUDDY, FRAME_CAPTURED, type ZoneState } from './state'

/** move_freepages: every free block whose head lies in [pfn, pfn + pages) moves to the head of free_list[toMt]. */
const moveFreepages = (s: ZoneState, zone: number, pfn: number, pages: number, toMt: number): void => {
  for (let p = pfn; p < pfn + pages;) {
    const order = s.freeOrder[p]!
    if (s.frame[p] !== FRAME_BUDDY || order < 0) {
      p++
      continue
    }
    delFreeBlock(s, zone, p, order, 'move')
    addFreeBlock(s, zone, p, order, toMt, false)
    p += 1 << order
  }
}

/** set_migratetype_isolate's success: the kernel increments and subtracts whatever the block was. */
const pageblockIsolated = (s: ZoneState, e: EventOf<'PageblockIsolated'>): void => {
  const { zone, pfn, pages, fromMt, freePages } = e.data
  const z = s.zones[zone]!
  s.pageblockMt[pfn >> s.pageblockOrder] = MIGRATE_ISOLATE
  z.nrIsolatePageblock++
  moveFreepages(s, zone, pfn, pages, MIGRATE_ISOLATE)
  // __mod_zone_freepage_state(zone, -nr_pages, migratetype): no change when it already was ISOLATE.
  z.nrFreePages -= freepageDelta(fromMt, freePages)
}

const pageblockUnisolated = (s: ZoneState, e: EventOf<'PageblockUnisolated'>): void => {
  const { zone, pfn, pages, toMt, freePages } = e.data
  const z = s.zones[zone]!
  moveFreepages(s, zone, pfn, pages, toMt)
  z.nrFreePages += freepageDelta(toMt, freePages)
  s.pageblockMt[pfn >> s.pageblockOrder] = toMt
  z.nrIsolatePageblock--
}

const pageCaptured = (s: ZoneState, e: EventOf<'PageCaptured'>): void => {
  const { zone, pfn, order, from } = e.data
  const z = s.zones[zone]!
  const pages = 1 << order
  if (from === 'page') leaveUser(s, zone, pfn, order)
  else if (from === 'pcp') leavePcp(s, e.cpu, zone, pfn)
  else {
    assert(s.frame[pfn] === FRAME_BUDDY, 'a block pulled off free_area[] was free')
    const mt = delFreeBlock(s, zone, pfn, order)
    z.buddyPages -= pages
    z.nrFreePages -= freepageDelta(mt, pages)
  }
  markFrames(s, pfn, pages, FRAME_CAPTURED)
  z.capturedPages += pages
}

/** free_all_isolated_pages: set_page_refcounted, as if a user held the page, before __free_page. */
const isolatedPageReleased = (s: ZoneState, e: EventOf<'IsolatedPageReleased'>): void => {
  const { zone, pfn } = e.data
  assert(s.frame[pfn] === FRAME_CAPTURED, 'a released page was captured')
  const z = s.zones[zone]!
  s.frame[pfn] = FRAME_ALLOCATED
  s.allocOrder[pfn] = 0
  s.allocMt[pfn] = MIGRATE_MOVABLE
  z.capturedPages -= 1
  z.allocatedPages += 1
}

/**
 * __offline_isolated_pages / unuse_all_isolated_pages: free blocks leave their lists (NR_FREE_PAGES
 * untouched: the kernel assumes they were on ISOLATE lists), captured pages leave their list;
 * every frame becomes absent (PageReserved) and managed pages drop.
 */
const pagesOfflined = (s: ZoneState, e: EventOf<'PagesOfflined'>): void => {
  const { zone, pfn, pages } = e.data
  const z = s.zones[zone]!
  for (let p = pfn; p < pfn + pages;) {
    const f = s.frame[p]
    if (f === FRAME_BUDDY) {
      const order = s.freeOrder[p]!
      assert(order >= 0, `offlined frame ${p} is the head of a free block`)
      delFreeBlock(s, zone, p, order)
      z.buddyPages -= 1 << order
      p += 1 << order
      continue
    }
    assert(f === FRAME_CAPTURED, `offlined frame ${p} is free or captured`)
    z.capturedPages -= 1
    p++
  }
  markFrames(s, pfn, pages, FRAME_ABSENT)
  z.managed -= pages
}

/** isolate_freepages_range: each free block of the range is taken as an allocated block of its order. */
const contigRangeTaken = (s: ZoneState, e: EventOf<'ContigRangeTaken'>): void => {
  const { zone, pfn, pages } = e.data
  const z = s.zones[zone]!
  for (let p = pfn; p < pfn + pages;) {
    const order = s.freeOrder[p]!
    assert(s.frame[p] === FRAME_BUDDY && order >= 0, `frame ${p} of a taken range is the head of a free block`)
    const mt = delFreeBlock(s, zone, p, order, 'alloc')
    const n = 1 << order
    z.buddyPages -= n
    z.nrFreePages -= freepageDelta(mt, n)
    markFrames(s, p, n, FRAME_ALLOCATED)
    s.allocOrder[p] = order
    s.allocMt[p] = MIGRATE_MOVABLE
    for (let q = p; q < p + n; q++) s.gen[q]!++
    z.allocatedPages += n
    p += n
  }
}

export const isolationEvolvers = {
  PageblockIsolated: pageblockIsolated,
  PageblockUnisolated: pageblockUnisolated,
  PageCaptured: pageCaptured,
  IsolatedPageReleased: isolatedPageReleased,
  PagesOfflined: pagesOfflined,
  ContigRangeTaken: contigRangeTaken,
} as const
