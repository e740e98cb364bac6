// What other mechanisms that walk the free lists need to know about isolation. Free page
// aeration's fill (Duyck's RFC v1) loops over every migratetype, MIGRATE_ISOLATE included, where
// mainline's page_reporting skips it (kernel-facts.md §4): a walker asks this before it takes a
// page, so that the aeration-fill-walks-isolate-lists interaction is one predicate to switch.
import { MIGRATE_ISOLATE } from '../../events/codecs'
import type { ZoneState } from '../zone/state'
import type { IsolationState } from './state'
import { NO_RANGE } from './state'

/** is_migrate_isolate: free_list[mt] is an isolate list (its pages belong to a range being isolated). */
export const isIsolateFreeList = (mt: number): boolean => mt === MIGRATE_ISOLATE

/** The pageblock of `pfn` is MIGRATE_ISOLATE (is_migrate_isolate_page). */
export const isIsolatePageblock = (s: ZoneState, pfn: number): boolean => s.pageblockMt[pfn >> s.pageblockOrder] === MIGRATE_ISOLATE

/** The frame sits on an isolation_info list (the 2007 patch's design). */
export const isCapturedFrame = (iso: IsolationState, pfn: number): boolean => iso.capturedBy[pfn] !== NO_RANGE
