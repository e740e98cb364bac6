// should_reclaim_retry (mm/page_alloc.c, v4.13): whether the allocation slow path goes round
// again after direct reclaim failed to give it a page, or gives up.
import { PG_dirty, PG_writeback } from '../../projections/pages/state'
import { zoneOf } from '../../projections/zone/state'
import type { Kernel } from '../kernel'
import { point, type Cpu, type Path } from '../sim/cpu'
import { siteAt } from '../sim/decisions'
import { sleep } from '../sim/sync'
import { zone_watermark_ok } from './buddy'
import type { AllocRequest } from './page_alloc'

const AT_COND_RESCHED = siteAt('should_reclaim_retry', 'none')

/** MAX_RECLAIM_RETRIES: rounds in a row without reclaim progress before the slow path gives up. */
export const MAX_RECLAIM_RETRIES = 16

/** PAGE_ALLOC_COSTLY_ORDER: above it, reclaim progress does not reset the no-progress count. */
export const PAGE_ALLOC_COSTLY_ORDER = 3

/** congestion_wait(BLK_RW_ASYNC, HZ/10): a tenth of a second. */
const CONGESTION_WAIT_NS = 100_000_000

/**
 * zone_reclaimable_pages (the file LRU: reclaim here has no anonymous swap) and
 * NR_ZONE_WRITE_PENDING (dirty or under writeback), counted over the page cache.
 */
const zoneFilePages = (k: Kernel, zone: number): { reclaimable: number; writePending: number } => {
  let reclaimable = 0
  let writePending = 0
  if (k.state.pages === null) return { reclaimable, writePending }
  const p = k.state.pages
  for (const pfn of p.cache.values()) {
    if (zoneOf(k.state.zone, pfn) !== zone) continue
    reclaimable++
    if ((p.flags[pfn]! & (PG_dirty | PG_writeback)) !== 0) writePending++
  }
  return { reclaimable, writePending }
}

/** The slow path's no-progress count, carried across its rounds (no_progress_loops). */
export interface RetryState {
  noProgressLoops: number
}

/**
 * should_reclaim_retry: progress (for orders up to PAGE_ALLOC_COSTLY_ORDER) resets the count,
 * anything else adds one; past MAX_RECLAIM_RETRIES the slow path gives up (the highatomic
 * reserve unreserved first is not modelled: nothing reserves one). Otherwise it goes round again
 * while some allowed zone would pass its min watermark with its free pages plus the reclaimable
 * pages not yet written off (each no-progress round writes off a sixteenth), after waiting for
 * I/O when reclaim made no progress and most of what it could reclaim is still being written.
 */
export const should_reclaim_retry = function* (k: Kernel, cpu: Cpu, req: AllocRequest, didSomeProgress: boolean, r: RetryState): Path<boolean> {
  if (didSomeProgress && req.order <= PAGE_ALLOC_COSTLY_ORDER) r.noProgressLoops = 0
  else r.noProgressLoops++
  if (r.noProgressLoops > MAX_RECLAIM_RETRIES) return false
  const s = k.state.zone
  for (let zone = req.highestZone; zone >= 0; zone--) {
    const { reclaimable, writePending } = zoneFilePages(k, zone)
    const available = reclaimable - Math.ceil((r.noProgressLoops * reclaimable) / MAX_RECLAIM_RETRIES) + s.zones[zone]!.nrFreePages
    if (!zone_watermark_ok(s, zone, req.order, s.zones[zone]!.watermarks.min, req.highestZone, available)) continue
    if (!didSomeProgress && 2 * writePending > reclaimable) {
      yield* sleep(k.sim, cpu, CONGESTION_WAIT_NS, 'congestion_wait(BLK_RW_ASYNC, HZ/10)')
      return true
    }
    yield point(cpu, AT_COND_RESCHED, 0) // cond_resched
    return true
  }
  return false
}
