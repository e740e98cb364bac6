// The event vocabulary: one codec per event type, the envelope, the union and its decoder.
// A new event type is added to `eventCodecs`; the union type and every exhaustive switch over
// `type` (evolve, eventSpan) then refuse to compile until it is handled.
import * as t from 'io-ts'
import * as E from 'fp-ts/Either'
import { Envelope } from './envelope'
import { MachineBooted } from './machine'
import { FreeBlockMoved, FreepagesMoved, PageAllocFailed, PageAllocated, PageFreed, PageblockMigratetypeSet, PcpAllocated, PcpDrained, PcpFreed } from './buddy'
import { DeadlockDetected, InvariantViolated, OpSkipped } from './run'
import {
  CpuWentOffline,
  CpuWentOnline,
  DiscardCollectionFreed,
  DiscardCollectionStarted,
  DiscardFault,
  DiscardFaultPinned,
  DiscardListMoved,
  DiscardListSpliced,
  DiscardQueued,
  FileMapped,
  HostDiscarded,
  HostPagedOut,
  MmCreated,
  MmExited,
  PageCacheAdded,
  PageCacheRemoved,
  PageFlagsChanged,
  PageGot,
  PagePut,
  PageStateChanged,
  PageUseEnded,
  PageUseStarted,
  PteCleared,
  PteSet,
  ReclaimRan,
} from './hinting'
import {
  AnonPageIsolated,
  AnonPagePutBack,
  AnonRmapAdded,
  AnonRmapMoved,
  AnonVmaCloned,
  AnonVmaCreated,
  AnonVmaPrepared,
  AnonVmaPut,
  AnonVmaUnlinked,
  PteWriteChanged,
  RmapWalkFinished,
  RmapWalkStarted,
  VmaAdjusted,
  VmaMapped,
  VmaProtectionChanged,
  VmaRemoved,
  VmaSplit,
} from './anon'
import {
  ContigRangeTaken,
  IsolatedPageReleased,
  IsolationEnded,
  IsolationRefused,
  IsolationRegistered,
  PageCaptured,
  PageMigrated,
  PageblockIsolated,
  RangeIsolated,
  PageblockUnisolated,
  PagesOfflined,
} from './isolation'
import {
  AerationActiveCleared,
  AerationBoundariesPopulated,
  AerationRequestCleared,
  BoundaryMoved,
  FreeListRotated,
  ReportingHostReacted,
  ReportingPagesPulled,
  ReportingPagesReturned,
  ReportingRequested,
  ReportingWorkFinished,
  ReportingWorkStarted,
} from './reporting'
import { formatErrors } from './report'

export * from './codecs'
export * from './envelope'
export * from './machine'
export * from './buddy'
export * from './run'
export * from './hinting'
export * from './anon'
export * from './isolation'
export * from './reporting'
export * from './report'
export * from './strict'
export * from './schedule'
export { eventSpan, eventPfns } from './span'

export const eventCodecs = {
  MachineBooted,
  PageAllocated,
  PcpAllocated,
  PageFreed,
  PcpFreed,
  PcpDrained,
  FreepagesMoved,
  FreeBlockMoved,
  PageblockMigratetypeSet,
  PageAllocFailed,
  PageStateChanged,
  HostDiscarded,
  HostPagedOut,
  PageFlagsChanged,
  PageCacheAdded,
  PageCacheRemoved,
  PageGot,
  PagePut,
  PageUseStarted,
  PageUseEnded,
  PteSet,
  PteCleared,
  MmCreated,
  FileMapped,
  MmExited,
  DiscardFault,
  DiscardFaultPinned,
  DiscardQueued,
  DiscardCollectionStarted,
  DiscardListSpliced,
  DiscardCollectionFreed,
  DiscardListMoved,
  CpuWentOffline,
  CpuWentOnline,
  ReclaimRan,
  VmaMapped,
  VmaSplit,
  VmaAdjusted,
  VmaProtectionChanged,
  VmaRemoved,
  AnonVmaPrepared,
  AnonVmaCloned,
  AnonVmaCreated,
  AnonVmaUnlinked,
  AnonVmaPut,
  AnonRmapAdded,
  AnonRmapMoved,
  PteWriteChanged,
  AnonPageIsolated,
  AnonPagePutBack,
  RmapWalkStarted,
  RmapWalkFinished,
  InvariantViolated,
  DeadlockDetected,
  OpSkipped,
  // Page isolation (appended: existing types keep their place).
  IsolationRegistered,
  IsolationRefused,
  PageblockIsolated,
  PageblockUnisolated,
  PageCaptured,
  PageMigrated,
  RangeIsolated,
  IsolatedPageReleased,
  PagesOfflined,
  ContigRangeTaken,
  IsolationEnded,
  ReportingRequested,
  ReportingWorkStarted,
  ReportingPagesPulled,
  AerationRequestCleared,
  ReportingHostReacted,
  AerationBoundariesPopulated,
  ReportingPagesReturned,
  BoundaryMoved,
  AerationActiveCleared,
  FreeListRotated,
  ReportingWorkFinished,
} as const

export type EventType = keyof typeof eventCodecs
export const EVENT_TYPES = Object.keys(eventCodecs).sort() as EventType[]

export type EventBody = { [K in EventType]: t.TypeOf<(typeof eventCodecs)[K]> }[EventType]
export type MmEvent = Envelope & EventBody
export type EventOf<K extends EventType> = Envelope & t.TypeOf<(typeof eventCodecs)[K]>
export type EventData<K extends EventType> = t.TypeOf<(typeof eventCodecs)[K]>['data']

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES)

/** A Set rather than a property lookup on eventCodecs: the store's fold path asks this per event. */
export const isEventType = (s: string): s is EventType => EVENT_TYPE_SET.has(s)

/**
 * Decodes one event: the envelope first, then the body by its type, so that an error names the
 * field of the one codec that applies instead of every member of a union.
 */
export const decodeEvent = (u: unknown): E.Either<string, MmEvent> => {
  const env = Envelope.decode(u)
  if (E.isLeft(env)) return E.left(formatErrors(env.left))
  const type = (u as { type?: unknown }).type
  if (typeof type !== 'string' || !isEventType(type)) return E.left(`type: unknown event type ${JSON.stringify(type)}`)
  const body = (eventCodecs[type] as t.Mixed).decode(u)
  if (E.isLeft(body)) return E.left(formatErrors(body.left))
  return E.right({ ...env.right, ...(body.right as EventBody) })
}
