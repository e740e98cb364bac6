// Anonymous reverse mapping (mm/rmap.c; reference: rmap-c-annotated-history.txt, kernel-facts.md
// §3): anon_vma_prepare on the first fault of a VMA, anon_vma_fork / anon_vma_clone at fork with
// the reuse heuristic of 7a3ef208e662 (and its 2022 fix), unlink_anon_vmas in two passes, the
// page's anonymous rmap (page_add_new_anon_rmap, page_move_anon_rmap), and rmap_walk_anon with
// its two users, page_referenced and try_to_unmap. Each decides from the anon_vma projection and
// changes it only through events; the locks are the root anon_vma's (anon_vma_lock_write,
// page_lock_anon_vma_read) and the page table lock.
import type { RmapWalkKind } from '../../events/anon'
import { assert } from '../../lib'
import { findVma, NO_ANON_VMA, vmaAddress, type AnonVma, type Vma } from '../../projections/anon_vma/state'
import type { Kernel } from '../kernel'
import { STEP_POINT, type Cpu, type Path } from '../sim/cpu'
import { spin_lock, spin_unlock } from '../sim/sync'
import { __free_pages } from './page_free'
import { page_remove_rmap_last } from './memory'

const anonVmaOf = (k: Kernel, id: number): AnonVma => {
  const av = k.state.anonVma.anonVmas.get(id)
  assert(av !== undefined, `anon_vma ${id} is alive`)
  return av
}

/** The lock every user of an anon_vma takes: its root's (012f18004da3, "always lock the root"). */
const rootLock = (k: Kernel, anonVma: number) => k.locks.anonVma(anonVmaOf(k, anonVma).root)

/**
 * find_mergeable_anon_vma: a neighbour that could one day be merged with `v` (adjacent, linear
 * page offsets) lends its anon_vma, but only if its chain is that one anon_vma alone
 * (d0e9fe1758f2: list_is_singular), so that the two never need different chains.
 */
const find_mergeable_anon_vma = (k: Kernel, v: Vma): number | null => {
  const a = k.state.anonVma
  for (const w of [findVma(a, v.mm, v.end), findVma(a, v.mm, v.start - 1)]) {
    if (w === undefined || w === v || w.anonVma === null || w.chain.length !== 1) continue
    const [lo, hi] = w.start < v.start ? [w, v] : [v, w]
    if (lo.end === hi.start && hi.pgoff === lo.pgoff + (hi.start - lo.start)) return w.anonVma
  }
  return null
}

/**
 * anon_vma_prepare (mmap_sem held for reading): give `v` an anon_vma before its first anonymous
 * page. The allocations may sleep, and another thread of the process may fault the same VMA
 * meanwhile; so the kernel re-checks vma->anon_vma under the anon_vma lock and
 * mm->page_table_lock, and the loser frees what it allocated. Without the re-check
 * (anonVmaPrepare: unchecked) both attach one, and the first thread's is lost from
 * vma->anon_vma while its chain and pages keep it. Returns vma->anon_vma.
 */
export const anon_vma_prepare = function* (k: Kernel, cpu: Cpu, v: Vma): Path<number> {
  if (v.anonVma !== null) return v.anonVma
  const mergeable = find_mergeable_anon_vma(k, v)
  // anon_vma_chain_alloc and anon_vma_alloc (GFP_KERNEL): another CPU may run here.
  yield STEP_POINT
  const lock = mergeable === null ? null : rootLock(k, mergeable)
  if (lock !== null) yield* spin_lock(k.sim, cpu, lock)
  const ptl = k.locks.ptl(v.mm)
  yield* spin_lock(k.sim, cpu, ptl)
  if (k.rmap.anonVmaPrepare === 'unchecked' || v.anonVma === null)
    k.emit(cpu, 'AnonVmaPrepared', { vma: v.id, anonVma: mergeable ?? k.state.anonVma.nextAnonVma, mergeable: mergeable !== null })
  // else: another thread won; what we allocated is freed unseen (put_anon_vma, anon_vma_chain_free).
  spin_unlock(k.sim, cpu, ptl)
  if (lock !== null) spin_unlock(k.sim, cpu, lock)
  return v.anonVma!
}

