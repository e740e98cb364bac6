// Processes touching memory (mm/memory.c, 2.6 era, with the hinting patches): file pages mapped
// by faults, accesses through ptes (where discard faults come from), unmap, fork's pte copy and
// exit, and anonymous memory. Each pte operation runs under the process's page table lock.
import { MIGRATE_MOVABLE } from '../../events/codecs'
import { fileVpn } from '../../projections/mm/state'
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
import { ANON_VPN_END, findVma, type Vma } from '../../projections/anon_vma/state'
import { anon_vma_prepare, page_add_new_anon_rmap, page_move_anon_rmap, page_unused } from './rmap'
import { dup_anon_vmas, exit_anon_vmas, mmap_heap } from './mmap'

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
 * dup_mmap for fork, with both processes' mmap_sem held for writing: the child joins every
 * i_mmap and gets a copy of each anonymous VMA, linked by anon_vma_fork, before copy_page_range
 * copies each pte under both page table locks. A private anonymous pte is write-protected in
 * both (copy_one_pte on a COW mapping): the first store breaks the sharing. With the GPH09 check
 * (forkVsDiscard: checked), a pte of a PG_discarded page is not copied, which is what
 * page_discard would have left.
 */
export const fork_mm = function* (k: Kernel, cpu: Cpu, parent: number, child: number): Path {
  const parentSem = k.locks.mmapSem(parent)
  const childSem = k.locks.mmapSem(child)
  yield* parentSem.down_write(k.sim, cpu)
  yield* childSem.down_write(k.sim, cpu)
  // dup_mmap links the child's VMAs under each file's i_mmap lock, taken in file order.
  const files = [...(k.state.mms.mms.get(parent)?.files ?? [])].sort((a, b) => a - b)
  const locks = files.map((f) => k.locks.iMmap(f))
  for (const l of locks) yield* spin_lock(k.sim, cpu, l)
  k.emit(cpu, 'MmCreated', { mm: child, parent })
  for (const l of [...locks].reverse()) spin_unlock(k.sim, cpu, l)
  yield* dup_anon_vmas(k, cpu, parent, child)
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
      if (vpn < ANON_VPN_END) {
        if (pte.writable) k.emit(cpu, 'PteWriteChanged', { pfn: pte.pfn, mm: parent, vpn, writable: false })
        k.emit(cpu, 'PteSet', { pfn: pte.pfn, mm: child, vpn, writable: false })
      } else if (!(checked && discarded)) k.emit(cpu, 'PteSet', { pfn: pte.pfn, mm: child, vpn, writable: pte.writable })
    }
    spin_unlock(k.sim, cpu, dst)
    spin_unlock(k.sim, cpu, src)
  }
  childSem.up_write(k.sim, cpu)
  parentSem.up_write(k.sim, cpu)
}

/**
 * exit_mmap: every pte goes (anonymous pages with their last user are freed), then each
 * anonymous VMA is unlinked from its anon_vmas and removed (free_pgtables, remove_vma).
 */
export const exit_mm = function* (k: Kernel, cpu: Cpu, mm: number): Path {
  const m = k.state.mms.mms.get(mm)
  if (m === undefined) return
  const sem = k.locks.mmapSem(mm)
  yield* sem.down_write(k.sim, cpu)
  for (const vpn of [...m.ptes.keys()]) {
    yield point(cpu, AT_EXIT_MM, mm)
    const ptl = k.locks.ptl(mm)
    yield* spin_lock(k.sim, cpu, ptl)
    // Re-read under the lock: an rmap walk (page_discard, try_to_unmap) may have cleared it meanwhile.
    const pte = m.ptes.get(vpn)
    let last = false
    if (pte !== undefined) {
      k.emit(cpu, 'PteCleared', { pfn: pte.pfn, mm, vpn })
      // Decided with the drop, as put_page's atomic decrement does: the last holder frees.
      last = page_unused(k, pte.pfn)
      yield* page_remove_rmap_last(k, cpu, pte.pfn)
    }
    spin_unlock(k.sim, cpu, ptl)
    if (last) yield* __free_pages(k, cpu, pte!.pfn, 0, false)
  }
  yield* exit_anon_vmas(k, cpu, mm)
  k.emit(cpu, 'MmExited', { mm })
  sem.up_write(k.sim, cpu)
}

/** A new anonymous page as the fault path leaves it on a hinting guest: anonymous, dirty, its storage key changed; the pte holds it. */
const anon_page_written = (k: Kernel, cpu: Cpu, pfn: number): void => {
  if (k.hinting === null) return
  k.emit(cpu, 'PageFlagsChanged', { pfn, set: ['PG_anon', 'PG_dirty', 'SK_changed'], clear: [], why: 'page_add_new_anon_rmap, first write' })
  k.emit(cpu, 'PagePut', { pfn }) // the allocation's reference: the pte holds the page now
  host_touch(k, cpu, pfn)
}

const alloc_anon_page = (k: Kernel, cpu: Cpu, f: FileContext): Path<number | null> =>
  __alloc_pages(k, cpu, { order: 0, mt: MIGRATE_MOVABLE, highestZone: k.state.zone.zones.length - 1 }, f.reclaim)

/** Why an anonymous store did not happen. */
export type AnonMiss = 'no page could be allocated' | 'no VMA maps it (SIGSEGV)' | 'its VMA is read-only (SIGSEGV)'

