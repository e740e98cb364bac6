// offline_pages (mm/memory_hotplug.c, v4.13) in both designs: isolate the range, migrate the
// pages in use that can move, wait until every page is isolated, then offline it; or fail with
// the kernel's errno and undo, leaving the zone's accounting as it was. The isolation itself is
// mainline's MIGRATE_ISOLATE (page_isolation.ts) or the 2007 patch's list (isolation_list.ts).
import type { IsolationErrno, Isolator } from '../../events/isolation'
import { FRAME_ALLOCATED, zoneOf, type ZoneState } from '../../projections/zone/state'
import type { Kernel } from '../kernel'
import { point, type Cpu, type Path } from '../sim/cpu'
import { siteAt } from '../sim/decisions'
import { sleep, spin_lock_irqsave, spin_unlock_irqrestore } from '../sim/sync'
import {
  maxOrderChunks,
  check_isolation_range,
  free_all_isolated_pages,
  isolate_free_area_pages,
  range_isolated_on_list,
  register_isolation,
  MAX_ORDER_NR_PAGES,
  type Refusal,
} from './isolation_list'
import { migrate_page_out } from './migrate'
import { drain_all_pages } from './page_free'
import { PageLRU, start_isolate_page_range, test_pages_isolated, undo_isolate_page_range } from './page_isolation'

const AT_OFFLINE_PAGES = siteAt('offline_pages', 'zone')

/** do_migrate_range's batch: NR_OFFLINE_AT_ONCE_PAGES in v4.13. */
export const MIGRATE_BATCH_PAGES = 256

export interface OfflineLimits {
  /** The migrate loop gives up with -EAGAIN after this many rounds that left a page unmoved. */
  readonly retryMax: number
  /** ... or once this much simulated time has passed since the start (the kernel's 120 s, scaled). */
  readonly timeoutNs: number
  /** How long the loop waits before it retries (the kernel's yield and lru_add_drain_all). */
  readonly retryWaitNs: number
}

export type OfflineResult =
  { readonly _tag: 'offlined'; readonly range: number } | { readonly _tag: 'failed'; readonly range: number | null; readonly errno: IsolationErrno; readonly reason: string }

/** scan_movable_pages: the LRU pages in use inside the range, at most a batch of them. */
const scan_movable_pages = (k: Kernel, s: ZoneState, start: number, end: number): number[] => {
  const out: number[] = []
  for (let p = start; p < end && out.length < MIGRATE_BATCH_PAGES; p++) if (s.frame[p] === FRAME_ALLOCATED && s.allocOrder[p] === 0 && PageLRU(k, p)) out.push(p)
  return out
}

/** The isolation of one range in the run's design: begun, then (on a failure) undone; its id from the registration. */
export interface Isolating {
  readonly range: number
  /** The range is isolated, or the reason it could not be (the registration stays until undo). */
  readonly failed: Refusal | null
  /** Every page isolated: test_pages_isolated, or every frame on the patch's list. The first that is not, or null. */
  readonly test: () => number | null
  /** Ends the isolation: undone after a failure (with its errno), or after alloc_contig_range took the pages. */
  undo(errno: IsolationErrno | null, reason: string, outcome?: 'undone' | 'allocated'): Path
}

const begin = function* (k: Kernel, cpu: Cpu, start: number, end: number, by: Isolator): Path<Isolating | Refusal> {
  const zone = zoneOf(k.state.zone, start)
  if (k.isolation.isolation === 'list') {
    const range = yield* register_isolation(k, cpu, start, end, by)
    if (typeof range !== 'number') return range
    yield* isolate_free_area_pages(k, cpu, range, zone, start, end)
    return {
      range,
      failed: null,
      test: () => range_isolated_on_list(k, range, start, end),
      undo: function* (errno, reason, outcome = 'undone') {
        // detach_isolation_info_zone, then free_all_isolated_pages.
        k.emit(cpu, 'IsolationEnded', { range, outcome, errno, reason })
        yield* free_all_isolated_pages(k, cpu, range, zone, start, end)
      },
    }
  }
  const range = k.state.isolation.ranges.size
  k.emit(cpu, 'IsolationRegistered', { range, zone, startPfn: start, endPfn: end, design: 'migratetype', by })
  const failed = yield* start_isolate_page_range(k, cpu, range, zone, start, end)
  return {
    range,
    failed,
    test: () => test_pages_isolated(k.state.zone, start, end),
    undo: function* (errno, reason, outcome = 'undone') {
      // start_isolate_page_range undid its own blocks when it failed; otherwise undo them all.
      if (failed === null) yield* undo_isolate_page_range(k, cpu, range, zone, start, end)
      k.emit(cpu, 'IsolationEnded', { range, outcome, errno, reason })
    },
  }
}

