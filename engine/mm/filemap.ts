// The page cache as guest page hinting needs it (mm/filemap.c, 2.6 era): lookups that make a
// page stable before use, reads, writes, writeback with its page_make_volatile call site, and
// drop_caches. Every page cache page is order 0 and movable.
import { MIGRATE_MOVABLE } from '../../events/codecs'
import { PG_discarded, PG_dirty, PG_locked, PG_writeback, cacheKey } from '../../projections/pages/state'
import { STATE_CODE } from '../../projections/pages/states'
import type { Kernel } from '../kernel'
import { point, type Cpu, type Path } from '../sim/cpu'
import { siteAt } from '../sim/decisions'
import { sleep, wait_event } from '../sim/sync'
import { __alloc_pages, type Reclaimer } from './page_alloc'
import { __free_pages } from './page_free'
import { page_make_stable, page_make_volatile } from './hinting/page_states'
import { page_discard } from './hinting/discard'
import { host_touch } from './hinting/essa'

const AT_FIND_GET_PAGE = siteAt('find_get_page', 'file')
const AT_FILE_READ_PAGE = siteAt('file_read_page', 'page')
const AT_FILE_WRITE_PAGE = siteAt('file_write_page', 'page')
const AT_WRITEBACK_PAGE = siteAt('writeback_page', 'file')
const AT_INVALIDATE_PAGE = siteAt('invalidate_page', 'file')

export interface FileContext {
  readonly reclaim: Reclaimer | null
  /** How long a block read or write takes. */
  readonly ioNs: number
}

export const lookup = (k: Kernel, file: number, index: number): number | undefined => k.pages.cache.get(cacheKey(file, index))

/** lock_page: sleep until PG_locked is clear, then take it. */
export const lock_page = function* (k: Kernel, cpu: Cpu, pfn: number): Path {
  const p = k.pages
  yield* wait_event(k.sim, cpu, k.locks.pageLockQueue(pfn), () => (p.flags[pfn]! & PG_locked) === 0)
  k.emit(cpu, 'PageFlagsChanged', { pfn, set: ['PG_locked'], clear: [], why: 'lock_page' })
}

export const unlock_page = (k: Kernel, cpu: Cpu, pfn: number, why = 'unlock_page', set: 'PG_uptodate'[] = []): void => {
  k.emit(cpu, 'PageFlagsChanged', { pfn, set, clear: ['PG_locked'], why })
  k.locks.pageLockQueue(pfn).wakeAll(k.sim)
}

/** wait_on_page_locked: a reader waits for the read I/O another CPU started. */
export const wait_on_page_locked = function* (k: Kernel, cpu: Cpu, pfn: number): Path {
  const p = k.pages
  yield* wait_event(k.sim, cpu, k.locks.pageLockQueue(pfn), () => (p.flags[pfn]! & PG_locked) === 0)
}

/** put_page: drop a reference; the last one frees the page (a discarded one to the discard list). */
export const put_page = function* (k: Kernel, cpu: Cpu, pfn: number): Path {
  if (k.pages.refcount[pfn]! > 1) {
    k.emit(cpu, 'PagePut', { pfn })
    return
  }
  yield* __free_pages(k, cpu, pfn, 0, false)
}

/**
 * find_get_page with the hinting patch: take a reference, then make the page stable. When the
 * host has discarded it, discard it from the page cache too and report a miss.
 */
export const find_get_page = function* (k: Kernel, cpu: Cpu, file: number, index: number): Path<number | null> {
  yield point(cpu, AT_FIND_GET_PAGE, file)
  const pfn = lookup(k, file, index)
  if (pfn === undefined) return null
  k.emit(cpu, 'PageGot', { pfn })
  if (yield* page_make_stable(k, cpu, pfn)) return pfn
  yield* page_discard(k, cpu, pfn)
  yield* put_page(k, cpu, pfn)
  return null
}

const allocCachePage = function* (k: Kernel, cpu: Cpu, f: FileContext): Path<number | null> {
  const zones = k.state.zone.zones.length
  return yield* __alloc_pages(k, cpu, { order: 0, mt: MIGRATE_MOVABLE, highestZone: zones - 1 }, f.reclaim)
}

/**
 * page_cache_read (mm/filemap.c, 2.6.18): add_to_page_cache_lru takes the page locked with the
 * cache's reference and ours, readpage starts the read, and page_cache_release drops ours while
 * the I/O is still in flight. The I/O's completion sets PG_uptodate and calls unlock_page, where
 * the patch (GPH06 2/9, GPH09 1/6: `page_make_volatile(page, 1)` in unlock_page) offers the page
 * to the host with offset 1: only the page cache holds it then. False when no page could be
 * allocated.
 */