/**
 * do_anonymous_page: anon_vma_prepare, a new page, and under the page table lock (unless another
 * thread mapped the address meanwhile) page_add_new_anon_rmap and a writable pte.
 */
const do_anonymous_page = function* (k: Kernel, cpu: Cpu, f: FileContext, v: Vma, vpn: number): Path<true | AnonMiss> {
  yield* anon_vma_prepare(k, cpu, v)
  const pfn = yield* alloc_anon_page(k, cpu, f)
  if (pfn === null) return 'no page could be allocated'
  const ptl = k.locks.ptl(v.mm)
  yield* spin_lock(k.sim, cpu, ptl)
  if (k.state.mms.mms.get(v.mm)!.ptes.has(vpn)) {
    // pte_none no longer holds: another thread faulted it in first.
    spin_unlock(k.sim, cpu, ptl)
    yield* __free_pages(k, cpu, pfn, 0, false)
    return true
  }
  page_add_new_anon_rmap(k, cpu, pfn, v, vpn)
  k.emit(cpu, 'PteSet', { pfn, mm: v.mm, vpn, writable: true })
  spin_unlock(k.sim, cpu, ptl)
  anon_page_written(k, cpu, pfn)
  return true
}

/**
 * do_wp_page on a write-protected anonymous pte. A page only this pte maps is reused
 * (reuse_swap_page: page_mapcount <= 1): page_move_anon_rmap moves it to vma->anon_vma, and the
 * pte becomes writable. A shared one is copied: the copy is a new exclusive page
 * (page_add_new_anon_rmap with the faulting VMA's own anon_vma) and the old page loses a mapping.
 */
const do_wp_page = function* (k: Kernel, cpu: Cpu, f: FileContext, v: Vma, vpn: number, old: number): Path<true | AnonMiss> {
  const a = k.state.anonVma
  const ptl = k.locks.ptl(v.mm)
  const ptes = k.state.mms.mms.get(v.mm)!.ptes
  if (a.mapcount[old] === 1) {
    yield* spin_lock(k.sim, cpu, ptl)
    const pte = ptes.get(vpn)
    if (pte?.pfn === old && !pte.writable && a.mapcount[old] === 1) {
      // Moving a page already in vma->anon_vma changes nothing (the parent's own pages).
      if (a.mapping[old] !== v.anonVma) page_move_anon_rmap(k, cpu, old, v)
      k.emit(cpu, 'PteWriteChanged', { pfn: old, mm: v.mm, vpn, writable: true })
    }
    spin_unlock(k.sim, cpu, ptl)
    return true
  }
  yield* anon_vma_prepare(k, cpu, v)
  const pfn = yield* alloc_anon_page(k, cpu, f)
  if (pfn === null) return 'no page could be allocated'
  yield* spin_lock(k.sim, cpu, ptl)
  const pte = ptes.get(vpn)
  if (pte?.pfn !== old || pte.writable) {
    // pte_same fails: another thread broke the COW first.
    spin_unlock(k.sim, cpu, ptl)
    yield* __free_pages(k, cpu, pfn, 0, false)
    return true
  }
  page_add_new_anon_rmap(k, cpu, pfn, v, vpn)
  k.emit(cpu, 'PteCleared', { pfn: old, mm: v.mm, vpn })
  const last = page_unused(k, old)
  k.emit(cpu, 'PteSet', { pfn, mm: v.mm, vpn, writable: true })
  yield* page_remove_rmap_last(k, cpu, old)
  spin_unlock(k.sim, cpu, ptl)
  anon_page_written(k, cpu, pfn)
  if (last) yield* __free_pages(k, cpu, old, 0, false)
  return true
}

/**
 * A store to anonymous memory of `mm` at `vpn`, with mmap_sem held for reading: a fault in a new
 * page where no pte is, a COW break where the pte is write-protected, nothing where it is
 * writable. A store outside every VMA, or into a read-only one, is SIGSEGV.
 */
export const handle_anon_write = function* (k: Kernel, cpu: Cpu, f: FileContext, mm: number, vpn: number): Path<true | AnonMiss> {
  const sem = k.locks.mmapSem(mm)
  yield* sem.down_read(k.sim, cpu)
  let r: true | AnonMiss = true
  const v = findVma(k.state.anonVma, mm, vpn)
  const pte = k.state.mms.mms.get(mm)?.ptes.get(vpn)
  if (v === undefined) r = 'no VMA maps it (SIGSEGV)'
  else if (!v.writable) r = 'its VMA is read-only (SIGSEGV)'
  else if (pte === undefined) r = yield* do_anonymous_page(k, cpu, f, v, vpn)
  else if (!pte.writable) r = yield* do_wp_page(k, cpu, f, v, vpn, pte.pfn)
  sem.up_read(k.sim)
  return r
}

/** mmap of the anonymous heap, once per process (mmap_sem held for writing). */
export const mmap_anon_heap = function* (k: Kernel, cpu: Cpu, mm: number): Path {
  ensure_mm(k, cpu, mm)
  if (k.state.anonVma.mmVmas.has(mm)) return
  const sem = k.locks.mmapSem(mm)
  yield* sem.down_write(k.sim, cpu)
  mmap_heap(k, cpu, mm)
  sem.up_write(k.sim, cpu)
}
