// The only place zone state changes. Each case replays what the kernel did under the zone lock
// (or with interrupts off for the per-cpu lists); the engine decided, this applies.
import { type EventOf, type MmEvent } from '../../events'
import { absurd, assert, fail } from '../../lib'
import { addFreeBlock, delFreeBlock, freepageDelta, leavePcp, leaveUser, markFrames, setPageblockMt } from './blocks'
import { isolationEvolvers } from './isolationEvolve'
import { freeListRotateToFront, pcpListAdd, pcpListDel } from './lists'
import {
  FRAME_ABSENT,
  FRAME_ALLOCATED,
  FRAME_BUDDY,
  FRAME_DISCARD,
  FRAME_PCP,
  FRAME_REPORTING,
  zoneOf,
  freeListIdx,
  pcpCountIdx,
  pcpListIdx,
  pcpListMt,
  type ZoneState,
} from './state'

const pageAllocated = (s: ZoneState, e: EventOf<'PageAllocated'>): void => {
  const { zone, pfn, order, mt, fromOrder, pcp } = e.data
  const z = s.zones[zone]!
  assert(s.frame[pfn] === FRAME_BUDDY, 'allocated block was free')
  assert(s.freeHead[freeListIdx(zone, fromOrder, mt)] === pfn, '__rmqueue_smallest takes the list head')
  delFreeBlock(s, zone, pfn, fromOrder, 'alloc')
  // expand(): the upper half at each order goes back to the head of the same list.
  for (let high = fromOrder; high > order;) {
    high--
    const half = pfn + (1 << high)
    addFreeBlock(s, zone, half, high, mt, false)
  }
  const pages = 1 << order
  z.buddyPages -= pages
  z.nrFreePages -= freepageDelta(mt, pages)
  if (pcp) {
    assert(order === 0 && e.cpu !== null, 'only order-0 pages go to a CPU pcp list')
    markFrames(s, pfn, 1, FRAME_PCP)
    pcpListAdd(s, pcpListIdx(s, e.cpu, zone, mt), pfn, true)
    s.pcpCount[pcpCountIdx(s, e.cpu, zone)]!++
    s.pcpCpu[pfn] = e.cpu
    s.listMt[pfn] = mt
    z.pcpPages += 1
  } else {
    markFrames(s, pfn, pages, FRAME_ALLOCATED)
    s.allocOrder[pfn] = order
    s.allocMt[pfn] = mt
    for (let p = pfn; p < pfn + pages; p++) s.gen[p]!++
    z.allocatedPages += pages
  }
}

const pcpAllocated = (s: ZoneState, e: EventOf<'PcpAllocated'>): void => {
  const { zone, pfn, mt } = e.data
  assert(e.cpu !== null && s.frame[pfn] === FRAME_PCP && s.pcpCpu[pfn] === e.cpu, 'page is on this CPU pcp list')
  const i = pcpListIdx(s, e.cpu, zone, mt)
  assert(s.pcpHead[i] === pfn, 'rmqueue_pcplist takes the list head')
  pcpListDel(s, i, pfn)
  s.pcpCount[pcpCountIdx(s, e.cpu, zone)]!--
  s.pcpCpu[pfn] = -1
  s.listMt[pfn] = -1
  s.frame[pfn] = FRAME_ALLOCATED
  s.allocOrder[pfn] = 0
  s.allocMt[pfn] = mt
  s.gen[pfn]!++
  const z = s.zones[zone]!
  z.pcpPages -= 1
  z.allocatedPages += 1
}

const pageFreed = (s: ZoneState, e: EventOf<'PageFreed'>): void => {
  const { zone, pfn, order, mt, merges, tail, from } = e.data
  const z = s.zones[zone]!
  const pages = 1 << order
  if (from === 'page') leaveUser(s, zone, pfn, order)
  else if (from === 'pcp') leavePcp(s, e.cpu, zone, pfn)
  else {
    for (let p = pfn; p < pfn + pages; p++) assert(s.frame[p] === FRAME_ABSENT, 'boot memory is freed once')
    z.managed += pages
  }
  markFrames(s, pfn, pages, FRAME_BUDDY)
  z.buddyPages += pages
  z.nrFreePages += freepageDelta(mt, pages)
  let head = pfn
  let o = order
  for (let m = 0; m < merges; m++) {
    const buddy = head ^ (1 << o)
    delFreeBlock(s, zone, buddy, o)
    head &= buddy
    o++
  }
  addFreeBlock(s, zone, head, o, mt, tail)
}

