// The invariants of anonymous reverse mapping that are about what happens, checked on each event
// against the state it meets: a walk finds every pte that mapped the page throughout it; a walk
// never starts from a stale page->mapping (kernel-facts.md §3, race 1); an anon_vma is never freed
// while a mapped page or another VMA's chain still names it (race 3, the 2022 fix).
import type { MmEvent } from '../../events'
import type { EventMonitor } from '../invariants'
import type { MmState } from '../state'
import { reuseOn } from './state'

type Monitor = EventMonitor<MmState, MmEvent>

export const walkComplete: Monitor = {
  name: 'rmap.walk-complete',
  description: 'an rmap walk finds every process whose pte mapped the page from the walk’s start to its end',
  check: (s, e) => {
    if (e.type !== 'RmapWalkFinished' || e.cpu === null) return null
    const w = s.anonVma.walks.get(e.cpu)
    if (w === undefined) return null
    // page_referenced stops once it found mapcount ptes. A pte found twice (two VMAs of one
    // process covering the page: vma_merge's window between vma_adjust and anon_vma_merge, or an
    // expanding VMA before the shrinking one moved) can end it early, as in the kernel, where
    // aging is a heuristic; a walk that ran to its end must have found every pte.
    if (e.data.walk === 'page_referenced' && e.data.mapped >= w.mapcount) return null
    const missed = w.present.filter((mm) => !e.data.found.includes(mm))
    if (missed.length === 0) return null
    return {
      message: `${e.data.walk} of page ${e.data.pfn} (anon_vma ${e.data.anonVma}) visited ${e.data.visited} VMA(s) and missed the pte of process ${missed.join(', ')}, which mapped it throughout`,
      pfn: e.data.pfn,
    }
  },
}

export const walkNotStale: Monitor = {
  name: 'rmap.walk-on-stale-mapping',
  description: 'an rmap walk starts only from a page that is still mapped, so page->mapping still names its live anon_vma (page_lock_anon_vma re-checks page_mapped)',
  check: (s, e) => {
    if (e.type !== 'RmapWalkStarted') return null
    const a = s.anonVma
    const { pfn, anonVma } = e.data
    if (!a.anonVmas.has(anonVma))
      return { message: `${e.data.walk} of page ${pfn} walks anon_vma ${anonVma}, which was freed: page->mapping is stale (the slab may have reused it, SLAB_DESTROY_BY_RCU)`, pfn }
    if (a.mapcount[pfn] === 0) return { message: `${e.data.walk} of page ${pfn} walks anon_vma ${anonVma} although the page is no longer mapped: page->mapping is stale`, pfn }
    return null
  },
}

export const noFreeInUse: Monitor = {
  name: 'rmap.anon-vma-freed-in-use',
  description: 'an anon_vma is freed only when no mapped page’s page->mapping, no other VMA’s chain and no child anon_vma names it',
  check: (s, e) => {
    if (e.type !== 'AnonVmaPut' || e.data.freed.length === 0) return null
    const a = s.anonVma
    for (const id of e.data.freed) {
      const av = a.anonVmas.get(id)
      if (av === undefined) continue
      if (av.mappedPages > 0)
        return { message: `anon_vma ${id} is freed while ${av.mappedPages} mapped page(s) still name it in page->mapping: the next rmap walk of them uses freed memory` }
      for (const v of a.vmas.values())
        if (v.chain.includes(id) && !(v.id === e.data.vma && id === e.data.anonVma))
          return { message: `anon_vma ${id} is freed while VMA ${v.id} (process ${v.mm}) is still chained to it` }
      for (const child of a.anonVmas.values())
        if (child.parent === id && child.id !== id && !e.data.freed.includes(child.id))
          return { message: `anon_vma ${id} is freed while anon_vma ${child.id} still names it as its parent` }
    }
    return null
  },
}

