// Processes touching memory (mm/memory.c, 2.6 era, with the hinting patches): file pages mapped
// by faults, accesses through ptes (where discard faults come from), unmap, fork's pte copy and
// exit, and anonymous memory. Each pte operation runs under the process's page table lock.
import { MIGRATE_MOVABLE } from '../../events/codecs'
import { ANON_VPN_BASE, fileVpn } from '../../projections/mm/state'
import { PG_anon, PG_discarded, PG_writable, SK_changed } from '../../projections/pages/state'
import { stateName } from '../../projections/pages/states'
import type { Kernel } from '../kernel'
import { point, type Cpu, type Path } from '../sim/cpu'
import { siteAt } from '../sim/decisions'
import { spin_lock, spin_unlock } from '../sim/sync'
import { __alloc_pages } from './page_alloc'
import { __free_pages } from './page_free'
import { host_touch } from './hinting/essa'
import { page_make_stable, page_make_volatile } from './hinting/page_states'
import { do_discard_fault } from './hinting/discard'
import { get_cache_page, lookup, put_page, type FileContext, type Miss } from './filemap'

const AT_TOUCH_FILE_PAGE = siteAt('touch_file_page', 'mm')
const AT_UNMAP_FILE_PAGE = siteAt('unmap_file_page', 'mm')
const AT_FORK_MM = siteAt('fork_mm', 'mm')
const AT_EXIT_MM = siteAt('exit_mm', 'mm')

/** A process exists once something maps memory into it. */
export const ensure_mm = (k: Kernel, cpu: Cpu, mm: number): void => {
  if (!k.state.mms.mms.has(mm)) k.emit(cpu, 'MmCreated', { mm, parent: null })
}

/** mmap of a file into a process: it joins the file's i_mmap, under the i_mmap lock. */
export const mmap_file = function* (k: Kernel, cpu: Cpu, mm: number, file: number): Path {
  ensure_mm(k, cpu, mm)
  if (k.state.mms.mms.get(mm)!.files.includes(file)) return
  const lock = k.locks.iMmap(file)
  yield* spin_lock(k.sim, cpu, lock)
  k.emit(cpu, 'FileMapped', { mm, file })
  spin_unlock(k.sim, cpu, lock)
}

/**
 * filemap_fault + do_no_page: find (or read) the page, make it stable, and set the pte under the
 * page table lock; then page_add_file_rmap's call site offers the page to the host.
 */
export const fault_in_file_page = function* (k: Kernel, cpu: Cpu, f: FileContext, mm: number, file: number, index: number, writable: boolean): Path<true | Miss> {
  yield* mmap_file(k, cpu, mm, file)
  const pfn = yield* get_cache_page(k, cpu, f, file, index)
  if (typeof pfn === 'string') return pfn
  const vpn = fileVpn(file, index)
  const ptl = k.locks.ptl(mm)
  yield* spin_lock(k.sim, cpu, ptl)
  const present = k.state.mms.mms.get(mm)!.ptes.has(vpn)
  // GPH09 5/6: under the pte lock, a page discarded since the lookup is not mapped; retry.
  // The PG_discarded half is the kernel's defence for do_no_page, where ->nopage may sleep
  // between find_get_page and pte_offset_map_lock while page_discard runs elsewhere. No
  // workload takes it here (issue 7 §4; its removal in mutate/protections.ts survives every
  // sweep): PG_discarded is set only by page_discard, only on a page the host discarded (Vz); a
  // Vz page never becomes stable again; and this path holds a reference to a page it made
  // stable, so no make_volatile can pass check_counts until the pte is set (a make_volatile
  // decided earlier lands before our make_stable: the state-change bit orders them). Between
  // the lookup and this check the only wait is wait_on_page_locked.
  if (!present && ((k.pages.flags[pfn]! & PG_discarded) !== 0 || lookup(k, file, index) !== pfn)) {
    spin_unlock(k.sim, cpu, ptl)
    yield* put_page(k, cpu, pfn)
    return yield* fault_in_file_page(k, cpu, f, mm, file, index, writable)
  }
  if (!present) {
    k.emit(cpu, 'PteSet', { pfn, mm, vpn, writable })
    // page_check_writable: the first writable pte makes the page only potentially volatile.
    if (writable && (k.pages.flags[pfn]! & PG_writable) === 0) k.emit(cpu, 'PageFlagsChanged', { pfn, set: ['PG_writable'], clear: [], why: 'page_check_writable' })
  }
  spin_unlock(k.sim, cpu, ptl)
  if (!present) yield* page_make_volatile(k, cpu, pfn, { callerHolds: true })
  yield* put_page(k, cpu, pfn)
  return true
}