/** A page of pcp migratetype `mt` joins `cpu`'s pcp list for it (at the tail when cold). */
const addToPcp = (s: ZoneState, cpu: number, zone: number, pfn: number, mt: number, cold: boolean): void => {
  s.frame[pfn] = FRAME_PCP
  s.pcpCpu[pfn] = cpu
  s.listMt[pfn] = mt
  pcpListAdd(s, pcpListIdx(s, cpu, zone, pcpListMt(mt)), pfn, cold)
  s.pcpCount[pcpCountIdx(s, cpu, zone)]!++
  s.zones[zone]!.pcpPages += 1
}

const pcpFreed = (s: ZoneState, e: EventOf<'PcpFreed'>): void => {
  const { zone, pfn, mt, cold } = e.data
  assert(e.cpu !== null, 'pcp frees happen on a CPU')
  assert(s.frame[pfn] === FRAME_ALLOCATED && s.allocOrder[pfn] === 0, 'freed page is an allocated order-0 page')
  s.allocOrder[pfn] = -1
  s.allocMt[pfn] = -1
  s.zones[zone]!.allocatedPages -= 1
  addToPcp(s, e.cpu, zone, pfn, mt, cold)
}

const freepagesMoved = (s: ZoneState, e: EventOf<'FreepagesMoved'>): void => {
  const { zone, pfn, pages, toMt, claimed } = e.data
  // move_freepages: walk the pageblock, list_move each free block to the head of the new list.
  for (let p = pfn; p < pfn + pages;) {
    const order = s.freeOrder[p]!
    if (s.frame[p] !== FRAME_BUDDY || order < 0) {
      p++
      continue
    }
    delFreeBlock(s, zone, p, order, 'move')
    addFreeBlock(s, zone, p, order, toMt, false)
    p += 1 << order
  }
  if (claimed) setPageblockMt(s, zone, pfn, toMt)
}

const freeBlockMoved = (s: ZoneState, e: EventOf<'FreeBlockMoved'>): void => {
  const { zone, pfn, order, toMt } = e.data
  delFreeBlock(s, zone, pfn, order, 'move')
  addFreeBlock(s, zone, pfn, order, toMt, false)
}

const pageblockMigratetypeSet = (s: ZoneState, e: EventOf<'PageblockMigratetypeSet'>): void => {
  const { zone, pfn, pages, mt } = e.data
  for (let p = pfn; p < pfn + pages; p += s.pageblockPages) setPageblockMt(s, zone, p, mt)
}

const discardQueued = (s: ZoneState, e: EventOf<'DiscardQueued'>): void => {
  const { zone, pfn } = e.data
  assert(s.frame[pfn] === FRAME_ALLOCATED && s.allocOrder[pfn] === 0, 'a discarded order-0 page is freed from its user')
  s.allocOrder[pfn] = -1
  s.allocMt[pfn] = -1
  s.frame[pfn] = FRAME_DISCARD
  const z = s.zones[zone]!
  z.allocatedPages -= 1
  z.discardPages += 1
}

/** free_cold_page for each collected page: the tail of the collector's pcp list. */
const collectionFreed = (s: ZoneState, e: EventOf<'DiscardCollectionFreed'>): void => {
  assert(e.cpu !== null, 'a collection runs on a CPU')
  const { pfns, mts } = e.data
  for (let i = 0; i < pfns.length; i++) {
    const pfn = pfns[i]!
    const mt = mts[i]!
    const zone = zoneOf(s, pfn)
    if (s.frame[pfn] !== FRAME_DISCARD) fail(`collected page ${pfn} was on a discarded-page list`)
    s.zones[zone]!.discardPages -= 1
    addToPcp(s, e.cpu, zone, pfn, mt, true)
  }
}

/** get_aeration_page / __isolate_free_page: each block leaves its list for the reporting batch. */
const reportingPagesPulled = (s: ZoneState, e: EventOf<'ReportingPagesPulled'>): void => {
  const { zone, pfns, orders, mts } = e.data
  const z = s.zones[zone]!
  for (let i = 0; i < pfns.length; i++) {
    const pfn = pfns[i]!
    const order = orders[i]!
    assert(s.frame[pfn] === FRAME_BUDDY && s.listMt[pfn] === mts[i], `pulled block ${pfn} is free on free_list[${mts[i]}]`)
    delFreeBlock(s, zone, pfn, order)
    markFrames(s, pfn, 1 << order, FRAME_REPORTING)
    z.buddyPages -= 1 << order
    z.nrFreePages -= freepageDelta(mts[i]!, 1 << order)
  }
}

