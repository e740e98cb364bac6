// The free side of mm/page_alloc.c (v4.13): __free_pages, free_hot_cold_page with its per-cpu
// lists (hot frees at the head, cold at the tail), free_pcppages_bulk and __free_one_page.
import { MIGRATE_ISOLATE, MIGRATE_PCPTYPES } from '../../events/codecs'
import { NIL, pcpCountIdx, pcpListIdx, pageblockMigratetype, zoneOf } from '../../projections/zone/state'
import { assert } from '../../lib'
import type { Kernel } from '../kernel'
import { point, type Cpu, type Path } from '../sim/cpu'
import { siteAt } from '../sim/decisions'
import { local_irq_disable, local_irq_enable, on_each_cpu, spin_lock, spin_unlock } from '../sim/sync'
import { decideFreeOnePage } from './buddy'
import { arch_free_page } from './hinting/essa'
import { PG_discarded } from '../../projections/pages/state'
import { NO_RANGE } from '../../projections/isolation/state'
import { page_under_isolation } from './page_under_isolation'

const AT_FREE_PAGES = siteAt('__free_pages', 'page')

/** __free_one_page: merge with free buddies and put the result on free_list[mt]. */
export const __free_one_page = (k: Kernel, cpu: Cpu, zone: number, pfn: number, order: number, mt: number, from: 'page' | 'pcp' | 'boot', cause?: number): void => {
  // The 2007 patch: page_under_isolation captures a block freed into a registered range.
  if (from !== 'boot') {
    const range = page_under_isolation(k, zone, pfn)
    if (range !== NO_RANGE) return void k.emit(cpu, 'PageCaptured', { range, zone, pfn, order, from }, cause)
  }
  const { merges, tail } = decideFreeOnePage(k.state.zone, zone, pfn, order, mt)
  k.emit(cpu, 'PageFreed', { zone, pfn, order, mt, merges, tail, from }, cause)
  // page_reporting_notify_free / aerator_notify_free with the merged order; the device
  // registers after memblock has freed boot memory, so boot frees never notify.
  if (k.reporting !== null && from !== 'boot') k.reporting.notifyFree(zone, order + merges)
}

/**
 * free_pcppages_bulk: return `count` pages from this CPU's pcp lists, taking the lists in turn
 * from their tails; a list found empty raises the share taken from the next (batch_free).
 */
export const free_pcppages_bulk = (k: Kernel, cpu: Cpu, zone: number, count: number, reason: 'high' | 'drain' | 'cpu-dead', owner: Cpu = cpu): void => {
  const s = k.state.zone
  // Never more than the lists hold (later kernels clamp the same way).
  count = Math.min(count, s.pcpCount[pcpCountIdx(s, owner.id, zone)]!)
  if (count === 0) return
  const cause = k.emit(owner, 'PcpDrained', { zone, count, reason })
  // Joonsoo Kim 2014: re-read the pageblock's type under the lock while the zone has isolated blocks.
  const isolated = k.isolation.freeMtRecheck === 'on' && s.zones[zone]!.nrIsolatePageblock > 0
  let mt = 0
  let batchFree = 0
  while (count > 0) {
    let list: number
    do {
      batchFree++
      if (++mt === MIGRATE_PCPTYPES) mt = 0
      list = pcpListIdx(s, owner.id, zone, mt)
    } while (s.pcpHead[list] === NIL)
    // This is the only non-empty list: free them all.
    if (batchFree === MIGRATE_PCPTYPES) batchFree = count
    do {
      const pfn = s.pcpTail[list]!
      // get_pcppage_migratetype; the pageblock may have been isolated while the page sat on the list.
      // A page collected from a discarded-page list into an isolated pageblock carries the pcp
      // type ISOLATE (v4.13 has a VM_BUG_ON for that): read the block's type as free_one_page would.
      const stale = isolated || (k.isolation.freeMtRecheck === 'on' && s.listMt[pfn] === MIGRATE_ISOLATE)
      const pmt = stale ? pageblockMigratetype(s, pfn) : s.listMt[pfn]!
      __free_one_page(k, owner, zone, pfn, 0, pmt, 'pcp', cause)
    } while (--count > 0 && --batchFree > 0 && s.pcpHead[list] !== NIL)
  }
}

/** free_one_page: a block straight to the buddy lists under the zone lock. */
export const free_one_page = function* (k: Kernel, cpu: Cpu, zone: number, pfn: number, order: number, mt: number): Path {
  const lock = k.zoneLocks[zone]!
  local_irq_disable(cpu)
  yield* spin_lock(k.sim, cpu, lock)
  // Read before the lock, the pageblock may have been isolated since: read it again under it.
  const s = k.state.zone
  // Without the 2014 fix (freeMtRecheck off) the type read before the lock is trusted.
  if (k.isolation.freeMtRecheck === 'on' && (s.zones[zone]!.nrIsolatePageblock > 0 || mt === MIGRATE_ISOLATE)) mt = pageblockMigratetype(s, pfn)
  __free_one_page(k, cpu, zone, pfn, order, mt, 'page')
  spin_unlock(k.sim, cpu, lock)
  local_irq_enable(k.sim, cpu)
}

