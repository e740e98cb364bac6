// Anonymous memory and its reverse mapping (mm/rmap.c, include/linux/rmap.h; reference:
// rmap-c-annotated-history.txt and kernel-facts.md §3): anonymous VMAs, anon_vmas, the
// anon_vma_chains that link them, the rmap of each anonymous page, and rmap walks with their
// cost. Every change to that structure is one of these events; the anon_vma projection folds them.
import * as t from 'io-ts'
import { NonNegInt, Pfn, oneOf } from './codecs'

/** A VMA, an anon_vma: ids never reused in a run (a freed anon_vma's id names nothing afterwards). */
const VmaId = NonNegInt
const AnonVmaId = NonNegInt
const Mm = NonNegInt

/** How a VMA came to exist: mmap_region, or dup_mmap (fork). */
export const VMA_ORIGINS = ['mmap', 'fork'] as const

/**
 * A new anonymous private VMA [start, end) of process `mm` (virtual page numbers; vm_pgoff is the
 * linear page index of `start`), with no anon_vma yet: mmap leaves vma->anon_vma NULL until the
 * first fault, and anon_vma_fork clears the copy's before it links it.
 */
export const VmaMapped = t.type({
  type: t.literal('VmaMapped'),
  data: t.type({ mm: Mm, vma: VmaId, start: NonNegInt, end: NonNegInt, pgoff: NonNegInt, writable: t.boolean, how: oneOf(VMA_ORIGINS) }),
})
export type VmaMapped = t.TypeOf<typeof VmaMapped>

/**
 * __split_vma at `at`: `new` is a copy of `vma` (same anon_vma, linked to every anon_vma of its
 * chain by anon_vma_clone under the root's lock) covering the part below `at` when `newBelow`,
 * the part above otherwise; `vma` keeps the rest. One step: either VMA covers every page at
 * every moment, so no walk can miss one (Rik van Riel on VM_LOCK_RMAP's removal, 2010).
 */
export const VmaSplit = t.type({
  type: t.literal('VmaSplit'),
  data: t.type({ vma: VmaId, new: VmaId, at: NonNegInt, newBelow: t.boolean }),
})
export type VmaSplit = t.TypeOf<typeof VmaSplit>

/** One VMA's new vm_start, vm_end and vm_pgoff. */
export const VmaRange = t.type({ vma: VmaId, start: NonNegInt, end: NonNegInt, pgoff: NonNegInt })
export type VmaRange = t.TypeOf<typeof VmaRange>

/**
 * vma_adjust sets these VMAs' ranges (their anon_vma links do not change). Several in one event
 * when vma_adjust holds the root anon_vma's lock across them (lockRmap on): a walk sees all of
 * them before or after. Without it, each VMA is its own event and a walk may run in between.
 */
export const VmaAdjusted = t.type({
  type: t.literal('VmaAdjusted'),
  data: t.type({ vmas: t.array(VmaRange) }),
})
export type VmaAdjusted = t.TypeOf<typeof VmaAdjusted>

/** mprotect_fixup: vma->vm_flags = newflags (only the write permission is modelled). */
export const VmaProtectionChanged = t.type({
  type: t.literal('VmaProtectionChanged'),
  data: t.type({ vma: VmaId, writable: t.boolean }),
})
export type VmaProtectionChanged = t.TypeOf<typeof VmaProtectionChanged>

/** remove_vma (munmap, exit, or the VMA vma_merge folded into its neighbour): it was unlinked first. */
export const VmaRemoved = t.type({ type: t.literal('VmaRemoved'), data: t.type({ vma: VmaId }) })
export type VmaRemoved = t.TypeOf<typeof VmaRemoved>

/**
 * The locked part of anon_vma_prepare: `anonVma` becomes vma->anon_vma and an anon_vma_chain
 * links the two. A new anon_vma is its own root and parent (refcount 1, num_children 1 for the
 * self-parent link); one find_mergeable_anon_vma found (`mergeable`) is a neighbour's.
 */
export const AnonVmaPrepared = t.type({
  type: t.literal('AnonVmaPrepared'),
  data: t.type({ vma: VmaId, anonVma: AnonVmaId, mergeable: t.boolean }),
})
export type AnonVmaPrepared = t.TypeOf<typeof AnonVmaPrepared>

/**
 * anon_vma_clone(vma, src) under the root's lock: `vma` is linked to every anon_vma on src's
 * chain (oldest first, each at the head of vma's chain, so the two chains read alike). `anonVma`
 * is vma->anon_vma afterwards: src's when the caller set it first (dup_anon_vma in vma_adjust;
 * with legacy linking, fork's anon_vma_link), one the reuse heuristic picked from src's chain
 * (`reused`), or null (anon_vma_fork allocates one next). A VMA that ends with an anon_vma counts
 * in its num_active_vmas.
 */
export const AnonVmaCloned = t.type({
  type: t.literal('AnonVmaCloned'),
  data: t.type({ vma: VmaId, src: VmaId, anonVma: t.union([AnonVmaId, t.null]), reused: t.boolean }),
})
export type AnonVmaCloned = t.TypeOf<typeof AnonVmaCloned>

/**
 * The rest of anon_vma_fork: a new anon_vma whose root is the parent's root (which it pins:
 * get_anon_vma) and whose parent is the parent VMA's anon_vma (num_children + 1), linked to the
 * child VMA as its own.
 */
