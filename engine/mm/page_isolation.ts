// mm/page_isolation.c (v4.13 plus the fixes the variants switch): MIGRATE_ISOLATE pageblocks,
// the review's design. A pageblock becomes ISOLATE under the zone lock, its free pages move to the
// ISOLATE lists (which are absent from fallbacks[], so nothing allocates from them) and leave
// NR_FREE_PAGES; every page freed into it afterwards lands there too.
import type { IsolationErrno } from '../../events/isolation'
import { MAX_ORDER, MIGRATE_ISOLATE, MIGRATE_MOVABLE } from '../../events/codecs'
import { FRAME_ALLOCATED, FRAME_BUDDY, pageblockMigratetype, zoneOf, type ZoneState } from '../../projections/zone/state'
import { PG_lru } from '../../projections/pages/state'
import type { Kernel } from '../kernel'
import { point, type Cpu, type Path } from '../sim/cpu'
import { siteAt } from '../sim/decisions'
import { spin_lock_irqsave, spin_unlock_irqrestore } from '../sim/sync'
import { __free_pages, drain_all_pages } from './page_free'

const AT_SET_MIGRATETYPE_ISOLATE = siteAt('set_migratetype_isolate', 'zone')
const AT_ISOLATE_RANGE = siteAt('isolate_range', 'zone')

/** move_freepages_block's count: the pages of the free blocks whose heads lie in the pageblock at `pfn`. */
export const pageblock_free_pages = (s: ZoneState, pfn: number): number => {
  let n = 0
  for (let p = pfn; p < pfn + s.pageblockPages;) {
    const order = s.freeOrder[p]!
    if (s.frame[p] === FRAME_BUDDY && order >= 0) {
      n += 1 << order
      p += 1 << order
    } else p++
  }
  return n
}

/** PageLRU as mmsim knows it: an anonymous page on the anonymous LRU, or a page cache page with PG_lru. */
export const PageLRU = (k: Kernel, pfn: number): boolean => k.state.anonVma.lru.has(pfn) || (k.state.pages !== null && (k.state.pages.flags[pfn]! & PG_lru) !== 0)

/**
 * has_unmovable_pages (v4.13): in ZONE_MOVABLE nothing counts; elsewhere every page in use that is
 * not on an LRU (an order-0 LRU page can be migrated) makes the block unmovable. Free pages,
 * per-CPU pages and pages on discarded-page lists have no reference and are skipped. Returns the
 * first unmovable pfn, or null.
 */
export const has_unmovable_pages = (k: Kernel, zone: number, pfn: number): number | null => {
  const s = k.state.zone
  if (s.zones[zone]!.name === 'Movable') return null
  for (let p = pfn; p < pfn + s.pageblockPages;) {
    if (s.frame[p] === FRAME_BUDDY && s.freeOrder[p]! >= 0) {
      p += 1 << s.freeOrder[p]!
      continue
    }
    if (s.frame[p] === FRAME_ALLOCATED && s.allocOrder[p]! >= 0) {
      if (s.allocOrder[p] !== 0 || !PageLRU(k, p)) return p
      p += 1 << s.allocOrder[p]!
      continue
    }
    p++
  }
  return null
}

/**
 * set_migratetype_isolate: under the zone lock, refuse a block with unmovable pages (or, with
 * 2c7452a075d4, one already ISOLATE), else set ISOLATE and move its free pages; then drain the
 * per-CPU lists so that pages freed there before the change reach the ISOLATE lists.
 */
export const set_migratetype_isolate = function* (k: Kernel, cpu: Cpu, range: number, zone: number, pfn: number): Path<{ errno: IsolationErrno; reason: string } | null> {
  const s = k.state.zone
  const lock = k.zoneLocks[zone]!
  yield* spin_lock_irqsave(k.sim, cpu, lock)
  // has_unmovable_pages walks the pageblock with the lock held: others wait for the zone here.
  yield point(cpu, AT_SET_MIGRATETYPE_ISOLATE, zone)
  const mt = pageblockMigratetype(s, pfn)
  let refused: string | null = null
  if (mt === MIGRATE_ISOLATE && k.isolation.isolateRecheck === 'on') refused = `pageblock ${pfn} is already MIGRATE_ISOLATE (another isolator holds it)`
  else {
    const bad = has_unmovable_pages(k, zone, pfn)
    if (bad !== null) refused = `pageblock ${pfn} has an unmovable page at ${bad}`
  }
  if (refused === null) k.emit(cpu, 'PageblockIsolated', { range, zone, pfn, pages: s.pageblockPages, fromMt: mt, freePages: pageblock_free_pages(s, pfn) })
  spin_unlock_irqrestore(k.sim, cpu, lock)
  if (refused !== null) return { errno: 'EBUSY', reason: refused }
  yield* drain_all_pages(k, cpu)
  return null
}

