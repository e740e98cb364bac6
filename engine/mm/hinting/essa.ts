// ESSA, the instruction that tells the host a page's usage, as the kernel's call sites use it:
// arch_free_page (SET_UNUSED), arch_alloc_page (SET_STABLE), and the hinting paths. Each call
// emits one PageStateChanged per run of pages whose state it changes.
import type { PageState, StateChangeReason } from '../../../events/hinting'
import { essa_set_stable, essa_set_unused, stateName } from '../../../projections/pages/states'
import type { Kernel } from '../../kernel'
import type { Cpu } from '../../sim/cpu'

type Reason = StateChangeReason

/** Applies `order` to [pfn, pfn + npages), grouping pages that go from the same state to the same state. */
export const essa_range = (k: Kernel, cpu: Cpu | null, pfn: number, npages: number, order: (s: PageState) => PageState, reason: Reason): void => {
  const p = k.pages
  let runStart = pfn
  let runFrom: PageState | null = null
  let runTo: PageState | null = null
  const flush = (end: number) => {
    if (runFrom !== null && runTo !== null && runFrom !== runTo) k.emit(cpu, 'PageStateChanged', { pfn: runStart, npages: end - runStart, from: runFrom, to: runTo, reason })
  }
  for (let q = pfn; q < pfn + npages; q++) {
    const from = stateName(p.pstate[q]!)
    const to = order(from)
    if (from !== runFrom || to !== runTo) {
      flush(q)
      runStart = q
      runFrom = from
      runTo = to
    }
  }
  flush(pfn + npages)
}

/** One page's ESSA: emits the change if there is one; returns the new state. */
export const essa_page = (k: Kernel, cpu: Cpu | null, pfn: number, to: PageState, reason: Reason): PageState => {
  const from = stateName(k.pages.pstate[pfn]!)
  if (from !== to) k.emit(cpu, 'PageStateChanged', { pfn, npages: 1, from, to, reason })
  return to
}

/** arch_free_page: every page freed to the buddy allocator is unused to the host. */
export const arch_free_page = (k: Kernel, cpu: Cpu | null, pfn: number, order: number): void => {
  if (k.hinting !== null) essa_range(k, cpu, pfn, 1 << order, essa_set_unused, 'arch_free_page')
}

/** arch_alloc_page: every page handed out is stable. */
export const arch_alloc_page = (k: Kernel, cpu: Cpu | null, pfn: number, order: number): void => {
  if (k.hinting !== null) essa_range(k, cpu, pfn, 1 << order, essa_set_stable, 'arch_alloc_page')
}

/**
 * The content of a page is touched (a CPU access, or a DMA filling it): the host backs a
 * logically zero page (Sz -> Sr) and reads a paged-out one back (Sp -> Sr). Volatile and unused
 * pages are the caller's business (a discard fault, an addressing exception).
 */
export const host_touch = (k: Kernel, cpu: Cpu | null, pfn: number): void => {
  if (k.hinting === null) return
  const st = stateName(k.pages.pstate[pfn]!)
  if (st === 'Sz') essa_page(k, cpu, pfn, 'Sr', 'first-touch')
  else if (st === 'Sp') essa_page(k, cpu, pfn, 'Sr', 'swap-in')
}