/**
 * anon_vma_clone's reuse heuristic (7a3ef208e662): walking src's chain oldest first, the first
 * anon_vma no VMA uses and with fewer than two children is taken as the child's own, so a fork
 * chain does not grow a level per generation. `degree` counted children and active VMAs in one
 * number and could not tell one child from one VMA, so an anon_vma still some VMA's own could be
 * taken (2555283eb40d fixed it by counting them apart).
 */
const reusable = (k: Kernel, src: Vma): number | null => {
  const mode = k.rmap.anonVmaReuse
  if (mode === 'off') return null
  for (let i = src.chain.length - 1; i >= 0; i--) {
    const av = anonVmaOf(k, src.chain[i]!)
    const ok = mode === 'degree' ? av.id !== src.anonVma && av.numChildren + av.numActiveVmas < 2 : src.anonVma !== null && av.numChildren < 2 && av.numActiveVmas === 0
    if (ok) return av.id
  }
  return null
}

/**
 * anon_vma_clone(dst, src) under the root's lock: link dst to every anon_vma of src's chain. With
 * `inherit` dst first takes src->anon_vma (dup_anon_vma; legacy fork's anon_vma_link); with
 * `reuse` the heuristic may pick dst's own among them. Returns dst->anon_vma.
 */
export const anon_vma_clone = function* (k: Kernel, cpu: Cpu, dst: Vma, src: Vma, how: 'inherit' | 'reuse'): Path<number | null> {
  if (src.chain.length === 0) return dst.anonVma
  const lock = rootLock(k, src.chain[0]!)
  yield* spin_lock(k.sim, cpu, lock)
  const reused = how === 'reuse' && dst.anonVma === null ? reusable(k, src) : null
  const anonVma = reused ?? (how === 'inherit' && dst.anonVma === null ? src.anonVma : dst.anonVma)
  k.emit(cpu, 'AnonVmaCloned', { vma: dst.id, src: src.id, anonVma, reused: reused !== null })
  spin_unlock(k.sim, cpu, lock)
  return dst.anonVma
}

/**
 * anon_vma_fork (dup_mmap, both mmap_sems held for writing): link the child VMA to every
 * anon_vma of the parent's chain, so rmap finds the pages the child shares until it COWs them,
 * then give it its own anon_vma (unless one was reused), a child of the parent VMA's, for the
 * pages it COWs. With legacy linking the child just joins the parent's anon_vma.
 */
export const anon_vma_fork = function* (k: Kernel, cpu: Cpu, child: Vma, parent: Vma): Path {
  if (parent.anonVma === null) return
  if (k.rmap.anonVmaLinking === 'legacy') {
    yield* anon_vma_clone(k, cpu, child, parent, 'inherit')
    return
  }
  if ((yield* anon_vma_clone(k, cpu, child, parent, 'reuse')) !== null) return
  const lock = rootLock(k, parent.anonVma)
  yield* spin_lock(k.sim, cpu, lock)
  k.emit(cpu, 'AnonVmaCreated', { vma: child.id, anonVma: k.state.anonVma.nextAnonVma, parent: parent.anonVma })
  spin_unlock(k.sim, cpu, lock)
}

/**
 * unlink_anon_vmas (munmap, exit, vma_merge's removal): the first pass, under the root's lock,
 * takes the VMA out of every interval tree, keeping the emptied anon_vmas; the second, with the
 * lock dropped, puts each. The chain is newest first, so a root is put after its children and
 * freed last. anon_vma_free takes and drops the root's lock when it is held, so a walker that
 * locked a tree the page still named finishes before it goes (page_lock_anon_vma's comment);
 * here each put takes it.
 */
