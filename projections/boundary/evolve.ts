// The only place the boundary projection changes, apart from the free-list hooks (hooks.ts) the
// zone projection calls as blocks enter and leave its lists. Runs after the zone projection, so
// a returned batch is already back on its lists here.
import type { EventOf, MmEvent } from '../../events'
import { MAX_ORDER, MIGRATE_ISOLATE, MIGRATE_TYPES } from '../../events/codecs'
import { absurd, assert } from '../../lib'
import { NIL, freeListIdx, nrFreeIdx, type ZoneState } from '../zone/state'
import { CYCLES_MAX, PAGE_REPORTING_ACTIVE, PAGE_REPORTING_IDLE, PAGE_REPORTING_REQUESTED, TIMELINE_POINTS_MAX, isAeration, type BoundaryState, type TimelinePoint } from './state'

/** Free pages in blocks of the reporting order or above, outside MIGRATE_ISOLATE lists: what can be reported. */
export const reportablePages = (b: BoundaryState, s: ZoneState): number => {
  let n = 0
  for (let z = 0; z < b.zones; z++)
    for (let o = b.minOrder; o < MAX_ORDER; o++) for (let mt = 0; mt < MIGRATE_TYPES; mt++) if (mt !== MIGRATE_ISOLATE) n += s.freeLen[freeListIdx(z, o, mt)]! << o
  return n
}

/** Free pages flagged aerated or reported. */
export const reportedPages = (b: BoundaryState): number => {
  let n = 0
  for (let z = 0; z < b.zones; z++) for (let o = b.minOrder; o < MAX_ORDER; o++) n += b.nrFreeAerated[nrFreeIdx(z, o)]! << o
  return n
}

/** Keeps at most `max` entries: past it the last one stands for the rest. */
const pushCapped = <T>(list: T[], item: T, max: number): void => {
  if (list.length < max) list.push(item)
  else list[max - 1] = item
}

const pulled = (b: BoundaryState, e: EventOf<'ReportingPagesPulled'>): void => {
  const { pfns, orders, mts } = e.data
  if (b.batch.pfns.length === 0) pushCapped(b.cycles, [e.t, 0, 0, 0, 0, -1], CYCLES_MAX)
  const cycle = b.cycles[b.cycles.length - 1]!
  for (const o of orders) cycle[1] += 1 << o
  for (let i = 0; i < pfns.length; i++) {
    b.batch.pfns.push(pfns[i]!)
    b.batch.orders.push(orders[i]!)
    b.batch.mts.push(mts[i]!)
    b.pulledBlocks++
    b.pulledPages += 1 << orders[i]!
  }
}

const hostReacted = (b: BoundaryState, e: EventOf<'ReportingHostReacted'>): void => {
  b.reacts++
  const cycle = b.cycles[b.cycles.length - 1]
  if (cycle !== undefined) cycle[2] += e.data.pages
  const { pfns, orders } = b.batch
  if (!e.data.freed) {
    b.ackedNotFreedPages += e.data.pages
    return
  }
  b.hostFreedPages += e.data.pages
  for (let i = 0; i < pfns.length; i++)
    for (let p = pfns[i]!; p < pfns[i]! + (1 << orders[i]!); p++)
      if (b.unbacked[p] === 0) {
        b.unbacked[p] = 1
        b.unbackedPages++
      }
}

const returned = (b: BoundaryState, s: ZoneState, e: EventOf<'ReportingPagesReturned'>): void => {
  const { pfns, orders, merges } = e.data
  assert(pfns.length <= b.batch.pfns.length, 'a drain returns blocks of the batch')
  for (let i = 0; i < pfns.length; i++) {
    assert(b.batch.pfns[i] === pfns[i], `block ${pfns[i]} is returned in batch order`)
    b.returnedPages += 1 << orders[i]!
    if (merges[i]! > 0) b.mergedPages += 1 << orders[i]!
  }
  const cycle = b.cycles[b.cycles.length - 1]!
  for (let i = 0; i < pfns.length; i++) {
    cycle[3] += 1 << orders[i]!
    if (merges[i]! > 0) cycle[4] += 1 << orders[i]!
  }
  b.batch.pfns.splice(0, pfns.length)
  b.batch.orders.splice(0, pfns.length)
  b.batch.mts.splice(0, pfns.length)
  const reported = reportedPages(b)
  const reportable = reportablePages(b, s)
  // A point per batch, when its last block is back.
  if (b.batch.pfns.length === 0) {
    cycle[5] = e.t
    pushCapped(b.timeline, [e.t, reported, reportable, b.unbackedPages] as TimelinePoint, TIMELINE_POINTS_MAX)
  }
  if (b.fullyReportedAtNs < 0 && reportable > 0 && reported >= reportable) b.fullyReportedAtNs = e.t
}