/**
 * 7a3ef208e662 claims that with reuse "each anon_vma has either vma or at least two descending
 * anon_vmas", so anon_vmas are at most twice the VMAs. That holds at each fork, not in every
 * state: when the processes between a root and a leaf exit, their anon_vmas stay (each still has
 * its child's VMAs in its tree) with no VMA and one child, and the count exceeds twice the VMAs
 * until a fork reuses them (kernel-facts §3 states the bound without that condition). What the
 * heuristic guarantees is checked here: a fork allocates a new level only when the parent VMA's
 * chain has no anon_vma that no VMA uses and that has fewer than two children (counted apart, as
 * 2555283eb40d does), so a chain of fork-and-exit generations cannot grow without bound.
 */
export const reuseBeforeNewLevel: Monitor = {
  name: 'rmap.anon-vma-reuse',
  description: 'with anon_vma reuse on, fork gives a VMA a new anon_vma only when its parent’s chain has none left that no VMA uses and that has fewer than two children',
  check: (s, e) => {
    if (e.type !== 'AnonVmaCreated' || !reuseOn(s.anonVma.config)) return null
    const a = s.anonVma
    const child = a.vmas.get(e.data.vma)
    if (child === undefined) return null
    const idle = child.chain.filter((id) => {
      const av = a.anonVmas.get(id)
      return av !== undefined && av.numActiveVmas === 0 && av.numChildren < 2
    })
    if (idle.length === 0) return null
    return {
      message: `fork gives VMA ${child.id} (process ${child.mm}) a new anon_vma ${e.data.anonVma} although anon_vma ${idle[0]} of its chain has no VMA and fewer than two children: the hierarchy grows a level it could have reused`,
    }
  },
}

export const prepareOnce: Monitor = {
  name: 'rmap.prepare-once',
  description: 'anon_vma_prepare gives an anon_vma only to a VMA that has none (it re-checks vma->anon_vma under mm->page_table_lock: threads race)',
  check: (s, e) => {
    if (e.type !== 'AnonVmaPrepared') return null
    const v = s.anonVma.vmas.get(e.data.vma)
    if (v === undefined || v.anonVma === null) return null
    return {
      message: `anon_vma_prepare gives VMA ${v.id} (process ${v.mm}) anon_vma ${e.data.anonVma} although another thread gave it anon_vma ${v.anonVma}: the first one stays on the chain and on the pages faulted through it, no longer vma->anon_vma`,
    }
  },
}

/**
 * 2555283eb40d: anon_vma_clone may take an anon_vma as the new VMA's own only if no VMA uses it.
 * The `degree` heuristic could not tell one child anon_vma from one VMA using it, so it could
 * reuse an anon_vma still another VMA's own: two VMAs then share vma->anon_vma with different
 * chains, and vma_merge, which takes a shared anon_vma for a shared chain, can fold one into the
 * other and leave page->mapping naming an anon_vma the merged VMA is not chained to.
 */
export const reuseUnused: Monitor = {
  name: 'rmap.reuse-unused',
  description: 'anon_vma_clone reuses only an anon_vma that no VMA has as its vma->anon_vma',
  check: (s, e) => {
    if (e.type !== 'AnonVmaCloned' || !e.data.reused || e.data.anonVma === null) return null
    const a = s.anonVma
    const users = [...a.vmas.values()].filter((v) => !v.unlinked && v.anonVma === e.data.anonVma)
    if (users.length === 0) return null
    const u = users[0]!
    return {
      message: `fork reuses anon_vma ${e.data.anonVma} for VMA ${e.data.vma} while VMA ${u.id} (process ${u.mm}) still uses it (chain ${u.chain.join(',')}, the new VMA's: ${a.vmas.get(e.data.src)?.chain.join(',')})`,
    }
  },
}

export const anonVmaMonitors: readonly Monitor[] = [walkComplete, walkNotStale, noFreeInUse, reuseBeforeNewLevel, prepareOnce, reuseUnused]
