// Direct reclaim (mm/vmscan.c, 2.6 era, with GPH06 8/9): try_to_free_pages, on each priority
// pass, first collects the discarded-page lists (page_shrink_discards), then reclaims clean
// page cache pages from the cold end of the LRU.
import type { Kernel } from '../kernel'
import type { Cpu, Path } from '../sim/cpu'
import { invalidate_page } from './filemap'
import { page_shrink_discards } from './hinting/discard'
import type { AllocRequest } from './page_alloc'

export const DEF_PRIORITY = 12
export const SWAP_CLUSTER_MAX = 32

/** shrink_zones, reduced to the page cache LRU: evict up to `target` idle clean pages, oldest first. */
const shrink_page_cache = function* (k: Kernel, cpu: Cpu, priority: number, target: number): Path<number> {
  if (k.state.pages === null) return 0
  const cache = k.pages.cache
  // The LRU, oldest first: the page cache in the order pages were added.
  const scan = Math.max(SWAP_CLUSTER_MAX, cache.size >> priority)
  const candidates: { file: number; index: number }[] = []
  for (const pfn of cache.values()) {
    if (candidates.length >= scan) break
    candidates.push({ file: k.pages.file[pfn]!, index: k.pages.index[pfn]! })
  }
  let reclaimed = 0
  for (const c of candidates) {
    if (reclaimed >= target) break
    if (yield* invalidate_page(k, cpu, c.file, c.index)) reclaimed++
  }
  return reclaimed
}

/**
 * try_to_free_pages: priority passes until SWAP_CLUSTER_MAX pages are reclaimed or priority 0.
 * Anonymous pages are not aged here: with no swap space get_scan_count scans only file pages,
 * and shrink_zone rebalances the anonymous lists only `if (inactive_anon_is_low(zone, sc) &&
 * nr_swap_pages > 0)`; mmsim models no swap device. The `rmap` workload op ages anonymous pages
 * as shrink_active_list would (rmap.ts: shrink_active_list).
 */
export const try_to_free_pages = function* (k: Kernel, cpu: Cpu, _req: AllocRequest | null): Path<number> {
  let discards = 0
  let cache = 0
  let passes = 0
  for (let priority = DEF_PRIORITY; priority >= 0; priority--) {
    passes++
    discards += yield* page_shrink_discards(k, cpu, priority)
    cache += yield* shrink_page_cache(k, cpu, priority, SWAP_CLUSTER_MAX - discards - cache)
    if (discards + cache >= SWAP_CLUSTER_MAX) break
  }
  k.emit(cpu, 'ReclaimRan', { discards, cache, passes })
  return discards + cache
}
