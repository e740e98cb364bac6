// The allocation side of mm/page_alloc.c (v4.13): __alloc_pages_nodemask's fast and slow
// paths, rmqueue with its per-cpu fast path, __rmqueue with fallback and pageblock stealing.
import { type EventData } from '../../events'
import { MIGRATE_PCPTYPES } from '../../events/codecs'
import { NIL, pcpCountIdx, pcpListIdx, pageblockMigratetype } from '../../projections/zone/state'
import { assert } from '../../lib'
import type { Kernel } from '../kernel'
import { point, type Cpu, type Path } from '../sim/cpu'
import { siteAt } from '../sim/decisions'
import { local_irq_disable, local_irq_enable, spin_lock, spin_unlock } from '../sim/sync'
import { choose_fallback, isHighatomic, pageblock_counts, rmqueue_smallest, zone_watermark_ok } from './buddy'
import { arch_alloc_page } from './hinting/essa'
import { drain_all_pages } from './page_free'
import { PAGE_ALLOC_COSTLY_ORDER, should_reclaim_retry, type RetryState } from './reclaim_retry'

const AT_ALLOC_PAGES = siteAt('__alloc_pages', 'zone')

export type Watermark = 'min' | 'low' | 'high'

export interface AllocRequest {
  readonly order: number
  readonly mt: number
  /** The highest zone the request may use (GFP_DMA32 and the like); lower zones are fallbacks. */
  readonly highestZone: number
  readonly tag?: string
}

/** Try to reclaim memory for an allocation; returns pages reclaimed (try_to_free_pages). */
export type Reclaimer = (k: Kernel, cpu: Cpu, req: AllocRequest) => Path<number>

/**
 * Rounds of the slow path before mmsim gives the allocation up although reclaim keeps making
 * progress (v4.13 would loop on, then call the OOM killer, which is not modelled).
 */
const SLOWPATH_ROUNDS_MAX = 1 << 10

/**
 * steal_suitable_fallback: take the block, and the whole pageblock when allowed and enough of
 * it is free or of a like kind; otherwise move only this block to the requested list.
 */
const steal_suitable_fallback = (k: Kernel, cpu: Cpu, zone: number, pfn: number, order: number, startMt: number, canSteal: boolean): void => {
  const s = k.state.zone
  const oldBlockMt = pageblockMigratetype(s, pfn)
  const single = () => k.emit(cpu, 'FreeBlockMoved', { zone, pfn, order, toMt: startMt })
  if (isHighatomic(oldBlockMt)) return void single()
  if (order >= s.pageblockOrder) {
    // change_pageblock_range: the block covers whole pageblocks; they all become startMt.
    k.emit(cpu, 'PageblockMigratetypeSet', { zone, pfn, pages: 1 << order, mt: startMt })
    return void single()
  }
  if (!canSteal) return void single()
  const { start, freePages, movablePages } = pageblock_counts(s, pfn)
  const alikePages = startMt === 1 ? movablePages : oldBlockMt === 1 ? s.pageblockPages - (freePages + movablePages) : 0
  const claimed = freePages + alikePages >= 1 << (s.pageblockOrder - 1)
  k.emit(cpu, 'FreepagesMoved', { zone, pfn: start, pages: s.pageblockPages, toMt: startMt, claimed, freePages, alikePages })
}

/**
 * __rmqueue: the smallest block of the requested type, else steal from a fallback type and
 * retry. Runs under the zone lock; emits the allocation and returns its pfn, or null.
 */
export const __rmqueue = (k: Kernel, cpu: Cpu, zone: number, order: number, mt: number, pcp: boolean, tag?: string): number | null => {
  const s = k.state.zone
  let found = rmqueue_smallest(s, zone, order, mt)
  if (found === null) {
    const f = choose_fallback(s, zone, order, mt)
    if (f === null) return null
    steal_suitable_fallback(k, cpu, zone, f.pfn, f.order, mt, f.canSteal)
    found = rmqueue_smallest(s, zone, order, mt)
    assert(found !== null, 'after stealing, the requested list has a block')
  }
  const data: EventData<'PageAllocated'> = { zone, pfn: found.pfn, order, mt, fromOrder: found.fromOrder, pcp }
  if (tag !== undefined) data.tag = tag
  k.emit(cpu, 'PageAllocated', data)
  return found.pfn
}

/** rmqueue_bulk: refill an empty pcp list with up to `batch` order-0 pages, in one lock hold. */
const rmqueue_bulk = function* (k: Kernel, cpu: Cpu, zone: number, mt: number): Path<number> {
  const lock = k.zoneLocks[zone]!
  yield* spin_lock(k.sim, cpu, lock)
  const batch = k.state.zone.zones[zone]!.pcpBatch
  let n = 0
  while (n < batch && __rmqueue(k, cpu, zone, 0, mt, true) !== null) n++
  spin_unlock(k.sim, cpu, lock)
  return n
}