/**
 * unset_migratetype_isolate: a block that is ISOLATE gets its free pages back on free_list[mt] and
 * becomes mt. The special case: a free block of pageblock_order or more at its start whose buddy
 * lies in a pageblock that is not isolated could not merge with it (__free_one_page refuses across
 * ISOLATE); it is taken off (__isolate_free_page) and freed again after the change, so it merges.
 */
export const unset_migratetype_isolate = function* (k: Kernel, cpu: Cpu, range: number, zone: number, pfn: number, mt: number): Path {
  const s = k.state.zone
  const lock = k.zoneLocks[zone]!
  yield* spin_lock_irqsave(k.sim, cpu, lock)
  let refree: number | null = null
  if (pageblockMigratetype(s, pfn) === MIGRATE_ISOLATE) {
    const order = s.frame[pfn] === FRAME_BUDDY ? s.freeOrder[pfn]! : -1
    const buddy = pfn ^ (1 << Math.max(order, 0))
    if (order >= s.pageblockOrder && order < MAX_ORDER - 1 && zoneOf(s, buddy) === zone && pageblockMigratetype(s, buddy) !== MIGRATE_ISOLATE) {
      k.emit(cpu, 'ContigRangeTaken', { range, zone, pfn, pages: 1 << order })
      refree = order
    }
    k.emit(cpu, 'PageblockUnisolated', { range, zone, pfn, pages: s.pageblockPages, toMt: mt, freePages: pageblock_free_pages(s, pfn) })
  }
  spin_unlock_irqrestore(k.sim, cpu, lock)
  if (refree !== null) yield* __free_pages(k, cpu, pfn, refree, false)
}

/**
 * start_isolate_page_range: isolate each pageblock of [start, end); on the first refusal undo the
 * blocks this call isolated, [start, failed), and return -EBUSY.
 */
export const start_isolate_page_range = function* (
  k: Kernel,
  cpu: Cpu,
  range: number,
  zone: number,
  start: number,
  end: number,
): Path<{ errno: IsolationErrno; reason: string } | null> {
  const step = k.state.zone.pageblockPages
  for (let pfn = start; pfn < end; pfn += step) {
    const failed = yield* set_migratetype_isolate(k, cpu, range, zone, pfn)
    if (failed === null) {
      yield point(cpu, AT_ISOLATE_RANGE, zone)
      continue
    }
    for (let undo = start; undo < pfn; undo += step) yield* unset_migratetype_isolate(k, cpu, range, zone, undo, MIGRATE_MOVABLE)
    return failed
  }
  return null
}

/** undo_isolate_page_range: every ISOLATE pageblock of the range back to `mt`. Always succeeds. */
export const undo_isolate_page_range = function* (k: Kernel, cpu: Cpu, range: number, zone: number, start: number, end: number, mt = MIGRATE_MOVABLE): Path {
  for (let pfn = start; pfn < end; pfn += k.state.zone.pageblockPages) {
    yield* unset_migratetype_isolate(k, cpu, range, zone, pfn, mt)
    yield point(cpu, AT_ISOLATE_RANGE, zone)
  }
}

/**
 * test_pages_isolated: every pageblock ISOLATE and every page a free block (skipping 2^order);
 * per-CPU pages, pages in use and pages on discarded-page lists fail it. The first frame that
 * fails, or null.
 */
export const test_pages_isolated = (s: ZoneState, start: number, end: number): number | null => {
  for (let pfn = start; pfn < end; pfn += s.pageblockPages) if (pageblockMigratetype(s, pfn) !== MIGRATE_ISOLATE) return pfn
  for (let p = start; p < end;) {
    if (s.frame[p] !== FRAME_BUDDY || s.freeOrder[p]! < 0) return p
    p += 1 << s.freeOrder[p]!
  }
  return null
}
