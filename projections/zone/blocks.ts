// The zone's list and pageblock primitives every evolve shares: a free block on and off its
// list, frames marked, a pageblock's migratetype set with nr_isolate_pageblock in step.
import { MIGRATE_ISOLATE } from '../../events/codecs'
import { assert } from '../../lib'
import { freeListAdd, freeListDel, freeListInsertBefore, pcpListDel } from './lists'
import { FRAME_ALLOCATED, FRAME_PCP, NIL, freeListIdx, nrFreeIdx, pcpCountIdx, pcpListIdx, pcpListMt, type BlockLeaving, type ZoneState } from './state'

/** Frees counted in NR_FREE_PAGES: everything but MIGRATE_ISOLATE (__mod_zone_freepage_state). */
export const freepageDelta = (mt: number, pages: number): number => (mt === MIGRATE_ISOLATE ? 0 : pages)

/** set_pageblock_migratetype, keeping zone->nr_isolate_pageblock in step. */
export const setPageblockMt = (s: ZoneState, zone: number, pfn: number, mt: number): void => {
  const pb = pfn >> s.pageblockOrder
  const old = s.pageblockMt[pb]!
  if (old === mt) return
  const z = s.zones[zone]!
  if (old === MIGRATE_ISOLATE) z.nrIsolatePageblock--
  if (mt === MIGRATE_ISOLATE) z.nrIsolatePageblock++
  s.pageblockMt[pb] = mt
}

export const markFrames = (s: ZoneState, pfn: number, pages: number, state: number): void => {
  s.frame.fill(state, pfn, pfn + pages)
}

/** A free block off its list; `why` tells free page reporting's hooks whether it goes to a user, merges (or into a batch or an isolation), or moves to another migratetype's list. */
export const delFreeBlock = (s: ZoneState, zone: number, pfn: number, order: number, why: BlockLeaving = 'merge'): number => {
  const mt = s.listMt[pfn]!
  assert(s.freeOrder[pfn] === order, 'a free block of this order starts here')
  s.reporting?.blockLeaving(zone, pfn, order, mt, why)
  freeListDel(s, freeListIdx(zone, order, mt), pfn)
  s.nrFree[nrFreeIdx(zone, order)]!--
  s.freeOrder[pfn] = -1
  s.listMt[pfn] = -1
  return mt
}

export const addFreeBlock = (s: ZoneState, zone: number, pfn: number, order: number, mt: number, atTail: boolean): void => {
  // aerator_get_tail: while a zone is being aerated, tail inserts land above the aerated run.
  const anchor = atTail && s.reporting !== null ? s.reporting.tailAnchor(zone, order, mt) : NIL
  if (anchor !== NIL) freeListInsertBefore(s, freeListIdx(zone, order, mt), anchor, pfn)
  else freeListAdd(s, freeListIdx(zone, order, mt), pfn, atTail)
  s.nrFree[nrFreeIdx(zone, order)]!++
  s.freeOrder[pfn] = order
  s.listMt[pfn] = mt
}

/** A block leaves the user that held it (a free, or the 2007 patch's capture of one). */
export const leaveUser = (s: ZoneState, zone: number, pfn: number, order: number): void => {
  assert(s.frame[pfn] === FRAME_ALLOCATED && s.allocOrder[pfn] === order, 'freed block is allocated at this order')
  s.allocOrder[pfn] = -1
  s.allocMt[pfn] = -1
  s.zones[zone]!.allocatedPages -= 1 << order
}

/** An order-0 page leaves `cpu`'s pcp list on its way back to the buddy allocator (free_pcppages_bulk). */
export const leavePcp = (s: ZoneState, cpu: number | null, zone: number, pfn: number): void => {
  assert(cpu !== null && s.frame[pfn] === FRAME_PCP && s.pcpCpu[pfn] === cpu, 'page is on this CPU pcp list')
  pcpListDel(s, pcpListIdx(s, cpu, zone, pcpListMt(s.listMt[pfn]!)), pfn)
  s.pcpCount[pcpCountIdx(s, cpu, zone)]!--
  s.pcpCpu[pfn] = -1
  s.listMt[pfn] = -1
  s.zones[zone]!.pcpPages -= 1
}