/** rmqueue_pcplist: the head of this CPU's pcp list, refilled in bulk when empty. */
const rmqueue_pcplist = function* (k: Kernel, cpu: Cpu, zone: number, mt: number, tag?: string): Path<number | null> {
  const s = k.state.zone
  assert(mt < MIGRATE_PCPTYPES, 'pcp lists hold the three pcp types')
  local_irq_disable(cpu)
  const list = pcpListIdx(s, cpu.id, zone, mt)
  if (s.pcpHead[list] === NIL) yield* rmqueue_bulk(k, cpu, zone, mt)
  const pfn = s.pcpHead[list]!
  if (pfn !== NIL) {
    const data: EventData<'PcpAllocated'> = { zone, pfn, mt }
    if (tag !== undefined) data.tag = tag
    k.emit(cpu, 'PcpAllocated', data)
    arch_alloc_page(k, cpu, pfn, 0)
  }
  local_irq_enable(k.sim, cpu)
  return pfn === NIL ? null : pfn
}

/** rmqueue: order 0 from the pcp lists, larger orders from the buddy lists under the zone lock. */
export const rmqueue = function* (k: Kernel, cpu: Cpu, zone: number, req: AllocRequest): Path<number | null> {
  if (req.order === 0) return yield* rmqueue_pcplist(k, cpu, zone, req.mt, req.tag)
  const lock = k.zoneLocks[zone]!
  local_irq_disable(cpu)
  yield* spin_lock(k.sim, cpu, lock)
  const pfn = __rmqueue(k, cpu, zone, req.order, req.mt, false, req.tag)
  spin_unlock(k.sim, cpu, lock)
  local_irq_enable(k.sim, cpu)
  if (pfn !== null) arch_alloc_page(k, cpu, pfn, req.order)
  return pfn
}

export const watermarkPages = (k: Kernel, zone: number, w: Watermark): number => k.state.zone.zones[zone]!.watermarks[w]

/** get_page_from_freelist: the first zone of the zonelist above the watermark that has a page. */
export const get_page_from_freelist = function* (k: Kernel, cpu: Cpu, req: AllocRequest, w: Watermark): Path<number | null> {
  for (let zone = req.highestZone; zone >= 0; zone--) {
    if (!zone_watermark_ok(k.state.zone, zone, req.order, watermarkPages(k, zone, w), req.highestZone)) continue
    const pfn = yield* rmqueue(k, cpu, zone, req)
    if (pfn !== null) return pfn
  }
  return null
}

/**
 * __alloc_pages_direct_reclaim: reclaim, then try the free lists; if that fails, what reclaim
 * freed may sit on per-cpu lists, which the watermarks do not count: drain them all once (the
 * `drained` flag is local to each call) and try again. Returns the page and whether reclaim
 * made progress.
 */
const __alloc_pages_direct_reclaim = function* (k: Kernel, cpu: Cpu, req: AllocRequest, reclaim: Reclaimer): Path<{ pfn: number | null; progress: boolean }> {
  const reclaimed = yield* reclaim(k, cpu, req)
  if (reclaimed === 0) return { pfn: null, progress: false }
  let drained = false
  for (;;) {
    const pfn = yield* get_page_from_freelist(k, cpu, req, 'min')
    if (pfn !== null || drained) return { pfn, progress: true }
    drained = true
    yield* drain_all_pages(k, cpu)
  }
}

/**
 * __alloc_pages_nodemask: the fast path at the low watermark, then __alloc_pages_slowpath at
 * min: a try, direct reclaim, and should_reclaim_retry deciding whether to go round again.
 * Costly orders give up after one round (no __GFP_REPEAT); there is no OOM killer.
 */
export const __alloc_pages = function* (k: Kernel, cpu: Cpu, req: AllocRequest, reclaim: Reclaimer | null): Path<number | null> {
  yield point(cpu, AT_ALLOC_PAGES, req.highestZone)
  const fast = yield* get_page_from_freelist(k, cpu, req, 'low')
  if (fast !== null) return fast
  const retry: RetryState = { noProgressLoops: 0 }
  for (let round = 0; round < SLOWPATH_ROUNDS_MAX; round++) {
    const slow = yield* get_page_from_freelist(k, cpu, req, 'min')
    if (slow !== null) return slow
    if (reclaim === null) break
    const { pfn, progress } = yield* __alloc_pages_direct_reclaim(k, cpu, req, reclaim)
    if (pfn !== null) return pfn
    if (req.order > PAGE_ALLOC_COSTLY_ORDER) break
    if (!(yield* should_reclaim_retry(k, cpu, req, progress, retry))) break
  }
  const failed: EventData<'PageAllocFailed'> = { order: req.order, mt: req.mt }
  if (req.tag !== undefined) failed.tag = req.tag
  k.emit(cpu, 'PageAllocFailed', failed)
  return null
}

export const pcpCount = (k: Kernel, cpu: Cpu, zone: number): number => k.state.zone.pcpCount[pcpCountIdx(k.state.zone, cpu.id, zone)]!
