// Page isolation ranges as the kernel and the 2007 patch keep them (kernel-facts.md §2, the
// hot-remove review): each range, who isolated it and where it stands; which range isolated each
// pageblock (the kernel keeps no owner: mmsim does, to name the isolator whose blocks another's
// undo took, Kravetz 2018); for the patch's design, each zone's isolation_list (newest first, as
// list_add leaves it) and which range captured each frame; and the work each design does.
import { DEFAULT_ISOLATION, type IsolationConfig, type MachineBooted } from '../../events/machine'
import type { IsolationDesign, IsolationErrno, Isolator } from '../../events/isolation'

/** No range: a pageblock no one isolated, a frame no one captured. */
export const NO_RANGE = -1

export const RANGE_STATUSES = ['isolating', 'isolated', 'undoing', 'ended'] as const
export type RangeStatus = (typeof RANGE_STATUSES)[number]
export type RangeOutcome = 'offlined' | 'allocated' | 'undone'

export interface IsolationRange {
  readonly id: number
  readonly zone: number
  readonly startPfn: number
  readonly endPfn: number
  readonly design: IsolationDesign
  readonly by: Isolator
  readonly cpu: number | null
  /** isolating: registered, pageblocks going ISOLATE; isolated: start_isolate_page_range (or the list's pull-in and drain) done; undoing: its pageblocks going back; ended. */
  status: RangeStatus
  outcome: RangeOutcome | null
  errno: IsolationErrno | null
  reason: string
  /** Pageblocks this range set ISOLATE and has not unset. */
  pageblocks: number
  /** Pages on this range's isolation_info list (the patch's design). */
  captured: number
  migrated: number
  offlined: number
  readonly registeredSeq: number
  endedSeq: number | null
}

/**
 * The work each design does, the review's argument as numbers: the patch searches the zone's
 * isolation_list on every free while the list is not empty; MIGRATE_ISOLATE moves free pages
 * between free lists when a pageblock is isolated and again when it is restored.
 */
export interface IsolationWork {
  /** __free_one_page calls that searched a non-empty isolation_list, and the entries they visited. */
  freesSearched: number
  listEntriesSearched: number
  /** Pages moved between lists: to and from the ISOLATE lists (move_freepages_block) or onto and off an isolation_info list. */
  pagesMoved: number
  /** Pages captured on the way to free_area[] (the patch) or freed onto an ISOLATE list (counted as they arrive). */
  pagesCaptured: number
}

export interface RefusedRequest {
  readonly seq: number
  readonly startPfn: number
  readonly endPfn: number
  readonly by: Isolator
  readonly errno: IsolationErrno
  readonly reason: string
}

export interface IsolationState {
  readonly config: IsolationConfig
  /** Every range, by id, in the order registered. */
  readonly ranges: Map<number, IsolationRange>
  /** Per zone, the ids on zone->isolation_list (the patch's design), newest first. */
  readonly zoneLists: number[][]
  /** Per pageblock: the range whose set_migratetype_isolate made it ISOLATE, or NO_RANGE. */
  readonly pageblockOwner: Int32Array
  /** Per frame: the range whose isolation_info list holds it, or NO_RANGE. */
  readonly capturedBy: Int32Array
  readonly refused: RefusedRequest[]
  readonly work: IsolationWork
}

export const isolationConfigOf = (boot: MachineBooted['data']): IsolationConfig => boot.isolation ?? DEFAULT_ISOLATION

export const createIsolationState = (boot: MachineBooted['data']): IsolationState => ({
  config: isolationConfigOf(boot),
  ranges: new Map(),
  zoneLists: boot.zones.map(() => []),
  pageblockOwner: new Int32Array(Math.ceil(boot.pfnEnd / (1 << boot.pageblockOrder))).fill(NO_RANGE),
  capturedBy: new Int32Array(boot.pfnEnd).fill(NO_RANGE),
  refused: [],
  work: { freesSearched: 0, listEntriesSearched: 0, pagesMoved: 0, pagesCaptured: 0 },
})

/** The range that holds `pfn`, among those not ended, or null. */
export const activeRangeAt = (s: IsolationState, pfn: number): IsolationRange | null => {
  for (const r of s.ranges.values()) if (r.status !== 'ended' && pfn >= r.startPfn && pfn < r.endPfn) return r
  return null
}

/** Ranges not ended, in registration order. */
export const activeRanges = (s: IsolationState): IsolationRange[] => [...s.ranges.values()].filter((r) => r.status !== 'ended')

/**
 * __page_under_isolation's search: the zone's isolation_list from its head until a range holds
 * `pfn`. Returns the range (or NO_RANGE) and the entries visited. An empty list is not searched
 * (page_under_isolation's list_empty check), so it visits none.
 */
export const searchIsolationList = (s: IsolationState, zone: number, pfn: number): { range: number; visited: number } => {
  const list = s.zoneLists[zone] ?? []
  let visited = 0
  for (const id of list) {
    visited++
    const r = s.ranges.get(id)!
    if (r.startPfn <= pfn && pfn < r.endPfn) return { range: id, visited }
  }
  return { range: NO_RANGE, visited }
}
