// The only place page state changes. Zone events matter here too: an allocation gives a page
// its first reference, a free takes the last.
import { type EventOf, type MmEvent } from '../../events'
import { PAGE_STATES, type PageState } from '../../events/hinting'
import { absurd, assert, fail } from '../../lib'
import type { ZoneState } from '../zone/state'
import { FLAG_BIT, PG_discarded, PG_locked, PG_lru, cacheKey, type PagesState } from './state'
import { STATE_CODE, essa_set_unused, stateName } from './states'

/** Each transition's key in `transitions` ("Sz>Uz"), by STATE_CODE of both states: made once, not per event. */
const TRANSITION_KEYS: readonly string[] = PAGE_STATES.flatMap((from) => PAGE_STATES.map((to) => `${from}>${to}`))

const countTransition = (s: PagesState, from: PageState, to: PageState, n: number): void => {
  const f = STATE_CODE[from]
  const t = STATE_CODE[to]
  const k = TRANSITION_KEYS[f * PAGE_STATES.length + t]!
  s.transitions.set(k, (s.transitions.get(k) ?? 0) + n)
  s.stateCounts[f]! -= n
  s.stateCounts[t]! += n
}

const changeState = (s: PagesState, pfn: number, npages: number, from: PageState, to: PageState): void => {
  const f = STATE_CODE[from]
  const t = STATE_CODE[to]
  for (let p = pfn; p < pfn + npages; p++) {
    // The message is made only when the check fails: this runs once per page of every state change.
    if (s.pstate[p] !== f) fail(`page ${p} is ${from} before it becomes ${to} (it is ${stateName(s.pstate[p]!)})`)
    s.pstate[p] = t
  }
  countTransition(s, from, to, npages)
}

/** A page handed out starts clean with one reference: the allocator's, passed to its user. */
const allocated = (s: PagesState, pfn: number, npages: number): void => {
  for (let p = pfn; p < pfn + npages; p++) {
    if (s.refcount[p] !== 0 || s.mapcount[p] !== 0) fail(`page ${p} is unreferenced when allocated`)
    s.flags[p] = 0
  }
  s.refcount[pfn] = 1
}

/** The free takes the last reference; a freed page keeps no flag, mapping or user. */
const freed = (s: PagesState, pfn: number, npages: number, keepFlags: number): void => {
  if (s.refcount[pfn]! > 1) fail(`page ${pfn} is freed with ${s.refcount[pfn]} references`)
  if (s.mapcount[pfn] !== 0 || s.uses[pfn] !== 0) fail(`page ${pfn} is freed unmapped and unused`)
  if (s.file[pfn] !== -1) fail(`page ${pfn} left the page cache before it is freed`)
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
    if ((s.flags[pfn]! & PG_discarded) === 0) fail(`collected page ${pfn} is PG_discarded`)
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

/** isolate_freepages_range: each free block of the range goes to the caller as one allocation. */
const contigTaken = (s: PagesState, zone: ZoneState, pfn: number, pages: number): void => {
  for (let p = pfn; p < pfn + pages; p += 1 << zone.allocOrder[p]!) allocated(s, p, 1 << zone.allocOrder[p]!)
}

/**
 * migrate_page_move_mapping and migrate_page_copy: the new page takes the old one's page cache
 * slot, references, mappings and flags; the old page keeps the one reference migration holds, to
 * be freed next.
 */
const migrated = (s: PagesState, from: number, to: number): void => {
  assert(s.uses[from] === 0, `page ${from} is not in use while it migrates`)
  s.refcount[to] = s.refcount[from]!
  s.mapcount[to] = s.mapcount[from]!
  s.flags[to] = s.flags[from]!
  s.refcount[from] = 1
  s.mapcount[from] = 0
  s.flags[from] = 0
  const file = s.file[from]!
  if (file === -1) return
  const index = s.index[from]!
  s.cache.set(cacheKey(file, index), to)
  s.file[to] = file
  s.index[to] = index
  s.file[from] = -1
  s.index[from] = -1
}

export const evolvePages = (s: PagesState, zone: ZoneState, e: MmEvent): void => {
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
    case 'PageCaptured':
      if (e.data.from === 'page') freed(s, e.data.pfn, 1 << e.data.order, 0)
      return
    case 'IsolatedPageReleased':
      return allocated(s, e.data.pfn, 1)
    case 'ContigRangeTaken':
      return contigTaken(s, zone, e.data.pfn, e.data.pages)
    case 'PageMigrated':
      return migrated(s, e.data.from, e.data.to)
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
      if (s.cache.has(key)) fail(`file ${file} index ${index} is not cached twice`)
      if (!(s.file[pfn] === -1 && s.refcount[pfn] === 1)) fail(`page ${pfn} is a fresh page`)
      s.cache.set(key, pfn)
      s.file[pfn] = file
      s.index[pfn] = index
      s.flags[pfn] = s.flags[pfn]! | PG_locked | PG_lru
      return
    }
    case 'PageCacheRemoved': {
      const { pfn, file, index, discarded } = e.data
      if (!(s.cache.get(cacheKey(file, index)) === pfn && s.file[pfn] === file)) fail(`page ${pfn} is file ${file} index ${index}`)
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
      if (s.refcount[e.data.pfn]! <= 1) fail(`put_page of page ${e.data.pfn} leaves it referenced`)
      s.refcount[e.data.pfn]!--
      return
    case 'PageUseStarted':
      s.uses[e.data.pfn]!++
      return
    case 'PageUseEnded':
      if (s.uses[e.data.pfn]! <= 0) fail(`page ${e.data.pfn} was in use`)
      s.uses[e.data.pfn]!--
      return
    case 'PteSet':
      s.mapcount[e.data.pfn]!++
      s.refcount[e.data.pfn]!++
      return
    case 'PteCleared':
      if (!(s.mapcount[e.data.pfn]! > 0 && s.refcount[e.data.pfn]! > 0)) fail(`page ${e.data.pfn} was mapped`)
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
    case 'IsolationRegistered':
    case 'IsolationRefused':
    case 'PageblockIsolated':
    case 'PageblockUnisolated':
    case 'RangeIsolated':
    case 'PagesOfflined':
    case 'IsolationEnded':
      return
    default:
      return absurd(e)
  }
}