/** Accesses that keep faulting (the page discarded again each time) give up after this many tries. */
const ACCESS_ATTEMPTS_MAX = 6

/**
 * An access through process `mm`'s pte. A discarded page raises a discard fault; a logically
 * zero or paged-out page is brought in by the host. A write through a read-only pte (do_wp_page)
 * makes the page stable and dirty; through a writable one it only sets the storage key's change bit.
 */
export const touch_file_page = function* (k: Kernel, cpu: Cpu, f: FileContext, mm: number, file: number, index: number, write: boolean): Path<true | Miss> {
  const vpn = fileVpn(file, index)
  for (let attempt = 0; attempt < ACCESS_ATTEMPTS_MAX; attempt++) {
    yield point(cpu, AT_TOUCH_FILE_PAGE, mm)
    const pte = k.state.mms.mms.get(mm)?.ptes.get(vpn)
    if (pte === undefined) {
      const r = yield* fault_in_file_page(k, cpu, f, mm, file, index, false)
      if (r !== true) return r
      continue
    }
    if (!(yield* access(k, cpu, mm, vpn, pte.pfn))) continue
    if (write) {
      if (pte.writable) {
        k.emit(cpu, 'PageFlagsChanged', { pfn: pte.pfn, set: ['SK_changed'], clear: [], why: 'store through a writable pte' })
      } else {
        if (!(yield* page_make_stable(k, cpu, pte.pfn))) continue // discarded meanwhile: fault again
        k.emit(cpu, 'PageFlagsChanged', { pfn: pte.pfn, set: ['PG_dirty', 'SK_changed'], clear: [], why: 'do_wp_page: set_page_dirty' })
      }
    }
    return true
  }
  return 'the host discarded it on every attempt'
}

/** The memory access itself: true when it completed, false when it faulted and must be retried. */
const access = function* (k: Kernel, cpu: Cpu, mm: number, vpn: number, pfn: number): Path<boolean> {
  if (k.hinting === null) return true
  const st = stateName(k.pages.pstate[pfn]!)
  if (st === 'Vz') {
    yield* do_discard_fault(k, cpu, mm, vpn, pfn)
    return false
  }
  if (st[0] === 'U') {
    k.violation(cpu, 'hinting.no-access-to-unused', `process ${mm} touched frame ${pfn} through a pte, but the frame is unused (${st}): an addressing exception`, pfn)
    return true
  }
  host_touch(k, cpu, pfn)
  return true
}

/** munmap of one page: the pte goes; the page may then be offered to the host again. */
export const unmap_file_page = function* (k: Kernel, cpu: Cpu, mm: number, file: number, index: number): Path {
  yield point(cpu, AT_UNMAP_FILE_PAGE, mm)
  const vpn = fileVpn(file, index)
  const ptl = k.locks.ptl(mm)
  yield* spin_lock(k.sim, cpu, ptl)
  const pte = k.state.mms.mms.get(mm)?.ptes.get(vpn)
  if (pte !== undefined) {
    // Hold the page across the unmap, so that the call site below works on a referenced page.
    k.emit(cpu, 'PageGot', { pfn: pte.pfn })
    k.emit(cpu, 'PteCleared', { pfn: pte.pfn, mm, vpn })
    yield* page_remove_rmap_last(k, cpu, pte.pfn)
  }
  spin_unlock(k.sim, cpu, ptl)
  if (pte !== undefined) {
    yield* page_make_volatile(k, cpu, pte.pfn, { callerHolds: true })
    yield* put_page(k, cpu, pte.pfn)
  }
}

/**
 * The last pte of a page is gone (page_remove_rmap): page_test_and_clear_dirty moves the storage
 * key's change bit into PG_dirty, on a page made stable first (a store through a writable pte
 * must not be lost to a later discard), and page_reset_writable clears PG_writable.
 */
export const page_remove_rmap_last = function* (k: Kernel, cpu: Cpu, pfn: number): Path {
  if (k.hinting === null || k.pages.mapcount[pfn] !== 0) return
  const flags = k.pages.flags[pfn]!
  if ((flags & SK_changed) !== 0 && (flags & PG_anon) === 0) {
    yield* page_make_stable(k, cpu, pfn)
    k.emit(cpu, 'PageFlagsChanged', { pfn, set: ['PG_dirty'], clear: ['SK_changed'], why: 'page_remove_rmap: page_test_and_clear_dirty' })
  }
  if ((k.pages.flags[pfn]! & PG_writable) !== 0) k.emit(cpu, 'PageFlagsChanged', { pfn, set: [], clear: ['PG_writable'], why: 'page_reset_writable' })
}

