// mm/migrate.c as memory hot-remove uses it (do_migrate_range -> migrate_pages): a page in use
// inside an isolated range moves to a new frame the allocator gives (outside the range, since
// its pageblocks are ISOLATE or its pages captured): allocated, copied, its page cache slot and
// every pte repointed (the rmap walk of remove_migration_ptes), and the old frame freed, which
// puts it into the isolation.
import { MIGRATE_MOVABLE } from '../../events/codecs'
import { FRAME_ALLOCATED } from '../../projections/zone/state'
import { PG_discarded, PG_locked, PG_writeback } from '../../projections/pages/state'
import type { Kernel } from '../kernel'
import { point, type Cpu, type Path } from '../sim/cpu'
import { siteAt } from '../sim/decisions'
import { __alloc_pages } from './page_alloc'
import { __free_pages } from './page_free'
import { isolate_lru_page, putback_lru_page, rmap_walk_anon } from './rmap'

const AT_MIGRATE_PAGES = siteAt('migrate_pages', 'page')

/** What migrating one page came to: moved, not movable now (try again later), or freed meanwhile. */
export type MigrateResult = 'migrated' | 'busy' | 'gone'

/** A page cache page that can move now: only the cache's reference, unmapped, unused, not locked, under writeback or discarded. */
const cachePageMovable = (k: Kernel, pfn: number): boolean => {
  const p = k.state.pages
  if (p === null || p.file[pfn] === -1) return false
  return p.refcount[pfn] === 1 && p.mapcount[pfn] === 0 && p.uses[pfn] === 0 && (p.flags[pfn]! & (PG_locked | PG_writeback | PG_discarded)) === 0
}

/** alloc_migrate_target / new_node_page: a movable order-0 page of the same zone or below, without reclaim. */
const alloc_migrate_target = (k: Kernel, cpu: Cpu, zone: number): Path<number | null> => __alloc_pages(k, cpu, { order: 0, mt: MIGRATE_MOVABLE, highestZone: zone }, null)

/** An anonymous page: isolated from the LRU so that it stays allocated, then moved if still mapped. */
const migrate_anon_page = function* (k: Kernel, cpu: Cpu, range: number, zone: number, pfn: number): Path<MigrateResult> {
  if (!isolate_lru_page(k, cpu, pfn)) return 'busy'
  const to = yield* alloc_migrate_target(k, cpu, zone)
  const a = k.state.anonVma
  if (to === null || a.mapcount[pfn] === 0 || (k.state.pages !== null && k.state.pages.uses[pfn] !== 0)) {
    if (to !== null) yield* __free_pages(k, cpu, to, 0, false)
    // Unmapped meanwhile, the putback frees it (into the isolation); otherwise it is busy.
    const gone = a.mapcount[pfn] === 0
    yield* putback_lru_page(k, cpu, pfn)
    return gone ? 'gone' : 'busy'
  }
  // try_to_unmap's migration entries, the copy and the new ptes, under the page lock: one step.
  k.emit(cpu, 'PageMigrated', { range, zone, from: pfn, to })
  yield* rmap_walk_anon(k, cpu, to, 'rmap_walk')
  yield* __free_pages(k, cpu, pfn, 0, true)
  return 'migrated'
}

/** A page cache page: the new page takes its slot (migrate_page_move_mapping), the old is freed. */
const migrate_cache_page = function* (k: Kernel, cpu: Cpu, range: number, zone: number, pfn: number): Path<MigrateResult> {
  if (!cachePageMovable(k, pfn)) return 'busy'
  const to = yield* alloc_migrate_target(k, cpu, zone)
  if (to === null) return 'busy'
  // The allocation may have slept: the page may have been dropped, locked or mapped since.
  if (!cachePageMovable(k, pfn)) {
    yield* __free_pages(k, cpu, to, 0, false)
    return k.state.zone.frame[pfn] === FRAME_ALLOCATED && k.state.pages!.file[pfn] !== -1 ? 'busy' : 'gone'
  }
  k.emit(cpu, 'PageMigrated', { range, zone, from: pfn, to })
  yield* __free_pages(k, cpu, pfn, 0, true)
  return 'migrated'
}

/** Migrates the page at `pfn` out of `range`, if it is an LRU page that can move now. */
export const migrate_page_out = function* (k: Kernel, cpu: Cpu, range: number, zone: number, pfn: number): Path<MigrateResult> {
  yield point(cpu, AT_MIGRATE_PAGES, pfn)
  const s = k.state.zone
  if (s.frame[pfn] !== FRAME_ALLOCATED || s.allocOrder[pfn] !== 0) return 'gone'
  if (k.state.anonVma.lru.has(pfn)) return yield* migrate_anon_page(k, cpu, range, zone, pfn)
  return yield* migrate_cache_page(k, cpu, range, zone, pfn)
}
