// Anonymous VMAs (mm/mmap.c, mm/mprotect.c): the heap mmap, __split_vma, vma_adjust with its
// boundary moves (mprotect cases 4 and 5) and dup_anon_vma, vma_merge, mprotect, munmap, and the
// anonymous VMAs' part of fork (dup_mmap) and exit (exit_mmap). Everything here runs with the
// process's mmap_sem held for writing; rmap walks do not take it, which is why vma_adjust must
// keep them out by the anon_vma lock (lockRmap).
import { HEAP_PAGES } from '../../workload/codec'
import { assert } from '../../lib'
import { findVma, vmasOf, type Vma } from '../../projections/anon_vma/state'
import type { Kernel } from '../kernel'
import { STEP_POINT, type Cpu, type Path } from '../sim/cpu'
import { spin_lock, spin_unlock } from '../sim/sync'
import { page_unused, anon_vma_clone, anon_vma_fork, unlink_anon_vmas } from './rmap'
import { page_remove_rmap_last } from './memory'
import { __free_pages } from './page_free'

const vmaOf = (k: Kernel, id: number): Vma => {
  const v = k.state.anonVma.vmas.get(id)
  assert(v !== undefined, `VMA ${id} exists`)
  return v
}

/** The VMA after `v` in its process (vma->vm_next), or undefined. */
const nextVma = (k: Kernel, v: Vma): Vma | undefined => {
  const ids = k.state.anonVma.mmVmas.get(v.mm)!
  const i = ids.indexOf(v.id)
  return i >= 0 && i + 1 < ids.length ? vmaOf(k, ids[i + 1]!) : undefined
}

/** The anonymous heap: one private writable mapping of HEAP_PAGES pages at 0 (vm_pgoff = its address). */
export const mmap_heap = (k: Kernel, cpu: Cpu, mm: number): void => {
  if (k.state.anonVma.mmVmas.has(mm)) return
  k.emit(cpu, 'VmaMapped', { mm, vma: k.state.anonVma.nextVma, start: 0, end: HEAP_PAGES, pgoff: 0, writable: true, how: 'mmap' })
}

/**
 * __split_vma: a copy of `v` takes the part below `at` (newBelow) or above it, linked to every
 * anon_vma of v's chain (anon_vma_clone, under the root's lock) before v shrinks. Returns the new VMA.
 */
export const split_vma = function* (k: Kernel, cpu: Cpu, v: Vma, at: number, newBelow: boolean): Path<Vma> {
  const lock = v.chain.length > 0 ? k.locks.anonVma(k.state.anonVma.anonVmas.get(v.chain[0]!)!.root) : null
  if (lock !== null) yield* spin_lock(k.sim, cpu, lock)
  // Ids are handed out as events are emitted: read it here, after any wait for the lock.
  const id = k.state.anonVma.nextVma
  k.emit(cpu, 'VmaSplit', { vma: v.id, new: id, at, newBelow })
  if (lock !== null) spin_unlock(k.sim, cpu, lock)
  return vmaOf(k, id)
}

/**
 * vma_adjust(vma, start, end, pgoff): give `vma` a new range, and the neighbour what that implies:
 * swallowed whole (removed after the range moves, mprotect cases 1, 6), its start moved up
 * (case 5: vma takes the neighbour's first pages) or down (case 4: vma gives it its last). The
 * importing VMA must be linked to the exporter's anon_vmas first ("Easily overlooked: when
 * mprotect shifts the boundary, make sure the expanding vma has anon_vma set if the shrinking vma
 * had": dup_anon_vma). With lockRmap on, the root anon_vma's lock is held across the ranges'
 * change, so an rmap walk sees both VMAs before or after; off, each VMA changes in its own step
 * and a walk may find the moved pages covered by neither (case 4) and miss their ptes.
 */