/**
 * copy_page_range for fork: the child joins every i_mmap first (dup_mmap), then each pte is
 * copied under both page table locks. With the GPH09 check (forkVsDiscard: checked), a pte of
 * a PG_discarded page is not copied, which is what page_discard would have left.
 */
export const fork_mm = function* (k: Kernel, cpu: Cpu, parent: number, child: number): Path {
  // dup_mmap links the child's VMAs under each file's i_mmap lock, taken in file order.
  const files = [...(k.state.mms.mms.get(parent)?.files ?? [])].sort((a, b) => a - b)
  const locks = files.map((f) => k.locks.iMmap(f))
  for (const l of locks) yield* spin_lock(k.sim, cpu, l)
  k.emit(cpu, 'MmCreated', { mm: child, parent })
  for (const l of [...locks].reverse()) spin_unlock(k.sim, cpu, l)
  const ptes = [...(k.state.mms.mms.get(parent)?.ptes.keys() ?? [])]
  const checked = k.hinting?.forkVsDiscard !== 'unchecked'
  for (const vpn of ptes) {
    yield point(cpu, AT_FORK_MM, parent)
    const src = k.locks.ptl(parent)
    const dst = k.locks.ptl(child)
    yield* spin_lock(k.sim, cpu, src)
    yield* spin_lock(k.sim, cpu, dst)
    const pte = k.state.mms.mms.get(parent)!.ptes.get(vpn)
    if (pte !== undefined) {
      const discarded = k.hinting !== null && (k.pages.flags[pte.pfn]! & PG_discarded) !== 0
      if (!(checked && discarded)) k.emit(cpu, 'PteSet', { pfn: pte.pfn, mm: child, vpn, writable: pte.writable })
    }
    spin_unlock(k.sim, cpu, dst)
    spin_unlock(k.sim, cpu, src)
  }
}

/** exit_mmap: every pte goes, anonymous pages with their last mapping are freed. */
export const exit_mm = function* (k: Kernel, cpu: Cpu, mm: number): Path {
  const m = k.state.mms.mms.get(mm)
  if (m === undefined) return
  for (const vpn of [...m.ptes.keys()]) {
    yield point(cpu, AT_EXIT_MM, mm)
    const ptl = k.locks.ptl(mm)
    yield* spin_lock(k.sim, cpu, ptl)
    // Re-read under the lock: an rmap walk (page_discard) may have cleared it meanwhile.
    const pte = m.ptes.get(vpn)
    if (pte !== undefined) {
      k.emit(cpu, 'PteCleared', { pfn: pte.pfn, mm, vpn })
      yield* page_remove_rmap_last(k, cpu, pte.pfn)
    }
    spin_unlock(k.sim, cpu, ptl)
    if (pte !== undefined && k.pages.refcount[pte.pfn] === 0) yield* __free_pages(k, cpu, pte.pfn, 0, false)
  }
  k.emit(cpu, 'MmExited', { mm })
}

/** Anonymous memory: each page is allocated, mapped writable and written (never volatile). */
export const anon_fault = function* (k: Kernel, cpu: Cpu, f: FileContext, mm: number, vpnOffset: number): Path<boolean> {
  ensure_mm(k, cpu, mm)
  const pfn = yield* __alloc_pages(k, cpu, { order: 0, mt: MIGRATE_MOVABLE, highestZone: k.state.zone.zones.length - 1 }, f.reclaim)
  if (pfn === null) return false
  const vpn = ANON_VPN_BASE + vpnOffset
  const ptl = k.locks.ptl(mm)
  yield* spin_lock(k.sim, cpu, ptl)
  k.emit(cpu, 'PteSet', { pfn, mm, vpn, writable: true })
  spin_unlock(k.sim, cpu, ptl)
  if (k.hinting !== null) {
    k.emit(cpu, 'PageFlagsChanged', { pfn, set: ['PG_anon', 'PG_dirty', 'SK_changed'], clear: [], why: 'page_add_new_anon_rmap, first write' })
    k.emit(cpu, 'PagePut', { pfn }) // the allocation's reference: the pte holds the page now
    host_touch(k, cpu, pfn)
  }
  return true
}
