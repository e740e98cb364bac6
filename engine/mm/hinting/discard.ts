// Discarded pages (GPH06 8/9, GPH09 1/6): the discard fault handler, page_discard, and the
// per-CPU discarded-page lists with their smp_call_function collection. The list exists because
// a discard fault delivers an absolute address: the frame must not be freed and reused before
// the handler has pinned it, and the collection's IPI cannot complete while a handler runs with
// interrupts off.
import { MIGRATE_ISOLATE } from '../../../events/codecs'
import { fileVpn } from '../../../projections/mm/state'
import { PG_discarded, PG_writable } from '../../../projections/pages/state'
import { pageblockMigratetype, pcpCountIdx, zoneOf } from '../../../projections/zone/state'
import type { Kernel } from '../../kernel'
import { point, type Cpu, type Path } from '../../sim/cpu'
import { siteAt } from '../../sim/decisions'
import { local_irq_disable, local_irq_enable, on_each_cpu, spin_lock, spin_unlock } from '../../sim/sync'
import { free_pcppages_bulk, pcp_trim_to_high } from '../page_free'
import { PAGE_SHIFT } from '../boot'
import { lock_page, put_page, remove_from_page_cache, unlock_page } from '../filemap'

const AT_UNMAP_ALL = siteAt('page_unmap_all', 'mm')
const AT_FAULT_LOWCORE = siteAt('do_discard_fault:lowcore', 'page')
const AT_FAULT_PFN_TO_PAGE = siteAt('do_discard_fault:pfn_to_page', 'page')
const AT_SHRINK_DISCARDS = siteAt('page_shrink_discards', 'page')

/**
 * page_unmap_all: clear every pte mapping the page, walking the file's i_mmap under its lock
 * (newest process first, as the 2006 prio tree could order a child before its parent). One step
 * per process: other CPUs run in between, but none links a new process into this i_mmap.
 */
export const page_unmap_all = function* (k: Kernel, cpu: Cpu, pfn: number): Path {
  const p = k.pages
  const file = p.file[pfn]!
  if (file < 0) return
  const vpn = fileVpn(file, p.index[pfn]!)
  const iMmapLock = k.locks.iMmap(file)
  yield* spin_lock(k.sim, cpu, iMmapLock)
  const walk = [...(k.state.mms.iMmap.get(file) ?? [])]
  for (const mmId of walk) {
    yield point(cpu, AT_UNMAP_ALL, mmId)
    const ptl = k.locks.ptl(mmId)
    yield* spin_lock(k.sim, cpu, ptl)
    const pte = k.state.mms.mms.get(mmId)?.ptes.get(vpn)
    if (pte !== undefined && pte.pfn === pfn) {
      k.emit(cpu, 'PteCleared', { pfn, mm: mmId, vpn })
      if (p.mapcount[pfn] === 0 && (p.flags[pfn]! & PG_writable) !== 0) k.emit(cpu, 'PageFlagsChanged', { pfn, set: [], clear: ['PG_writable'], why: 'page_reset_writable' })
    }
    spin_unlock(k.sim, cpu, ptl)
  }
  spin_unlock(k.sim, cpu, iMmapLock)
}

/**
 * page_discard: the host dropped the page, so the guest drops it too. The caller holds a
 * reference. TestSetPageDiscarded makes a racing page_discard or page cache removal back off.
 */
export const page_discard = function* (k: Kernel, cpu: Cpu, pfn: number): Path {
  yield* lock_page(k, cpu, pfn)
  const p = k.pages
  if ((p.flags[pfn]! & PG_discarded) !== 0 || p.file[pfn]! < 0) {
    unlock_page(k, cpu, pfn)
    return
  }
  k.emit(cpu, 'PageFlagsChanged', { pfn, set: ['PG_discarded'], clear: [], why: 'page_discard: TestSetPageDiscarded' })
  yield* page_unmap_all(k, cpu, pfn)
  remove_from_page_cache(k, cpu, pfn)
  unlock_page(k, cpu, pfn)
  // The page cache's reference, handed over by the removal.
  yield* put_page(k, cpu, pfn)
}

/**
 * do_discard_fault (program check 0x1a): the CPU touched a discarded page through process `mm`'s
 * pte. The fault delivers the absolute address; with interrupts off, the handler finds the
 * frame and tries get_page_unless_zero on it. Only once that reference is taken (or refused)
 * are interrupts enabled again.
 */