export const vma_adjust = function* (k: Kernel, cpu: Cpu, vma: Vma, start: number, end: number, pgoff: number): Path {
  const next = nextVma(k, vma)
  const wantedEnd = end
  let importer: Vma | null = null
  let exporter: Vma | null = null
  let removeNext = false
  let adjustNext = 0
  if (next !== undefined && end >= next.end) {
    removeNext = true
    end = next.end
    ;[importer, exporter] = [vma, next]
  } else if (next !== undefined && end > next.start) {
    adjustNext = end - next.start
    ;[importer, exporter] = [vma, next]
  } else if (next !== undefined && end < vma.end && vma.end === next.start) {
    adjustNext = -(vma.end - end)
    ;[importer, exporter] = [next, vma]
  }
  if (importer !== null && exporter!.anonVma !== null && importer.anonVma === null) yield* anon_vma_clone(k, cpu, importer, exporter!, 'inherit')
  const ranges = [{ vma: vma.id, start, end, pgoff }]
  if (adjustNext !== 0) ranges.push({ vma: next!.id, start: next!.start + adjustNext, end: next!.end, pgoff: next!.pgoff + adjustNext })
  const anonVma = vma.anonVma ?? (adjustNext !== 0 ? next!.anonVma : null)
  if (k.rmap.lockRmap === 'on' || ranges.length === 1) {
    const lock = anonVma === null ? null : k.locks.anonVma(k.state.anonVma.anonVmas.get(anonVma)!.root)
    if (lock !== null) yield* spin_lock(k.sim, cpu, lock)
    k.emit(cpu, 'VmaAdjusted', { vmas: ranges })
    if (lock !== null) spin_unlock(k.sim, cpu, lock)
  } else {
    // vma->vm_start/vm_end/vm_pgoff, then next->vm_start/vm_pgoff, with nothing keeping a walk out.
    for (let i = 0; i < ranges.length; i++) {
      if (i > 0) yield STEP_POINT
      k.emit(cpu, 'VmaAdjusted', { vmas: [ranges[i]!] })
    }
  }
  if (removeNext) {
    // anon_vma_merge: the swallowed VMA shares vma's anon_vma (is_mergeable_anon_vma), so
    // unlinking it leaves vma's chain to find their pages.
    yield* unlink_anon_vmas(k, cpu, next!)
    k.emit(cpu, 'VmaRemoved', { vma: next!.id })
    // remove_next == 2: the range reached past the swallowed VMA into the one after.
    if (wantedEnd > end) yield* vma_adjust(k, cpu, vma, start, wantedEnd, pgoff)
  }
}

/** is_mergeable_anon_vma: equal anon_vmas, or one side without one while the VMA's chain is a single link. */
const is_mergeable_anon_vma = (a1: number | null, a2: number | null, v: Vma): boolean => ((a1 === null || a2 === null) && v.chain.length === 1) || a1 === a2

/** can_vma_merge_after / can_vma_merge_before: same flags, mergeable anon_vmas, contiguous page offsets. */
const canMergeAfter = (prev: Vma, writable: boolean, anonVma: number | null, pgoff: number): boolean =>
  prev.writable === writable && is_mergeable_anon_vma(anonVma, prev.anonVma, prev) && prev.pgoff + (prev.end - prev.start) === pgoff
const canMergeBefore = (next: Vma, writable: boolean, anonVma: number | null, pgoff: number): boolean =>
  next.writable === writable && is_mergeable_anon_vma(anonVma, next.anonVma, next) && next.pgoff === pgoff

/**
 * vma_merge: can [addr, end) with these flags become part of prev, of the VMA after it, or join
 * both? Returns the VMA that now covers it, or null (the caller splits instead).
 */
export const vma_merge = function* (
  k: Kernel,
  cpu: Cpu,
  mm: number,
  prev: Vma | null,
  addr: number,
  end: number,
  writable: boolean,
  anonVma: number | null,
  pgoff: number,
): Path<Vma | null> {
  const first = vmasOf(k.state.anonVma, mm)[0]
  let next = prev !== null ? nextVma(k, prev) : first
  const area = next
  if (next !== undefined && next.end === end) next = nextVma(k, next)
  const pglen = end - addr
  if (prev !== null && prev.end === addr && canMergeAfter(prev, writable, anonVma, pgoff)) {
    if (next !== undefined && end === next.start && canMergeBefore(next, writable, anonVma, pgoff + pglen) && is_mergeable_anon_vma(prev.anonVma, next.anonVma, prev)) {
      yield* vma_adjust(k, cpu, prev, prev.start, next.end, prev.pgoff) // cases 1, 6
    } else yield* vma_adjust(k, cpu, prev, prev.start, end, prev.pgoff) // cases 2, 5, 7
    return prev
  }
  if (next !== undefined && end === next.start && canMergeBefore(next, writable, anonVma, pgoff + pglen)) {
    if (prev !== null && addr < prev.end)
      yield* vma_adjust(k, cpu, prev, prev.start, addr, prev.pgoff) // case 4
    else yield* vma_adjust(k, cpu, area!, addr, next.end, next.pgoff - pglen) // cases 3, 8
    return area!
  }
  return null
}