export const unlink_anon_vmas = function* (k: Kernel, cpu: Cpu, v: Vma): Path {
  if (v.chain.length === 0) return
  const a = k.state.anonVma
  const lock = rootLock(k, v.chain[0]!)
  yield* spin_lock(k.sim, cpu, lock)
  const emptied = v.chain.filter((id) => {
    const av = anonVmaOf(k, id)
    return av.vmas.length === 1 && av.vmas[0] === v.id
  })
  k.emit(cpu, 'AnonVmaUnlinked', { vma: v.id, emptied })
  spin_unlock(k.sim, cpu, lock)
  for (const id of emptied) {
    // Taken (and given back at once) so that a free waits for a walker holding the tree; what is
    // freed is decided under it, as another CPU's put may have dropped the root's pins meanwhile.
    const l = k.locks.anonVma(anonVmaOf(k, id).root)
    yield* spin_lock(k.sim, cpu, l)
    const av = anonVmaOf(k, id)
    const freed: number[] = []
    if (av.refcount === 1) {
      freed.push(id)
      if (av.root !== id && k.state.anonVma.anonVmas.get(av.root)?.refcount === 1) freed.push(av.root)
    }
    k.emit(cpu, 'AnonVmaPut', { vma: v.id, anonVma: id, freed })
    spin_unlock(k.sim, cpu, l)
  }
  assert(a.vmas.get(v.id)!.chain.length === 0, `VMA ${v.id} is unlinked from every anon_vma`)
}

/** linear_page_index: the page offset `vpn` has in `v`. */
export const linear_page_index = (v: Vma, vpn: number): number => v.pgoff + (vpn - v.start)

/**
 * __page_set_anon_rmap: a page mapped exclusively (a new page, a COW copy) goes to
 * vma->anon_vma, where only this VMA and its descendants look; one mapped non-exclusively to the
 * root, "the oldest possible" anon_vma, which every VMA of the tree is linked to.
 */
const __page_set_anon_rmap = (k: Kernel, cpu: Cpu, pfn: number, v: Vma, vpn: number, exclusive: boolean): void => {
  assert(v.anonVma !== null, `VMA ${v.id} has an anon_vma before its pages are mapped`)
  const anonVma = exclusive ? v.anonVma : anonVmaOf(k, v.anonVma).root
  k.emit(cpu, 'AnonRmapAdded', { pfn, vma: v.id, anonVma, index: linear_page_index(v, vpn), exclusive })
}

/** page_add_new_anon_rmap: a new page's first mapping, exclusive by construction (pte lock held). */
export const page_add_new_anon_rmap = (k: Kernel, cpu: Cpu, pfn: number, v: Vma, vpn: number): void => __page_set_anon_rmap(k, cpu, pfn, v, vpn, true)

/** page_move_anon_rmap: do_wp_page reuses a page only this VMA maps; rmap need not search the parent or siblings for it any more. */
export const page_move_anon_rmap = (k: Kernel, cpu: Cpu, pfn: number, v: Vma): void => {
  assert(v.anonVma !== null, `VMA ${v.id} has an anon_vma`)
  k.emit(cpu, 'AnonRmapMoved', { pfn, vma: v.id, anonVma: v.anonVma })
}

/**
 * Whether a mapped page has no user left once a pte is gone: no walker holding it off the LRU,
 * and no reference on a hinting guest (whose pages projection counts them) or, without hinting,
 * no anonymous pte (only anonymous pages are mapped then).
 */
export const page_unused = (k: Kernel, pfn: number): boolean => {
  const a = k.state.anonVma
  if (a.isolated[pfn] === 1) return false
  return k.hinting !== null ? k.pages.refcount[pfn] === 0 : a.mapcount[pfn] === 0
}

/**
 * isolate_lru_page: the walker's reference (get_page_unless_zero); false when the page is not on
 * the anonymous LRU, or its last reference is gone and it is being freed.
 */
export const isolate_lru_page = (k: Kernel, cpu: Cpu, pfn: number): boolean => {
  const a = k.state.anonVma
  if (!a.lru.has(pfn)) return false
  if (k.hinting !== null ? k.pages.refcount[pfn] === 0 : a.mapcount[pfn] === 0) return false
  k.emit(cpu, 'AnonPageIsolated', { pfn })
  return true
}

/** putback_lru_page: back on the LRU; dropping the walker's reference frees a page nothing else uses. */
export const putback_lru_page = function* (k: Kernel, cpu: Cpu, pfn: number): Path {
  k.emit(cpu, 'AnonPagePutBack', { pfn })
  if (page_unused(k, pfn)) yield* __free_pages(k, cpu, pfn, 0, false)
}

export interface WalkResult {
  readonly visited: number
  readonly mapped: number
  readonly result: 'referenced' | 'SWAP_SUCCESS' | 'SWAP_AGAIN' | 'walked'
}