/**
 * free_hot_cold_page: an order-0 page goes on this CPU's pcp list of its pageblock's type (hot
 * at the head, cold at the tail); isolated pageblocks bypass the lists. v4.13 records the
 * pageblock's type as the page's pcp migratetype (set_pcppage_migratetype) before it files a
 * HIGHATOMIC page on the MOVABLE list, so free_pcppages_bulk gives it back to the HighAtomic
 * free list (PcpFreed's mt is that pcp migratetype). A list above pcp->high gives a batch back.
 */
export const free_hot_cold_page = function* (k: Kernel, cpu: Cpu, pfn: number, cold: boolean): Path {
  const s = k.state.zone
  const zone = zoneOf(s, pfn)
  assert(zone >= 0, `page ${pfn} is in a zone`)
  // GPH06 8/9: a page the host discarded waits on this CPU's list until page_shrink_discards,
  // so that a discard fault still holding its absolute address never meets a reused frame.
  if (k.hinting?.discardList === 'on' && (k.pages.flags[pfn]! & PG_discarded) !== 0) {
    local_irq_disable(cpu)
    k.emit(cpu, 'DiscardQueued', { zone, pfn })
    local_irq_enable(k.sim, cpu)
    return
  }
  arch_free_page(k, cpu, pfn, 0)
  const mt = pageblockMigratetype(s, pfn)
  local_irq_disable(cpu)
  if (mt === MIGRATE_ISOLATE || listBypass(k, zone, pfn)) {
    local_irq_enable(k.sim, cpu)
    return yield* free_one_page(k, cpu, zone, pfn, 0, mt)
  }
  k.emit(cpu, 'PcpFreed', { zone, pfn, mt, cold })
  yield* pcp_trim_to_high(k, cpu, zone)
  local_irq_enable(k.sim, cpu)
}

/** listFreeHot bypass: a page freed into a registered range skips the per-CPU lists, to be captured at once. */
const listBypass = (k: Kernel, zone: number, pfn: number): boolean =>
  k.isolation.isolation === 'list' && k.isolation.listFreeHot === 'bypass' && page_under_isolation(k, zone, pfn) !== NO_RANGE

/** The tail of free_hot_cold_page: a list that reached pcp->high gives pcp->batch pages back to the buddy lists. */
export const pcp_trim_to_high = function* (k: Kernel, cpu: Cpu, zone: number): Path {
  const s = k.state.zone
  const z = s.zones[zone]!
  if (s.pcpCount[pcpCountIdx(s, cpu.id, zone)]! < z.pcpHigh) return
  const lock = k.zoneLocks[zone]!
  yield* spin_lock(k.sim, cpu, lock)
  free_pcppages_bulk(k, cpu, zone, z.pcpBatch, 'high')
  spin_unlock(k.sim, cpu, lock)
}

/** __free_pages: order 0 through the pcp lists, larger blocks straight to the buddy lists. */
export const __free_pages = function* (k: Kernel, cpu: Cpu, pfn: number, order: number, cold: boolean): Path {
  yield point(cpu, AT_FREE_PAGES, pfn)
  if (order === 0) return yield* free_hot_cold_page(k, cpu, pfn, cold)
  const s = k.state.zone
  const zone = zoneOf(s, pfn)
  arch_free_page(k, cpu, pfn, order)
  yield* free_one_page(k, cpu, zone, pfn, order, pageblockMigratetype(s, pfn))
}

/** drain_local_pages / drain_pages: return every page of this CPU's pcp lists. */
export const drain_pages = (k: Kernel, cpu: Cpu, owner: Cpu = cpu, reason: 'drain' | 'cpu-dead' = 'drain'): void => {
  const s = k.state.zone
  for (const z of s.zones) {
    const count = s.pcpCount[pcpCountIdx(s, owner.id, z.idx)]!
    if (count > 0) free_pcppages_bulk(k, cpu, z.idx, count, reason, owner)
  }
}

/** drain_all_pages as 2.6-era kernels did it: on_each_cpu(drain_local_pages). */
export const drain_all_pages = function* (k: Kernel, cpu: Cpu): Path {
  yield* on_each_cpu(k.sim, cpu, k.callFunctionLock, 'drain_all_pages', (target) => drain_pages(k, target))
}