export const page_cache_read = function* (k: Kernel, cpu: Cpu, f: FileContext, file: number, index: number): Path<boolean> {
  const pfn = yield* allocCachePage(k, cpu, f)
  if (pfn === null) return false
  if (lookup(k, file, index) !== undefined) {
    // Another CPU added it first (add_to_page_cache returns -EEXIST).
    yield* __free_pages(k, cpu, pfn, 0, false)
    return true
  }
  k.emit(cpu, 'PageCacheAdded', { pfn, file, index })
  k.emit(cpu, 'PageGot', { pfn })
  // readpage has submitted the read; page_cache_release: the locked page keeps the cache's reference.
  yield* put_page(k, cpu, pfn)
  yield* sleep(k.sim, cpu, f.ioNs, `read I/O of file ${file} index ${index}`)
  host_touch(k, cpu, pfn) // the read's DMA wrote the page
  unlock_page(k, cpu, pfn, 'read done: SetPageUptodate, unlock_page', ['PG_uptodate'])
  yield* page_make_volatile(k, cpu, pfn)
  return true
}

/** Why a page cache lookup gave up. */
export type Miss = 'no page could be allocated' | 'the host discarded it on every attempt'

/** Attempts before a lookup that keeps finding its page discarded gives up. */
const LOOKUP_ATTEMPTS_MAX = 4

/** find_get_page, reading the page in on a miss: a referenced, stable, up-to-date page, or why not. */
export const get_cache_page = function* (k: Kernel, cpu: Cpu, f: FileContext, file: number, index: number): Path<number | Miss> {
  for (let attempt = 0; attempt < LOOKUP_ATTEMPTS_MAX; attempt++) {
    const pfn = yield* find_get_page(k, cpu, file, index)
    if (pfn !== null) {
      yield* wait_on_page_locked(k, cpu, pfn)
      return pfn
    }
    if (!(yield* page_cache_read(k, cpu, f, file, index))) return 'no page could be allocated'
  }
  return 'the host discarded it on every attempt'
}

/** read(2) of one page: copy it out while relying on it, then offer it back to the host. */
export const file_read_page = function* (k: Kernel, cpu: Cpu, f: FileContext, file: number, index: number): Path<true | Miss> {
  const pfn = yield* get_cache_page(k, cpu, f, file, index)
  if (typeof pfn === 'string') return pfn
  k.emit(cpu, 'PageUseStarted', { pfn, what: 'read(2) copy_to_user' })
  host_touch(k, cpu, pfn)
  yield point(cpu, AT_FILE_READ_PAGE, pfn)
  k.emit(cpu, 'PageUseEnded', { pfn })
  // put_page with a count above one: the patch's call site with offset 2 (we still hold ours).
  yield* page_make_volatile(k, cpu, pfn, { callerHolds: true })
  yield* put_page(k, cpu, pfn)
  return true
}

/** write(2) of a whole page: the page is made (or found) stable, filled and dirtied. */
export const file_write_page = function* (k: Kernel, cpu: Cpu, f: FileContext, file: number, index: number): Path<true | Miss> {
  let pfn = yield* find_get_page(k, cpu, file, index)
  if (pfn === null) {
    // grab_cache_page_write_begin: a full-page write needs no read.
    const fresh = yield* allocCachePage(k, cpu, f)
    if (fresh === null) return 'no page could be allocated'
    if (lookup(k, file, index) !== undefined) {
      yield* __free_pages(k, cpu, fresh, 0, false)
      return yield* file_write_page(k, cpu, f, file, index)
    }
    k.emit(cpu, 'PageCacheAdded', { pfn: fresh, file, index })
    k.emit(cpu, 'PageGot', { pfn: fresh })
    pfn = fresh
  } else {
    yield* lock_page(k, cpu, pfn)
  }
  k.emit(cpu, 'PageUseStarted', { pfn, what: 'write(2) copy_from_user' })
  host_touch(k, cpu, pfn)
  yield point(cpu, AT_FILE_WRITE_PAGE, pfn)
  k.emit(cpu, 'PageFlagsChanged', { pfn, set: ['PG_uptodate', 'PG_dirty'], clear: [], why: 'write_end: SetPageUptodate, set_page_dirty' })
  k.emit(cpu, 'PageUseEnded', { pfn })
  unlock_page(k, cpu, pfn)
  yield* put_page(k, cpu, pfn)
  return true
}