/**
 * rmap_walk_anon for page_referenced, try_to_unmap and rmap_walk. page_lock_anon_vma_read first: page->mapping
 * is read under RCU only (the anon_vma slab is SLAB_DESTROY_BY_RCU), so the page may be unmapped
 * and its anon_vma freed before the root's lock is taken; page_mapped is checked again under the
 * lock, where anon_vma_free cannot complete. Then every VMA of the anon_vma's interval tree that
 * covers the page is visited (rmap_one), one at a time, other CPUs running between them;
 * page_referenced stops once it found mapcount ptes, try_to_unmap once the page is unmapped;
 * rmap_walk visits them all.
 * Null when the page was not mapped (no walk).
 */
export const rmap_walk_anon = function* (k: Kernel, cpu: Cpu, pfn: number, walk: RmapWalkKind): Path<WalkResult | null> {
  const a = k.state.anonVma
  const id = a.mapping[pfn]!
  if (id === NO_ANON_VMA || a.mapcount[pfn] === 0) return null
  const root = a.anonVmas.get(id)?.root ?? id
  // rcu_read_lock; anon_vma = page->mapping; root = anon_vma->root; down_read_trylock(&root->rwsem).
  yield STEP_POINT
  const lock = k.locks.anonVma(root)
  yield* spin_lock(k.sim, cpu, lock)
  if (a.mapcount[pfn] === 0) {
    // The page was unmapped meanwhile: page->mapping may name a freed anon_vma.
    spin_unlock(k.sim, cpu, lock)
    return null
  }
  let left = a.mapcount[pfn]!
  k.emit(cpu, 'RmapWalkStarted', { pfn, anonVma: id, walk, mapcount: left })
  const tree = [...(a.anonVmas.get(id)?.vmas ?? [])]
  let visited = 0
  let mapped = 0
  const found: number[] = []
  for (const vid of tree) {
    const v = a.vmas.get(vid)
    if (v === undefined) continue
    // vma_address reads the VMA's range now: vma_adjust may be moving it (lockRmap: off).
    const vpn = vmaAddress(v, a.index[pfn]!)
    if (vpn < 0) continue
    yield STEP_POINT
    visited++
    const ptl = k.locks.ptl(v.mm)
    yield* spin_lock(k.sim, cpu, ptl)
    const pte = k.state.mms.mms.get(v.mm)?.ptes.get(vpn)
    if (pte !== undefined && pte.pfn === pfn) {
      mapped++
      if (!found.includes(v.mm)) found.push(v.mm)
      left--
      if (walk === 'try_to_unmap') {
        k.emit(cpu, 'PteCleared', { pfn, mm: v.mm, vpn })
        yield* page_remove_rmap_last(k, cpu, pfn)
      }
    }
    spin_unlock(k.sim, cpu, ptl)
    // page_referenced: `if (!mapcount) break`; try_to_unmap: `if (!page_mapped(page)) break`.
    if (walk === 'page_referenced' ? left <= 0 : walk === 'try_to_unmap' && a.mapcount[pfn] === 0) break
  }
  const result = walk === 'page_referenced' ? 'referenced' : walk === 'rmap_walk' ? 'walked' : a.mapcount[pfn] === 0 ? 'SWAP_SUCCESS' : 'SWAP_AGAIN'
  k.emit(cpu, 'RmapWalkFinished', { pfn, anonVma: id, walk, visited, mapped, found, result })
  spin_unlock(k.sim, cpu, lock)
  return { visited, mapped, result }
}

/**
 * shrink_active_list (and, for try_to_unmap, shrink_page_list) on these anonymous pages, one at
 * a time: each is isolated from the LRU (the reference that keeps it allocated while its
 * processes may unmap it), walked, and put back at the LRU's young end. A page that is not on
 * the LRU (another walker has it) or no longer referenced is skipped.
 */
export const shrink_active_list = function* (k: Kernel, cpu: Cpu, pfns: readonly number[], walk: RmapWalkKind): Path {
  for (const pfn of pfns) {
    yield STEP_POINT
    if (!isolate_lru_page(k, cpu, pfn)) continue
    yield* rmap_walk_anon(k, cpu, pfn, walk)
    yield* putback_lru_page(k, cpu, pfn)
  }
}
