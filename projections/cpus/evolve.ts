// The only place per-CPU hinting state changes.
import type { MmEvent } from '../../events'
import { absurd, assert, fail } from '../../lib'
import type { ZoneState } from '../zone/state'
import type { CpusState } from './state'

export const evolveCpus = (s: CpusState, zone: ZoneState, e: MmEvent): void => {
  switch (e.type) {
    case 'DiscardQueued':
      assert(e.cpu !== null, 'a page is queued on a CPU')
      s.discardLists[e.cpu]!.push(e.data.pfn)
      return
    case 'DiscardCollectionStarted':
      assert(e.cpu !== null && !s.collecting.has(e.cpu), 'a CPU runs one collection at a time')
      s.collecting.set(e.cpu, { pfns: [], from: [] })
      return
    case 'DiscardListSpliced': {
      const g = s.collecting.get(e.data.collector)
      assert(e.cpu !== null && g !== undefined, 'splices go to a running collection')
      const list = s.discardLists[e.cpu]!
      if (!(list.length === e.data.pfns.length && list.every((p, i) => p === e.data.pfns[i]))) fail(`cpu ${e.cpu} splices its whole list`)
      // list_splice_init adds at the head of pages_to_free.
      g.pfns = [...list, ...g.pfns]
      g.from = [...list.map(() => e.cpu!), ...g.from]
      s.discardLists[e.cpu] = []
      return
    }
    case 'DiscardCollectionFreed': {
      // The pages at the head of the gathered list, freed in order (one per event since
      // page_shrink_discards frees page by page); the collection ends when the list is empty.
      const g = e.cpu === null ? undefined : s.collecting.get(e.cpu)
      assert(g !== undefined, 'the collector frees what it gathered')
      const n = e.data.pfns.length
      assert(n <= g.pfns.length && e.data.pfns.every((p, i) => p === g.pfns[i]), 'the collection frees the gathered pages in order')
      for (const c of g.from.slice(0, n)) s.collectedPages[c]!++
      g.pfns = g.pfns.slice(n)
      g.from = g.from.slice(n)
      if (g.pfns.length > 0) return
      s.collections++
      s.collecting.delete(e.cpu!)
      return
    }
    case 'DiscardListMoved': {
      const from = s.discardLists[e.data.from]!
      assert(from.length === e.data.count, 'the dead CPU list moves whole')
      s.discardLists[e.data.to] = [...from, ...s.discardLists[e.data.to]!]
      s.discardLists[e.data.from] = []
      return
    }
    case 'DiscardFault':
      assert(e.cpu !== null && s.faultPfn[e.cpu] === -1, 'one discard fault per CPU at a time')
      s.faultPfn[e.cpu] = e.data.pfn
      s.faultGen[e.cpu] = zone.gen[e.data.pfn]!
      s.discardFaults[e.cpu]!++
      return
    case 'DiscardFaultPinned':
      assert(e.cpu !== null && s.faultPfn[e.cpu] === e.data.pfn, 'the pin ends the fault in progress')
      s.faultPfn[e.cpu] = -1
      return
    case 'CpuWentOffline':
      s.online[e.data.target] = false
      return
    case 'CpuWentOnline':
      s.online[e.data.target] = true
      return
    // Events that change nothing here (EVENT_PROJECTIONS lists who changes on what).
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
    case 'ReportingPagesPulled':
    case 'AerationRequestCleared':
    case 'ReportingHostReacted':
    case 'AerationBoundariesPopulated':
    case 'ReportingPagesReturned':
    case 'BoundaryMoved':
    case 'AerationActiveCleared':
    case 'FreeListRotated':
    case 'ReportingWorkFinished':
    case 'OpSkipped':
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
