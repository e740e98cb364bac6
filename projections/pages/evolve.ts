// The only place page state changes. Zone events matter here too: an allocation gives a page
// its first reference, a free takes the last.
import { type EventOf, type MmEvent } from '../../events'
import { type PageState } from '../../events/hinting'
import { absurd, assert } from '../../lib'
import { FLAG_BIT, PG_discarded, PG_locked, PG_lru, cacheKey, type PagesState } from './state'
import { STATE_CODE, essa_set_unused, stateName } from './states'

const countTransition = (s: PagesState, from: PageState, to: PageState, n: number): void => {
  const k = `${from}>${to}`
  s.transitions.set(k, (s.transitions.get(k) ?? 0) + n)
  s.stateCounts[STATE_CODE[from]]! -= n
  s.stateCounts[STATE_CODE[to]]! += n
}

const changeState = (s: PagesState, pfn: number, npages: number, from: PageState, to: PageState): void => {
  const f = STATE_CODE[from]
  const t = STATE_CODE[to]
  for (let p = pfn; p < pfn + npages; p++) {
    assert(s.pstate[p] === f, `page ${p} is ${from} before it becomes ${to} (it is ${stateName(s.pstate[p]!)})`)
    s.pstate[p] = t
  }
  countTransition(s, from, to, npages)
}

/** A page handed out starts clean with one reference: the allocator's, passed to its user. */
const allocated = (s: PagesState, pfn: number, npages: number): void => {
  for (let p = pfn; p < pfn + npages; p++) {
    assert(s.refcount[p] === 0 && s.mapcount[p] === 0, `page ${p} is unreferenced when allocated`)
    s.flags[p] = 0
  }
  s.refcount[pfn] = 1
}

/** The free takes the last reference; a freed page keeps no flag, mapping or user. */
const freed = (s: PagesState, pfn: number, npages: number, keepFlags: number): void => {
  assert(s.refcount[pfn]! <= 1, `page ${pfn} is freed with ${s.refcount[pfn]} references`)
  assert(s.mapcount[pfn] === 0 && s.uses[pfn] === 0, `page ${pfn} is freed unmapped and unused`)
  assert(s.file[pfn] === -1, `page ${pfn} left the page cache before it is freed`)
  s.refcount[pfn] = 0
  for (let p = pfn; p < pfn + npages; p++) s.flags[p]! &= keepFlags
}

const flagsChanged = (s: PagesState, e: EventOf<'PageFlagsChanged'>): void => {
  let set = 0
  let clear = 0
  for (const f of e.data.set) set |= FLAG_BIT[f]
  for (const f of e.data.clear) clear |= FLAG_BIT[f]
  s.flags[e.data.pfn] = (s.flags[e.data.pfn]! | set) & ~clear
}

const collectionFreed = (s: PagesState, e: EventOf<'DiscardCollectionFreed'>): void => {
  for (const pfn of e.data.pfns) {
    assert((s.flags[pfn]! & PG_discarded) !== 0, `collected page ${pfn} is PG_discarded`)
    // ClearPageDiscarded, then free_cold_page -> arch_free_page: ESSA SET_UNUSED.
    s.flags[pfn] = 0
    const from = stateName(s.pstate[pfn]!)
    const to = essa_set_unused(from)
    if (to !== from) {
      s.pstate[pfn] = STATE_CODE[to]
      countTransition(s, from, to, 1)
    }
  }
}

export const evolvePages = (s: PagesState, e: MmEvent): void => {
  switch (e.type) {
    case 'PageAllocated':
      if (!e.data.pcp) allocated(s, e.data.pfn, 1 << e.data.order)
      return
    case 'PcpAllocated':
      return allocated(s, e.data.pfn, 1)
    case 'PcpFreed':
      return freed(s, e.data.pfn, 1, 0)
    case 'PageFreed':
      if (e.data.from === 'page') freed(s, e.data.pfn, 1 << e.data.order, 0)
      return
    case 'DiscardQueued':
      return freed(s, e.data.pfn, 1, PG_discarded)
    case 'DiscardCollectionFreed':
      return collectionFreed(s, e)
    case 'PageStateChanged':
      return changeState(s, e.data.pfn, e.data.npages, e.data.from, e.data.to)
    case 'HostDiscarded':
      s.hostDiscards++
      return changeState(s, e.data.pfn, 1, e.data.from, e.data.to)
    case 'HostPagedOut':
      s.hostPagedOut++
      return changeState(s, e.data.pfn, 1, e.data.from, e.data.to)
    case 'PageFlagsChanged':
      return flagsChanged(s, e)
    case 'PageCacheAdded': {
      const { pfn, file, index } = e.data
      const key = cacheKey(file, index)
      assert(!s.cache.has(key), `file ${file} index ${index} is not cached twice`)
      assert(s.file[pfn] === -1 && s.refcount[pfn] === 1, `page ${pfn} is a fresh page`)
      s.cache.set(key, pfn)
      s.file[pfn] = file
      s.index[pfn] = index
      s.flags[pfn] = s.flags[pfn]! | PG_locked | PG_lru
      return
    }
    case 'PageCacheRemoved': {
      const { pfn, file, index, discarded } = e.data
      assert(s.cache.get(cacheKey(file, index)) === pfn && s.file[pfn] === file, `page ${pfn} is file ${file} index ${index}`)
      s.cache.delete(cacheKey(file, index))
      s.file[pfn] = -1
      s.index[pfn] = -1
      s.flags[pfn] = (s.flags[pfn]! & ~PG_lru & ~PG_discarded) | (discarded ? PG_discarded : 0)
      return
    }
    case 'PageGot':
      s.refcount[e.data.pfn]!++
      return
    case 'PagePut':
      assert(s.refcount[e.data.pfn]! > 1, `put_page of page ${e.data.pfn} leaves it referenced`)
      s.refcount[e.data.pfn]!--
      return
    case 'PageUseStarted':
      s.uses[e.data.pfn]!++
      return
    case 'PageUseEnded':
      assert(s.uses[e.data.pfn]! > 0, `page ${e.data.pfn} was in use`)
      s.uses[e.data.pfn]!--
      return
    case 'PteSet':
      s.mapcount[e.data.pfn]!++
      s.refcount[e.data.pfn]!++
      return
    case 'PteCleared':
      assert(s.mapcount[e.data.pfn]! > 0 && s.refcount[e.data.pfn]! > 0, `page ${e.data.pfn} was mapped`)
      s.mapcount[e.data.pfn]!--
      s.refcount[e.data.pfn]!--
      return
    case 'DiscardFaultPinned':
      if (e.data.pinned) s.refcount[e.data.pfn]!++
      return
    // Events that change nothing here (EVENT_PROJECTIONS lists who changes on what).
    case 'MachineBooted':
    case 'PcpDrained':
    case 'FreepagesMoved':
    case 'FreeBlockMoved':
    case 'PageblockMigratetypeSet':
    case 'PageAllocFailed':
    case 'MmCreated':
    case 'FileMapped':
    case 'MmExited':
    case 'DiscardFault':
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
      return
    default:
      return absurd(e)
  }
}
