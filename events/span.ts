// The frames an event touches, as [pfn, pfn + npages): stored beside each event so that "what
// happened to frame X" is an index range scan.
import type { MmEvent } from './index'
import { absurd } from '../lib'

export interface Span {
  readonly pfn: number
  readonly npages: number
}

export const eventSpan = (e: MmEvent): Span | null => {
  switch (e.type) {
    case 'PageAllocated':
      return { pfn: e.data.pfn, npages: 1 << e.data.fromOrder }
    case 'PageFreed': {
      const order = e.data.order + e.data.merges
      return { pfn: e.data.pfn & ~((1 << order) - 1), npages: 1 << order }
    }
    case 'PcpAllocated':
    case 'PcpFreed':
      return { pfn: e.data.pfn, npages: 1 }
    case 'FreepagesMoved':
    case 'PageblockMigratetypeSet':
      return { pfn: e.data.pfn, npages: e.data.pages }
    case 'FreeBlockMoved':
      return { pfn: e.data.pfn, npages: 1 << e.data.order }
    case 'PageblockIsolated':
    case 'PageblockUnisolated':
    case 'PagesOfflined':
    case 'ContigRangeTaken':
      return { pfn: e.data.pfn, npages: e.data.pages }
    case 'PageCaptured':
      return { pfn: e.data.pfn, npages: 1 << e.data.order }
    case 'IsolatedPageReleased':
      return { pfn: e.data.pfn, npages: 1 }
    // A range may be larger than an event's span may be (SPAN_PAGES_MAX): its pageblocks, captures
    // and offlined chunks carry the frames.
    case 'IsolationRegistered':
    case 'IsolationRefused':
    case 'RangeIsolated':
    case 'IsolationEnded':
      return null
    case 'InvariantViolated':
      return e.data.pfn === undefined ? null : { pfn: e.data.pfn, npages: 1 }
    case 'PageStateChanged':
      return { pfn: e.data.pfn, npages: e.data.npages }
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
    case 'DiscardFault':
    case 'DiscardFaultPinned':
    case 'DiscardQueued':
    case 'AnonRmapAdded':
    case 'AnonRmapMoved':
    case 'PteWriteChanged':
    case 'AnonPageIsolated':
    case 'AnonPagePutBack':
    case 'RmapWalkStarted':
    case 'RmapWalkFinished':
      return { pfn: e.data.pfn, npages: 1 }
    case 'FreeListRotated':
      return { pfn: e.data.pfn, npages: 1 << e.data.order }
    case 'BoundaryMoved':
      return e.data.pfn < 0 ? null : { pfn: e.data.pfn, npages: 1 }
    case 'DiscardListSpliced':
    case 'DiscardCollectionFreed':
    case 'DiscardCollectionStarted':
    case 'DiscardListMoved':
    case 'MmCreated':
    case 'FileMapped':
    case 'MmExited':
    case 'CpuWentOffline':
    case 'CpuWentOnline':
    case 'ReclaimRan':
    case 'MachineBooted':
    case 'PcpDrained':
    case 'PageAllocFailed':
    case 'ReportingPagesPulled':
    case 'ReportingPagesReturned':
    case 'ReportingRequested':
    case 'ReportingWorkStarted':
    case 'AerationRequestCleared':
    case 'ReportingHostReacted':
    case 'AerationBoundariesPopulated':
    case 'AerationActiveCleared':
    case 'ReportingWorkFinished':
    case 'DeadlockDetected':
    case 'OpSkipped':
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
      return null
    case 'PageMigrated':
      return null
    default:
      return absurd(e)
  }
}

/** Events about many scattered frames list them; the store indexes each (table event_pfns). */
export const eventPfns = (e: MmEvent): readonly number[] | null => {
  switch (e.type) {
    case 'DiscardListSpliced':
    case 'ReportingPagesPulled':
    case 'ReportingPagesReturned':
    case 'DiscardCollectionFreed':
      return e.data.pfns
    case 'PageMigrated':
      return [e.data.from, e.data.to]
    case 'IsolationRegistered':
    case 'IsolationRefused':
    case 'PageblockIsolated':
    case 'PageblockUnisolated':
    case 'PageCaptured':
    case 'RangeIsolated':
    case 'IsolatedPageReleased':
    case 'PagesOfflined':
    case 'ContigRangeTaken':
    case 'IsolationEnded':
      return null
    case 'MachineBooted':
    case 'PageAllocated':
    case 'PcpAllocated':
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
    case 'DiscardListMoved':
    case 'CpuWentOffline':
    case 'CpuWentOnline':
    case 'ReclaimRan':
    case 'InvariantViolated':
    case 'DeadlockDetected':
    case 'OpSkipped':
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
    case 'FreeListRotated':
    case 'ReportingWorkFinished':
      return null
    default:
      return absurd(e)
  }
}