/** mprotect_fixup: one VMA's part [start, end) gets the new protection, by merging or by splitting. */
const mprotect_fixup = function* (k: Kernel, cpu: Cpu, vma: Vma, prev: Vma | null, start: number, end: number, writable: boolean): Path<Vma> {
  if (vma.writable === writable) return vma
  const pgoff = vma.pgoff + (start - vma.start)
  const merged = yield* vma_merge(k, cpu, vma.mm, prev, start, end, writable, vma.anonVma, pgoff)
  if (merged !== null) return merged
  if (start !== vma.start) yield* split_vma(k, cpu, vma, start, true)
  if (end !== vma.end) yield* split_vma(k, cpu, vma, end, false)
  k.emit(cpu, 'VmaProtectionChanged', { vma: vma.id, writable })
  return vma
}

/** sys_mprotect on [start, end) of the anonymous heap (mmap_sem held for writing); an error when part of it is not mapped. */
export const do_mprotect = function* (k: Kernel, cpu: Cpu, mm: number, start: number, end: number, writable: boolean): Path<string | null> {
  const a = k.state.anonVma
  let vma = findVma(a, mm, start)
  if (vma === undefined) return `[${start}, ${end}) is not mapped (ENOMEM)`
  const all = vmasOf(a, mm)
  let prev: Vma | null = start > vma.start ? vma : (all[all.indexOf(vma) - 1] ?? null)
  for (let nstart = start; ;) {
    const tmp = Math.min(vma.end, end)
    prev = yield* mprotect_fixup(k, cpu, vma, prev, nstart, tmp, writable)
    nstart = tmp
    if (nstart >= end) return null
    const n = nextVma(k, prev)
    if (n === undefined || n.start !== nstart) return `[${nstart}, ${end}) is not mapped (ENOMEM)`
    vma = n
  }
}

/** zap_pte_range for one VMA: every anonymous pte goes, and a page nothing else holds is freed. */
const zap_vma = function* (k: Kernel, cpu: Cpu, v: Vma): Path {
  const ptes = k.state.mms.mms.get(v.mm)?.ptes
  if (ptes === undefined) return
  const vpns = [...ptes.keys()].filter((vpn) => vpn >= v.start && vpn < v.end)
  for (const vpn of vpns) {
    yield STEP_POINT
    const ptl = k.locks.ptl(v.mm)
    yield* spin_lock(k.sim, cpu, ptl)
    const pte = ptes.get(vpn)
    let last = false
    if (pte !== undefined) {
      k.emit(cpu, 'PteCleared', { pfn: pte.pfn, mm: v.mm, vpn })
      last = page_unused(k, pte.pfn)
      yield* page_remove_rmap_last(k, cpu, pte.pfn)
    }
    spin_unlock(k.sim, cpu, ptl)
    if (last) yield* __free_pages(k, cpu, pte!.pfn, 0, false)
  }
}

/** do_munmap of [start, end): split the VMAs at its edges, zap, unlink_anon_vmas, remove. */
export const do_munmap = function* (k: Kernel, cpu: Cpu, mm: number, start: number, end: number): Path {
  const a = k.state.anonVma
  const vma = vmasOf(a, mm).find((v) => v.end > start)
  if (vma === undefined || vma.start >= end) return
  if (start > vma.start) yield* split_vma(k, cpu, vma, start, true)
  const last = findVma(a, mm, end)
  if (last !== undefined && end > last.start) yield* split_vma(k, cpu, last, end, true)
  const doomed = vmasOf(a, mm).filter((v) => v.start >= start && v.end <= end)
  for (const v of doomed) yield* zap_vma(k, cpu, v)
  for (const v of doomed) {
    yield* unlink_anon_vmas(k, cpu, v)
    k.emit(cpu, 'VmaRemoved', { vma: v.id })
  }
}

/** dup_mmap's anonymous part: each VMA copied into the child, then linked by anon_vma_fork. */
export const dup_anon_vmas = function* (k: Kernel, cpu: Cpu, parent: number, child: number): Path {
  for (const pv of vmasOf(k.state.anonVma, parent)) {
    const id = k.state.anonVma.nextVma
    k.emit(cpu, 'VmaMapped', { mm: child, vma: id, start: pv.start, end: pv.end, pgoff: pv.pgoff, writable: pv.writable, how: 'fork' })
    yield* anon_vma_fork(k, cpu, vmaOf(k, id), pv)
  }
}

/** exit_mmap's anonymous part, after the ptes are gone: free_pgtables' unlink_anon_vmas, then remove_vma. */
export const exit_anon_vmas = function* (k: Kernel, cpu: Cpu, mm: number): Path {
  for (const v of vmasOf(k.state.anonVma, mm)) {
    yield* unlink_anon_vmas(k, cpu, v)
    k.emit(cpu, 'VmaRemoved', { vma: v.id })
  }
}