/** The guest hands frames out again: those whose backing the host released fault in zero-filled. */
const handedOut = (b: BoundaryState, pfn: number, pages: number): void => {
  for (let p = pfn; p < pfn + pages; p++)
    if (b.unbacked[p] === 1) {
      b.unbacked[p] = 0
      b.unbackedPages--
      b.refaults++
    }
}

export const evolveBoundary = (b: BoundaryState, s: ZoneState, e: MmEvent): void => {
  const aeration = isAeration(b)
  switch (e.type) {
    case 'ReportingRequested':
      if (aeration) {
        b.requested[e.data.zone] = 1
        b.refcnt++
      } else b.deviceState = PAGE_REPORTING_REQUESTED
      return
    case 'ReportingWorkStarted':
      b.passes++
      if (aeration) b.refcnt++
      else b.deviceState = PAGE_REPORTING_ACTIVE
      return
    case 'ReportingPagesPulled':
      return pulled(b, e)
    case 'AerationRequestCleared':
      assert(b.refcnt > 1, 'the request holds a reference besides the work')
      b.requested[e.data.zone] = 0
      b.refcnt--
      return
    case 'ReportingHostReacted':
      return hostReacted(b, e)
    case 'AerationBoundariesPopulated':
      for (let o = b.minOrder; o < MAX_ORDER; o++) for (let mt = 0; mt < MIGRATE_TYPES; mt++) b.boundary[freeListIdx(e.data.zone, o, mt)] = NIL
      b.active[e.data.zone] = 1
      return
    case 'ReportingPagesReturned':
      return returned(b, s, e)
    case 'BoundaryMoved':
      b.boundary[freeListIdx(e.data.zone, e.data.order, e.data.mt)] = e.data.pfn
      return
    case 'AerationActiveCleared':
      b.active[e.data.zone] = 0
      return
    case 'ReportingWorkFinished':
      if (aeration) {
        assert(b.refcnt === 1, 'aerator_cycle goes idle holding the only reference')
        b.refcnt = 0
      } else b.deviceState = e.data.rescheduled ? PAGE_REPORTING_REQUESTED : PAGE_REPORTING_IDLE
      return
    case 'PageAllocated':
      if (!e.data.pcp) handedOut(b, e.data.pfn, 1 << e.data.order)
      return
    case 'PcpAllocated':
      return handedOut(b, e.data.pfn, 1)
    // Events that change nothing here (EVENT_PROJECTIONS lists who changes on what; the list
    // changes of the zone's events reach this projection through its free-list hooks).
    case 'MachineBooted':
    case 'PageFreed':
    case 'PcpFreed':
    case 'PcpDrained':
    case 'FreepagesMoved':
    case 'FreeBlockMoved':
    case 'PageblockMigratetypeSet':
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
    case 'DiscardQueued':
    case 'DiscardCollectionStarted':
    case 'DiscardListSpliced':
    case 'DiscardCollectionFreed':
    case 'DiscardListMoved':
    case 'CpuWentOffline':
    case 'CpuWentOnline':
    case 'ReclaimRan':
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
    case 'InvariantViolated':
    case 'DeadlockDetected':
    case 'OpSkipped':
    case 'FreeListRotated':
    case 'IsolationRegistered':
    case 'IsolationRefused':
    case 'PageblockIsolated':
    case 'PageblockUnisolated':
    case 'PageCaptured':
    case 'PageMigrated':
    case 'RangeIsolated':
    case 'IsolatedPageReleased':
    case 'PagesOfflined':
    case 'ContigRangeTaken':
    case 'IsolationEnded':
      return
    default:
      return absurd(e)
  }
}
