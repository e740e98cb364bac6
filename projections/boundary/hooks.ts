// How the boundary projection sees into the zone's free lists (zone/state.ts FreeListHooks): the
// RFC's aerator_get_tail, clear_page_aerated with aerator_del_from_boundary, and set_page_aerated
// with aerator_add_to_boundary; page reporting's PageReported set in drain and cleared whenever a
// block leaves a free list.
import { NIL, freeListIdx, nrFreeIdx, type FreeListHooks, type ZoneState } from '../zone/state'
import { isAeration, type BoundaryState } from './state'

export const boundaryHooks = (b: BoundaryState, s: ZoneState): FreeListHooks => {
  const aeration = isAeration(b)
  const skipWhenAllocated = b.config.delFromBoundary === 'skip-when-allocated'
  return {
    tailAnchor: (zone, order, mt) => {
      if (!aeration || order < b.minOrder || b.active[zone] === 0) return NIL
      const anchor = b.boundary[freeListIdx(zone, order, mt)]!
      // A boundary left on a block that is no longer on this list (the race variant) would make
      // the kernel link the new block into a stale lru; mmsim puts it at the list's own tail and
      // leaves the boundary wrong, which boundary.valid reports.
      if (anchor !== NIL && (s.freeOrder[anchor] !== order || s.listMt[anchor] !== mt)) return NIL
      return anchor
    },
    blockLeaving: (zone, pfn, order, mt, why) => {
      if (b.flag[pfn] === 0) return
      // Mainline's move_to_free_list keeps PageReported: the block is still free and reported. The
      // RFC's move clears PageAerated, as the block lands at the head of its new list, raw.
      if (!aeration && why === 'move') return
      // clear_page_aerated: push the boundary back if this block was it (aerator_del_from_boundary).
      const i = freeListIdx(zone, order, mt)
      if (aeration && b.active[zone] === 1 && b.boundary[i] === pfn && !(why === 'alloc' && skipWhenAllocated)) b.boundary[i] = s.next[pfn]!
      b.flag[pfn] = 0
      b.nrFreeAerated[nrFreeIdx(zone, order)]!--
    },
    blockReturned: (zone, pfn, order, mt, merged, reported) => {
      // A block that merged with any buddy is raw again (the RFC), or is reported later as the
      // larger block (page_reporting_drain's buddy_order check).
      if (merged || order < b.minOrder) return
      if (aeration) {
        b.flag[pfn] = 1
        b.nrFreeAerated[nrFreeIdx(zone, order)]!++
        b.boundary[freeListIdx(zone, order, mt)] = pfn
      } else if (reported) {
        b.flag[pfn] = 1
        b.nrFreeAerated[nrFreeIdx(zone, order)]!++
      }
    },
  }
}