/** put_aeration_page / __putback_isolated_page: __free_one_page to the tail, each block in turn. */
const reportingPagesReturned = (s: ZoneState, e: EventOf<'ReportingPagesReturned'>): void => {
  const { zone, pfns, orders, mts, merges, reported } = e.data
  const z = s.zones[zone]!
  for (let i = 0; i < pfns.length; i++) {
    const pfn = pfns[i]!
    const mt = mts[i]!
    const pages = 1 << orders[i]!
    assert(s.frame[pfn] === FRAME_REPORTING, `returned block ${pfn} was in the batch`)
    markFrames(s, pfn, pages, FRAME_BUDDY)
    z.buddyPages += pages
    z.nrFreePages += freepageDelta(mt, pages)
    let head = pfn
    let o = orders[i]!
    for (let m = 0; m < merges[i]!; m++) {
      const buddy = head ^ (1 << o)
      delFreeBlock(s, zone, buddy, o)
      head &= buddy
      o++
    }
    addFreeBlock(s, zone, head, o, mt, true)
    s.reporting?.blockReturned(zone, head, o, mt, merges[i]! > 0, reported)
  }
}

/** Applies one event to the zone projection; every event type is listed, so a new one must be placed. */
export const evolveZone = (s: ZoneState, e: MmEvent): void => {
  switch (e.type) {
    case 'PageAllocated':
      return pageAllocated(s, e)
    case 'PcpAllocated':
      return pcpAllocated(s, e)
    case 'PageFreed':
      return pageFreed(s, e)
    case 'PcpFreed':
      return pcpFreed(s, e)
    case 'FreepagesMoved':
      return freepagesMoved(s, e)
    case 'FreeBlockMoved':
      return freeBlockMoved(s, e)
    case 'PageblockMigratetypeSet':
      return pageblockMigratetypeSet(s, e)
    case 'DiscardQueued':
      return discardQueued(s, e)
    case 'DiscardCollectionFreed':
      return collectionFreed(s, e)
    case 'ReportingPagesPulled':
      return reportingPagesPulled(s, e)
    case 'ReportingPagesReturned':
      return reportingPagesReturned(s, e)
    case 'FreeListRotated':
      return freeListRotateToFront(s, freeListIdx(e.data.zone, e.data.order, e.data.mt), e.data.pfn)
    // Events that change nothing here (EVENT_PROJECTIONS lists who changes on what).
    case 'MachineBooted':
    case 'PcpDrained':
    case 'PageAllocFailed':
    case 'PageStateChanged':
    case 'HostDiscarded':
    case 'HostPagedOut':
    case 'PageFlagsChanged':
    case 'PageCacheAdded':
    case 'PageCacheRemoved':
    case 'PageGot':
    case 'PagePut':
    case 'PageUseStarted':
    case 'PageUseEnded':
    case 'PteSet':
    case 'PteCleared':
    case 'MmCreated':
    case 'FileMapped':
    case 'MmExited':
    case 'DiscardFault':
    case 'DiscardFaultPinned':
    case 'DiscardCollectionStarted':
    case 'DiscardListSpliced':
    case 'DiscardListMoved':
    case 'CpuWentOffline':
    case 'CpuWentOnline':
    case 'ReclaimRan':
    case 'InvariantViolated':
    case 'DeadlockDetected':
    case 'VmaMapped':
    case 'VmaSplit':
    case 'VmaAdjusted':
    case 'VmaProtectionChanged':
    case 'VmaRemoved':
    case 'AnonVmaPrepared':
    case 'AnonVmaCloned':
    case 'AnonVmaCreated':
    case 'AnonVmaUnlinked':
    case 'AnonVmaPut':
    case 'AnonRmapAdded':
    case 'AnonRmapMoved':
    case 'PteWriteChanged':
    case 'AnonPageIsolated':
    case 'AnonPagePutBack':
    case 'RmapWalkStarted':
    case 'RmapWalkFinished':
    case 'ReportingRequested':
    case 'ReportingWorkStarted':
    case 'AerationRequestCleared':
    case 'ReportingHostReacted':
    case 'AerationBoundariesPopulated':
    case 'BoundaryMoved':
    case 'AerationActiveCleared':
    case 'ReportingWorkFinished':
    case 'OpSkipped':
    case 'IsolationRegistered':
    case 'IsolationRefused':
    case 'PageMigrated':
    case 'RangeIsolated':
    case 'IsolationEnded':
      return
    case 'PageblockIsolated':
      return isolationEvolvers.PageblockIsolated(s, e)
    case 'PageblockUnisolated':
      return isolationEvolvers.PageblockUnisolated(s, e)
    case 'PageCaptured':
      return isolationEvolvers.PageCaptured(s, e)
    case 'IsolatedPageReleased':
      return isolationEvolvers.IsolatedPageReleased(s, e)
    case 'PagesOfflined':
      return isolationEvolvers.PagesOfflined(s, e)
    case 'ContigRangeTaken':
      return isolationEvolvers.ContigRangeTaken(s, e)
    default:
      return absurd(e)
  }
}