/** Isolates [start, end) for `by` in the run's design, or refuses with -EINVAL / -EBUSY before anything changed. */
export const isolate_range = function* (k: Kernel, cpu: Cpu, start: number, end: number, by: Isolator, alignPages: number): Path<Isolating | Refusal> {
  const bad = check_isolation_range(k, start, end, k.isolation.isolation === 'list' ? MAX_ORDER_NR_PAGES : alignPages)
  const got = bad ?? (yield* begin(k, cpu, start, end, by))
  if ('errno' in got) k.emit(cpu, 'IsolationRefused', { startPfn: start, endPfn: end, by, errno: got.errno, reason: got.reason })
  return got
}

/**
 * The migrate loop of offline_pages: while LRU pages remain in the range, migrate a batch; a
 * round that leaves one unmoved costs a retry and a wait. -EAGAIN when the retries or the time
 * run out; null when no page in use is left to move.
 */
export const migrate_range = function* (k: Kernel, cpu: Cpu, range: number, zone: number, start: number, end: number, limits: OfflineLimits): Path<Refusal | null> {
  const deadline = k.sim.nowNs + limits.timeoutNs
  let retries = limits.retryMax
  for (;;) {
    if (k.sim.nowNs > deadline) return { errno: 'EAGAIN', reason: `pages still in use after ${limits.timeoutNs} ns` }
    const batch = scan_movable_pages(k, k.state.zone, start, end)
    if (batch.length === 0) return null
    let unmoved = 0
    for (const pfn of batch) if ((yield* migrate_page_out(k, cpu, range, zone, pfn)) === 'busy') unmoved++
    if (unmoved === 0) continue
    if (--retries === 0) return { errno: 'EAGAIN', reason: `${unmoved} page(s) could not be migrated in ${limits.retryMax} rounds` }
    yield* sleep(k.sim, cpu, limits.retryWaitNs, 'offline_pages: migration retry')
  }
}

/**
 * offline_pages: -EINVAL for a range that is not aligned or spans zones, -EBUSY when it cannot be
 * isolated, -EAGAIN when its pages cannot be migrated in time, -EBUSY when it is still not wholly
 * isolated after the drain. Every failure after the isolation began undoes it.
 */
export const offline_pages = function* (k: Kernel, cpu: Cpu, start: number, end: number, limits: OfflineLimits): Path<OfflineResult> {
  const iso = yield* isolate_range(k, cpu, start, end, 'hot-remove', k.state.zone.pageblockPages)
  if ('errno' in iso) return { _tag: 'failed', range: null, errno: iso.errno, reason: iso.reason }
  const it = iso
  const zone = zoneOf(k.state.zone, start)
  const fail = function* (errno: IsolationErrno, reason: string): Path<OfflineResult> {
    yield* it.undo(errno, reason)
    return { _tag: 'failed', range: it.range, errno, reason }
  }
  if (it.failed !== null) return yield* fail(it.failed.errno, it.failed.reason)
  k.emit(cpu, 'RangeIsolated', { range: it.range })
  const migrated = yield* migrate_range(k, cpu, it.range, zone, start, end, limits)
  if (migrated !== null) return yield* fail(migrated.errno, migrated.reason)
  // lru_add_drain_all, drain_all_pages, then check_pages_isolated.
  yield point(cpu, AT_OFFLINE_PAGES, zone)
  yield* drain_all_pages(k, cpu)
  const lock = k.zoneLocks[zone]!
  yield* spin_lock_irqsave(k.sim, cpu, lock)
  const notIsolated = it.test()
  if (notIsolated === null) for (const c of maxOrderChunks(start, end)) k.emit(cpu, 'PagesOfflined', { range: it.range, zone, pfn: c.pfn, pages: c.pages })
  spin_unlock_irqrestore(k.sim, cpu, lock)
  if (notIsolated !== null) return yield* fail('EBUSY', `frame ${notIsolated} is not isolated after the drain (test_pages_isolated)`)
  // "reset pagetype flags and makes migrate type to be MOVABLE": the offlined blocks hold no free page to move.
  if (k.isolation.isolation === 'migratetype') yield* undo_isolate_page_range(k, cpu, it.range, zone, start, end)
  k.emit(cpu, 'IsolationEnded', { range: it.range, outcome: 'offlined', errno: null, reason: `${end - start} pages offlined` })
  return { _tag: 'offlined', range: it.range }
}
