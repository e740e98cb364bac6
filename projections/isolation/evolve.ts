// The only place isolation ranges change. The work counters are folded here too, from the
// events both designs share, so that two runs of one workload compare the designs' costs.
import type { EventOf, MmEvent } from '../../events'
import { MIGRATE_ISOLATE } from '../../events/codecs'
import { absurd, assert } from '../../lib'
import type { ZoneState } from '../zone/state'
import { NO_RANGE, searchIsolationList, type IsolationRange, type IsolationState } from './state'

const rangeOf = (s: IsolationState, id: number): IsolationRange => {
  const r = s.ranges.get(id)
  assert(r !== undefined, `isolation range ${id} was registered`)
  return r
}

const registered = (s: IsolationState, e: EventOf<'IsolationRegistered'>): void => {
  const { range, zone, startPfn, endPfn, design, by } = e.data
  assert(!s.ranges.has(range), `isolation range ${range} is new`)
  s.ranges.set(range, {
    id: range,
    zone,
    startPfn,
    endPfn,
    design,
    by,
    cpu: e.cpu,
    status: 'isolating',
    outcome: null,
    errno: null,
    reason: '',
    pageblocks: 0,
    captured: 0,
    migrated: 0,
    offlined: 0,
    registeredSeq: e.seq,
    endedSeq: null,
  })
  // register_isolation: list_add, so the newest range is searched first.
  if (design === 'list') s.zoneLists[zone]!.unshift(range)
}

const pageblockIsolated = (s: IsolationState, zone: ZoneState, e: EventOf<'PageblockIsolated'>): void => {
  const pb = e.data.pfn >> zone.pageblockOrder
  // A block isolated again (v4.13 without 2c7452a075d4) keeps its first owner: that is whose isolation a later undo takes.
  if (s.pageblockOwner[pb] === NO_RANGE) s.pageblockOwner[pb] = e.data.range
  rangeOf(s, e.data.range).pageblocks++
  s.work.pagesMoved += e.data.freePages
}

const pageblockUnisolated = (s: IsolationState, zone: ZoneState, e: EventOf<'PageblockUnisolated'>): void => {
  const pb = e.data.pfn >> zone.pageblockOrder
  const owner = s.pageblockOwner[pb]!
  if (owner !== NO_RANGE) rangeOf(s, owner).pageblocks--
  s.pageblockOwner[pb] = NO_RANGE
  s.work.pagesMoved += e.data.freePages
  // The range giving its pageblocks back is no longer isolated; another range's stays (Kravetz 2018).
  const r = rangeOf(s, e.data.range)
  if (r.status === 'isolated') r.status = 'undoing'
}

/** A free reaching __free_one_page: the patch searches the zone's isolation_list first, unless it is empty. */
const freeSearched = (s: IsolationState, zone: number, pfn: number): void => {
  if (s.config.isolation !== 'list' || (s.zoneLists[zone]?.length ?? 0) === 0) return
  s.work.freesSearched++
  s.work.listEntriesSearched += searchIsolationList(s, zone, pfn).visited
}

const captured = (s: IsolationState, e: EventOf<'PageCaptured'>): void => {
  const { range, zone, pfn, order, from } = e.data
  const pages = 1 << order
  if (from === 'buddy') s.work.pagesMoved += pages
  else freeSearched(s, zone, pfn)
  s.capturedBy.fill(range, pfn, pfn + pages)
  rangeOf(s, range).captured += pages
  s.work.pagesCaptured += pages
}

const released = (s: IsolationState, e: EventOf<'IsolatedPageReleased'>): void => {
  assert(s.capturedBy[e.data.pfn] === e.data.range, `page ${e.data.pfn} was captured by range ${e.data.range}`)
  s.capturedBy[e.data.pfn] = NO_RANGE
  rangeOf(s, e.data.range).captured--
  s.work.pagesMoved++
}

const offlined = (s: IsolationState, e: EventOf<'PagesOfflined'>): void => {
  const r = rangeOf(s, e.data.range)
  for (let p = e.data.pfn; p < e.data.pfn + e.data.pages; p++)
    if (s.capturedBy[p] !== NO_RANGE) {
      rangeOf(s, s.capturedBy[p]!).captured--
      s.capturedBy[p] = NO_RANGE
    }
  r.offlined += e.data.pages
}

const ended = (s: IsolationState, e: EventOf<'IsolationEnded'>): void => {
  const r = rangeOf(s, e.data.range)
  r.status = 'ended'
  r.outcome = e.data.outcome
  r.errno = e.data.errno
  r.reason = e.data.reason
  r.endedSeq = e.seq
  // detach_isolation_info_zone: later frees in the range reach free_area[] again.
  const list = s.zoneLists[r.zone]!
  const i = list.indexOf(r.id)
  if (i >= 0) list.splice(i, 1)
}

export const evolveIsolation = (s: IsolationState, zone: ZoneState, e: MmEvent): void => {
  switch (e.type) {
    case 'IsolationRegistered':
      return registered(s, e)
    case 'IsolationRefused':
      s.refused.push({ seq: e.seq, ...e.data })
      return
    case 'PageblockIsolated':
      return pageblockIsolated(s, zone, e)
    case 'PageblockUnisolated':
      return pageblockUnisolated(s, zone, e)
    case 'PageCaptured':
      return captured(s, e)
    case 'PageMigrated':
      rangeOf(s, e.data.range).migrated++
      return
    case 'RangeIsolated': {
      const r = rangeOf(s, e.data.range)
      if (r.status === 'isolating') r.status = 'isolated'
      return
    }
    case 'IsolatedPageReleased':
      return released(s, e)
    case 'PagesOfflined':
      return offlined(s, e)
    case 'IsolationEnded':
      return ended(s, e)
    case 'PageFreed':
      freeSearched(s, e.data.zone, e.data.pfn)
      if (e.data.mt === MIGRATE_ISOLATE) s.work.pagesCaptured += 1 << e.data.order
      return
    // Events that change nothing here (EVENT_PROJECTIONS lists who changes on what).
    case 'ContigRangeTaken':
    case 'MachineBooted':
    case 'PageAllocated':
    case 'PcpAllocated':
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
    case 'ReportingRequested':
    case 'ReportingWorkStarted':
    case 'ReportingPagesPulled':
    case 'AerationRequestCleared':
    case 'ReportingHostReacted':
    case 'AerationBoundariesPopulated':
    case 'ReportingPagesReturned':
    case 'BoundaryMoved':
    case 'AerationActiveCleared':
    case 'FreeListRotated':
    case 'ReportingWorkFinished':
      return
    default:
      return absurd(e)
  }
}