/**
 * Writeback of one dirty page, with the references the kernel holds: write_cache_pages takes
 * one for its pagevec, and under the page lock clear_page_dirty_for_io and set_page_writeback
 * move the dirty bit to PG_writeback; pagevec_release drops that reference once the I/O is
 * submitted (the bio holds none), so only the page cache (and the ptes) hold the page while the
 * I/O runs. end_page_writeback -> test_clear_page_writeback is where the patch calls
 * `page_make_volatile(page, 1)` (offset 1: GPH09 1/6, the hunk the review quotes). The review
 * asks what happens if that runs when the I/O starts instead: volatileAt writeback-start calls
 * it there with `ignoreWriteback`, dropping the one check that stands in its way;
 * writeback-start-checked calls it there with every check, and PG_writeback refuses it: no
 * seed reaches the race (test/fidelity.test.ts).
 */
export const writeback_page = function* (k: Kernel, cpu: Cpu, f: FileContext, file: number, index: number): Path<boolean> {
  yield point(cpu, AT_WRITEBACK_PAGE, file)
  const pfn = lookup(k, file, index)
  if (pfn === undefined || (k.pages.flags[pfn]! & PG_dirty) === 0) return false
  k.emit(cpu, 'PageGot', { pfn })
  yield* lock_page(k, cpu, pfn)
  if ((k.pages.flags[pfn]! & PG_dirty) === 0 || lookup(k, file, index) !== pfn) {
    unlock_page(k, cpu, pfn)
    yield* put_page(k, cpu, pfn)
    return false
  }
  k.emit(cpu, 'PageFlagsChanged', { pfn, set: ['PG_writeback'], clear: ['PG_dirty', 'SK_changed'], why: 'clear_page_dirty_for_io, set_page_writeback' })
  unlock_page(k, cpu, pfn)
  const cfg = k.hinting
  // pagevec_release: the I/O is submitted, the page cache's reference keeps the page.
  yield* put_page(k, cpu, pfn)
  const at = cfg?.volatileAt
  if (at === 'writeback-start' || at === 'writeback-start-checked') yield* page_make_volatile(k, cpu, pfn, { ignoreWriteback: at === 'writeback-start' })
  yield* sleep(k.sim, cpu, f.ioNs, `writeback I/O of file ${file} index ${index}`)
  k.emit(cpu, 'PageFlagsChanged', { pfn, set: [], clear: ['PG_writeback'], why: 'end_page_writeback' })
  if (cfg?.volatileAt === 'writeback-end') yield* page_make_volatile(k, cpu, pfn)
  return true
}

/**
 * __remove_from_page_cache with the patch: TestSetPageDiscarded, cleared again unless the host
 * had discarded the page (so that a racing page_discard backs off, and the free goes to the
 * discard list when it must).
 */
export const remove_from_page_cache = (k: Kernel, cpu: Cpu, pfn: number): void => {
  const p = k.pages
  k.emit(cpu, 'PageCacheRemoved', { pfn, file: p.file[pfn]!, index: p.index[pfn]!, discarded: p.pstate[pfn] === STATE_CODE.Vz })
}

/**
 * invalidate_mapping_pages (drop_caches) for one page, or reclaim of one LRU page: only clean,
 * unmapped, idle pages go. True when the page left the page cache.
 */
export const invalidate_page = function* (k: Kernel, cpu: Cpu, file: number, index: number): Path<boolean> {
  yield point(cpu, AT_INVALIDATE_PAGE, file)
  const pfn = lookup(k, file, index)
  if (pfn === undefined) return false
  const p = k.pages
  if ((p.flags[pfn]! & (PG_dirty | PG_writeback | PG_locked)) !== 0 || p.mapcount[pfn]! > 0) return false
  k.emit(cpu, 'PageGot', { pfn })
  yield* lock_page(k, cpu, pfn)
  // A page_discard in flight owns the page (both use TestSetPageDiscarded).
  const busy = (p.flags[pfn]! & (PG_discarded | PG_dirty | PG_writeback)) !== 0 || p.mapcount[pfn]! > 0 || lookup(k, file, index) !== pfn || p.refcount[pfn]! > 2
  if (busy) {
    unlock_page(k, cpu, pfn)
    yield* put_page(k, cpu, pfn)
    return false
  }
  remove_from_page_cache(k, cpu, pfn)
  unlock_page(k, cpu, pfn)
  k.emit(cpu, 'PagePut', { pfn }) // the page cache's reference, handed to us
  yield* put_page(k, cpu, pfn)
  return true
}