export const AnonVmaCreated = t.type({
  type: t.literal('AnonVmaCreated'),
  data: t.type({ vma: VmaId, anonVma: AnonVmaId, parent: AnonVmaId }),
})
export type AnonVmaCreated = t.TypeOf<typeof AnonVmaCreated>

/**
 * unlink_anon_vmas, first pass, under the root's lock: every anon_vma_chain of `vma` leaves its
 * anon_vma's interval tree. Chains whose tree became empty (`emptied`, newest first) stay on the
 * VMA for the second pass, and their anon_vma's parent loses a child; vma->anon_vma loses an
 * active VMA.
 */
export const AnonVmaUnlinked = t.type({
  type: t.literal('AnonVmaUnlinked'),
  data: t.type({ vma: VmaId, emptied: t.array(AnonVmaId) }),
})
export type AnonVmaUnlinked = t.TypeOf<typeof AnonVmaUnlinked>

/**
 * unlink_anon_vmas, second pass, one emptied anon_vma: its chain link is freed and put_anon_vma
 * drops a reference. At zero it is freed, and a freed non-root drops the reference it held on
 * its root, which may free the root too (`freed` lists what was freed, in order).
 */
export const AnonVmaPut = t.type({
  type: t.literal('AnonVmaPut'),
  data: t.type({ vma: VmaId, anonVma: AnonVmaId, freed: t.array(AnonVmaId) }),
})
export type AnonVmaPut = t.TypeOf<typeof AnonVmaPut>

/**
 * __page_set_anon_rmap: the page's first mapping gives it page->mapping = `anonVma` and
 * page->index = `index` (its linear page index). An exclusive page (page_add_new_anon_rmap: a
 * fresh page, a COW copy) takes vma->anon_vma; one mapped non-exclusively takes the root, "the
 * oldest possible". The page goes on the anonymous LRU.
 */
export const AnonRmapAdded = t.type({
  type: t.literal('AnonRmapAdded'),
  data: t.type({ pfn: Pfn, vma: VmaId, anonVma: AnonVmaId, index: NonNegInt, exclusive: t.boolean }),
})
export type AnonRmapAdded = t.TypeOf<typeof AnonRmapAdded>

/** page_move_anon_rmap: do_wp_page reuses a page only this VMA maps; it moves to vma->anon_vma. */
export const AnonRmapMoved = t.type({
  type: t.literal('AnonRmapMoved'),
  data: t.type({ pfn: Pfn, vma: VmaId, anonVma: AnonVmaId }),
})
export type AnonRmapMoved = t.TypeOf<typeof AnonRmapMoved>

/** A present pte's write bit: fork write-protects private anonymous ptes, do_wp_page's reuse sets it again. */
export const PteWriteChanged = t.type({
  type: t.literal('PteWriteChanged'),
  data: t.type({ pfn: Pfn, mm: Mm, vpn: NonNegInt, writable: t.boolean }),
})
export type PteWriteChanged = t.TypeOf<typeof PteWriteChanged>

/** isolate_lru_page: a walker takes the page off the anonymous LRU, with a reference that keeps it allocated. */
export const AnonPageIsolated = t.type({ type: t.literal('AnonPageIsolated'), data: t.type({ pfn: Pfn }) })
export type AnonPageIsolated = t.TypeOf<typeof AnonPageIsolated>

/** putback_lru_page: back at the young end of the LRU, the walker's reference dropped. */
export const AnonPagePutBack = t.type({ type: t.literal('AnonPagePutBack'), data: t.type({ pfn: Pfn }) })
export type AnonPagePutBack = t.TypeOf<typeof AnonPagePutBack>

/**
 * What an rmap walk is for: reclaim's aging (page_referenced, which stops once it found
 * page_mapcount ptes), unmapping the page from every process (try_to_unmap, which stops once the
 * page is unmapped), or rmap_walk as migration's remove_migration_ptes uses it, which visits every
 * VMA of the tree that covers the page and changes nothing here.
 */
export const RMAP_WALKS = ['page_referenced', 'try_to_unmap', 'rmap_walk'] as const
export const RmapWalkKind = oneOf(RMAP_WALKS)
export type RmapWalkKind = t.TypeOf<typeof RmapWalkKind>

/**
 * rmap_walk_anon has locked the anon_vma page->mapping names (through its root) and seen the page
 * mapped: it walks that anon_vma's interval tree from here. `mapcount` is page_mapcount then.
 */
export const RmapWalkStarted = t.type({
  type: t.literal('RmapWalkStarted'),
  data: t.type({ pfn: Pfn, anonVma: AnonVmaId, walk: RmapWalkKind, mapcount: NonNegInt }),
})
export type RmapWalkStarted = t.TypeOf<typeof RmapWalkStarted>

/** try_to_unmap's answer; page_referenced reports `referenced` and rmap_walk `walked`, with the ptes found. */
export const RMAP_RESULTS = ['referenced', 'SWAP_SUCCESS', 'SWAP_AGAIN', 'walked'] as const

/**
 * The walk is done: it visited `visited` VMAs (rmap_one calls: the tree's VMAs whose range covers
 * the page), found the page mapped through `mapped` of them, in the processes `found`.
 */
export const RmapWalkFinished = t.type({
  type: t.literal('RmapWalkFinished'),
  data: t.type({
    pfn: Pfn,
    anonVma: AnonVmaId,
    walk: RmapWalkKind,
    visited: NonNegInt,
    mapped: NonNegInt,
    found: t.array(Mm),
    result: oneOf(RMAP_RESULTS),
  }),
})
export type RmapWalkFinished = t.TypeOf<typeof RmapWalkFinished>
