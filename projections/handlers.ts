// Which projections each event changes. Every event type must be listed (the record's type
// demands it), so a new event does not compile until someone decides where it lands; the
// evolve functions handle exactly the events that name them here.
import type { EventType } from '../events'

export type ProjectionName = 'zone' | 'pages' | 'cpus' | 'mms'

export const EVENT_PROJECTIONS: { readonly [K in EventType]: readonly ProjectionName[] } = {
  MachineBooted: [], // creates the state
  PageAllocated: ['zone', 'pages'],
  PcpAllocated: ['zone', 'pages'],
  PageFreed: ['zone', 'pages'],
  PcpFreed: ['zone', 'pages'],
  PcpDrained: [],
  FreepagesMoved: ['zone'],
  FreeBlockMoved: ['zone'],
  PageblockMigratetypeSet: ['zone'],
  PageAllocFailed: [],
  PageStateChanged: ['pages'],
  HostDiscarded: ['pages'],
  HostPagedOut: ['pages'],
  PageFlagsChanged: ['pages'],
  PageCacheAdded: ['pages'],
  PageCacheRemoved: ['pages'],
  PageGot: ['pages'],
  PagePut: ['pages'],
  PageUseStarted: ['pages'],
  PageUseEnded: ['pages'],
  PteSet: ['pages', 'mms'],
  PteCleared: ['pages', 'mms'],
  MmCreated: ['mms'],
  FileMapped: ['mms'],
  MmExited: ['mms'],
  DiscardFault: ['cpus'],
  DiscardFaultPinned: ['pages', 'cpus'],
  DiscardQueued: ['zone', 'pages', 'cpus'],
  DiscardCollectionStarted: ['cpus'],
  DiscardListSpliced: ['cpus'],
  DiscardCollectionFreed: ['zone', 'pages', 'cpus'],
  DiscardListMoved: ['cpus'],
  CpuWentOffline: ['cpus'],
  CpuWentOnline: ['cpus'],
  ReclaimRan: [],
  InvariantViolated: [],
  DeadlockDetected: [],
  OpSkipped: [],
}