export const do_discard_fault = function* (k: Kernel, cpu: Cpu, mm: number, vpn: number, pfn: number): Path {
  local_irq_disable(cpu)
  k.emit(cpu, 'DiscardFault', { pfn, absoluteAddress: pfn * (1 << PAGE_SHIFT), mm, vpn })
  // The handler's work before the pin, while other CPUs run: the absolute address from the
  // lowcore's translation-exception code, then pfn_to_page on it.
  yield point(cpu, AT_FAULT_LOWCORE, pfn)
  yield point(cpu, AT_FAULT_PFN_TO_PAGE, pfn)
  const gen = k.state.cpus.faultGen[cpu.id]!
  const pinned = k.pages.refcount[pfn]! > 0
  k.emit(cpu, 'DiscardFaultPinned', { pfn, pinned })
  local_irq_enable(k.sim, cpu)
  if (!pinned) return // already freed: the retried access finds no pte and faults normally
  if (k.state.zone.gen[pfn] !== gen) {
    // The frame was freed and reused (a finding was recorded). The kernel would now discard
    // someone else's page; mmsim stops following it there and only drops the reference.
    yield* put_page(k, cpu, pfn)
    return
  }
  yield* page_discard(k, cpu, pfn)
  yield* put_page(k, cpu, pfn)
}

/**
 * The pcp migratetype free_cold_page records for a collected page: its pageblock's type, which is
 * MIGRATE_ISOLATE when the page lies in a range being isolated (a hot-remove, a CMA allocation).
 */
const pcpMigratetype = (k: Kernel, pfn: number): number => pageblockMigratetype(k.state.zone, pfn)

/**
 * free_cold_page for one collected page, as free_hot_cold_page(page, 1) does it: its own
 * local_irq_save / restore, ESSA SET_UNUSED, the tail of this CPU's pcp list, and a batch back to
 * the buddy lists when the list reaches pcp->high. The event also carries ClearPageDiscarded.
 */
const free_collected_page = function* (k: Kernel, cpu: Cpu, pfn: number, from: number, cause: number): Path {
  const s = k.state.zone
  const perCpu = new Array<number>(k.cpus.length).fill(0)
  perCpu[from] = 1
  local_irq_disable(cpu)
  const mt = pcpMigratetype(k, pfn)
  k.emit(cpu, 'DiscardCollectionFreed', { pfns: [pfn], perCpu, mts: [mt] }, cause)
  if (mt === MIGRATE_ISOLATE && k.isolation.discardIntoIsolated === 'isolate-check') {
    // As v4.13's free_hot_cold_page would: an isolated pageblock's page does not stay on a pcp
    // list. The cold page is the tail of the MOVABLE list, the first free_pcppages_bulk takes.
    const lock = k.zoneLocks[zoneOf(s, pfn)]!
    yield* spin_lock(k.sim, cpu, lock)
    free_pcppages_bulk(k, cpu, zoneOf(s, pfn), 1, 'drain')
    spin_unlock(k.sim, cpu, lock)
  }
  yield* pcp_trim_to_high(k, cpu, zoneOf(s, pfn))
  local_irq_enable(k.sim, cpu)
}

/**
 * page_shrink_discards (GPH06 8/9): on_each_cpu(__page_shrink_discards, wait=1) splices every
 * CPU's list onto our pages_to_free, then list_for_each_entry_safe gives each page
 * ClearPageDiscarded and free_cold_page, one page at a time: other CPUs run between two pages,
 * and the pcp list never grows past pcp->high. Returns the pages freed.
 */
export const page_shrink_discards = function* (k: Kernel, cpu: Cpu, priority: number): Path<number> {
  if (k.hinting?.discardList !== 'on') return 0
  const cause = k.emit(cpu, 'DiscardCollectionStarted', { priority })
  yield* on_each_cpu(k.sim, cpu, k.callFunctionLock, 'page_shrink_discards', (target) => {
    const list = k.state.cpus.discardLists[target.id]!
    if (list.length > 0) k.emit(target, 'DiscardListSpliced', { collector: cpu.id, pfns: [...list] }, cause)
  })
  const g = k.state.cpus.collecting.get(cpu.id)!
  const pfns = [...g.pfns]
  const from = [...g.from]
  // Nothing gathered: the collection ends with an empty free.
  if (pfns.length === 0) k.emit(cpu, 'DiscardCollectionFreed', { pfns: [], perCpu: new Array<number>(k.cpus.length).fill(0), mts: [] }, cause)
  for (let i = 0; i < pfns.length; i++) {
    if (i > 0) yield point(cpu, AT_SHRINK_DISCARDS, pfns[i]!)
    yield* free_collected_page(k, cpu, pfns[i]!, from[i]!, cause)
  }
  return pfns.length
}

/** CPU_DEAD in page_alloc_cpu_notify: drain the dead CPU's pcp lists, take its discard list. */
export const page_alloc_cpu_dead = (k: Kernel, cpu: Cpu, dead: Cpu): void => {
  local_irq_disable(cpu)
  const s = k.state.zone
  for (const z of s.zones) {
    const n = s.pcpCount[pcpCountIdx(s, dead.id, z.idx)]!
    if (n > 0) free_pcppages_bulk(k, cpu, z.idx, n, 'cpu-dead', dead)
  }
  const count = k.state.cpus.discardLists[dead.id]!.length
  if (count > 0) k.emit(cpu, 'DiscardListMoved', { from: dead.id, to: cpu.id, count })
  local_irq_enable(k.sim, cpu)
}
