// alloc_contig_range (mm/page_alloc.c, v4.13): the other range isolator, used by CMA and by
// gigantic hugetlb pages. It isolates a MAX_ORDER-aligned range, migrates what is in use, checks
// the range is free, takes every free block (isolate_freepages_range) and undoes the isolation.
// Two of them, or one beside a hot-remove, on overlapping ranges are Kravetz 2018's race.
import type { IsolationErrno, Isolator } from '../../events/isolation'
import { zoneOf } from '../../projections/zone/state'
import type { Kernel } from '../kernel'
import type { Cpu, Path } from '../sim/cpu'
import { spin_lock_irqsave, spin_unlock_irqrestore } from '../sim/sync'
import { MAX_ORDER_NR_PAGES, freeBlocksIn, maxOrderChunks } from './isolation_list'
import { isolate_range, migrate_range, type OfflineLimits } from './memory_hotplug'
import { drain_all_pages } from './page_free'
import { test_pages_isolated } from './page_isolation'

export type ContigResult =
  | { readonly _tag: 'allocated'; readonly range: number; readonly blocks: { pfn: number; order: number }[] }
  | { readonly _tag: 'failed'; readonly range: number | null; readonly errno: IsolationErrno; readonly reason: string }

export const alloc_contig_range = function* (k: Kernel, cpu: Cpu, start: number, end: number, by: Isolator, limits: OfflineLimits): Path<ContigResult> {
  if (k.isolation.isolation === 'list') {
    const reason = 'alloc_contig_range isolates by MIGRATE_ISOLATE: the 2007 patch’s isolation list serves memory hot-remove only'
    k.emit(cpu, 'IsolationRefused', { startPfn: start, endPfn: end, by, errno: 'EINVAL', reason })
    return { _tag: 'failed', range: null, errno: 'EINVAL', reason }
  }
  const iso = yield* isolate_range(k, cpu, start, end, by, MAX_ORDER_NR_PAGES)
  if ('errno' in iso) return { _tag: 'failed', range: null, errno: iso.errno, reason: iso.reason }
  const zone = zoneOf(k.state.zone, start)
  const fail = function* (errno: IsolationErrno, reason: string): Path<ContigResult> {
    yield* iso.undo(errno, reason)
    return { _tag: 'failed', range: iso.range, errno, reason }
  }
  if (iso.failed !== null) return yield* fail(iso.failed.errno, iso.failed.reason)
  k.emit(cpu, 'RangeIsolated', { range: iso.range })
  // __alloc_contig_migrate_range gives up with -EBUSY where offline_pages says -EAGAIN.
  const migrated = yield* migrate_range(k, cpu, iso.range, zone, start, end, limits)
  if (migrated !== null) return yield* fail('EBUSY', migrated.reason)
  yield* drain_all_pages(k, cpu)
  const lock = k.zoneLocks[zone]!
  yield* spin_lock_irqsave(k.sim, cpu, lock)
  const notIsolated = test_pages_isolated(k.state.zone, start, end)
  const blocks = notIsolated === null ? freeBlocksIn(k.state.zone, start, end) : []
  if (notIsolated === null) for (const c of maxOrderChunks(start, end)) k.emit(cpu, 'ContigRangeTaken', { range: iso.range, zone, pfn: c.pfn, pages: c.pages })
  spin_unlock_irqrestore(k.sim, cpu, lock)
  if (notIsolated !== null) return yield* fail('EBUSY', `frame ${notIsolated} is not free after the drain (test_pages_isolated)`)
  // undo_isolate_page_range: the pageblocks go back to MIGRATE_MOVABLE; the taken pages stay allocated.
  yield* iso.undo(null, `${end - start} pages allocated`, 'allocated')
  return { _tag: 'allocated', range: iso.range, blocks }
}
