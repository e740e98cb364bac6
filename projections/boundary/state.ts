// The boundary projection: free page reporting's state (kernel-facts.md §4). For the aeration RFC,
// the raw / aerated split of every free list of order >= AERATOR_MIN_ORDER, its boundary pointer
// per (zone, order, migratetype), nr_free_aerated, the zone flags ZONE_AERATION_REQUESTED /
// ACTIVE and the device's refcount; for mainline page reporting, PageReported and the device's
// IDLE / REQUESTED / ACTIVE state. Both: the batch in flight, and what the host did with it
// (which frames lost their backing, refaults, the reported share of free memory over time).
import { MAX_ORDER, MIGRATE_TYPES } from '../../events/codecs'
import type { MachineBooted } from '../../events/machine'
import type { ReportingConfig } from '../../events/reporting'
import { NIL } from '../zone/state'

/** page_reporting's prdev->state. */
export const PAGE_REPORTING_IDLE = 0
export const PAGE_REPORTING_REQUESTED = 1
export const PAGE_REPORTING_ACTIVE = 2

/** Points of the reported-share curve kept at most (one per returned batch); later batches only move the last. */
export const TIMELINE_POINTS_MAX = 4096

/** Cycles kept at most (fill, react, drain of one batch each); later ones only move the last. */
export const CYCLES_MAX = 4096

/** One cycle: when its first block was pulled, pages pulled, pages the host reacted to, pages returned (and of those merged), when it ended (-1: in flight). */
export type Cycle = [startNs: number, pulledPages: number, reactedPages: number, returnedPages: number, mergedPages: number, endNs: number]

/** One point of the curve: simulated time, pages reported (or aerated), reportable free pages, pages whose backing the host released. */
export type TimelinePoint = [tNs: number, reportedPages: number, reportablePages: number, unbackedPages: number]

export interface BoundaryState {
  readonly config: ReportingConfig
  /** AERATOR_MIN_ORDER / page_reporting_order: pageblock_order. */
  readonly minOrder: number
  readonly zones: number
  /** PageAerated (aeration) or PageReported (page reporting), at the head of a free block. */
  readonly flag: Uint8Array
  /** The boundary of each free list (freeListIdx): its first aerated block, NIL for the list head. Kept while the zone is ACTIVE. */
  readonly boundary: Int32Array
  /** free_area[order].nr_free_aerated per nrFreeIdx(zone, order): blocks flagged (aerated or reported). */
  readonly nrFreeAerated: Int32Array
  /** 1 where the host released the frame's backing; cleared when the guest hands the frame out again (a zero-filled refault). */
  readonly unbacked: Uint8Array
  /** ZONE_AERATION_REQUESTED / ZONE_AERATION_ACTIVE per zone (0 or 1). */
  readonly requested: number[]
  readonly active: number[]
  /** aerator_dev_info.refcnt: requests outstanding, plus one while the work runs. */
  refcnt: number
  /** prdev->state (page reporting). */
  deviceState: number
  /** The batch in flight, in the order it was filled. */
  batch: { pfns: number[]; orders: number[]; mts: number[] }
  /** Work runs (aerator_cycle / page_reporting_process) started. */
  passes: number
  /** Batches handed to the host, and their blocks and pages. */
  reacts: number
  pulledBlocks: number
  pulledPages: number
  returnedPages: number
  /** Pages returned that merged with a buddy (raw again / reported again later as the larger block). */
  mergedPages: number
  /** Pages the host released, all told, and pages it acknowledged without releasing. */
  hostFreedPages: number
  ackedNotFreedPages: number
  unbackedPages: number
  /** Pages handed out again after their backing was released: zero-filled refaults. */
  refaults: number
  /** The reported share over time, a point per returned batch (at most TIMELINE_POINTS_MAX). */
  timeline: TimelinePoint[]
  /** Each batch's phases (at most CYCLES_MAX). */
  cycles: Cycle[]
  /** When the reported share of reportable free memory first reached 100 %, or -1. */
  fullyReportedAtNs: number
}

export const reportingConfigOf = (boot: MachineBooted['data']): ReportingConfig | null => boot.reporting ?? null

export const createBoundaryState = (config: ReportingConfig, boot: MachineBooted['data']): BoundaryState => {
  const zones = boot.zones.length
  return {
    config,
    minOrder: boot.pageblockOrder,
    zones,
    flag: new Uint8Array(boot.pfnEnd),
    boundary: new Int32Array(zones * MAX_ORDER * MIGRATE_TYPES).fill(NIL),
    nrFreeAerated: new Int32Array(zones * MAX_ORDER),
    unbacked: new Uint8Array(boot.pfnEnd),
    requested: new Array<number>(zones).fill(0),
    active: new Array<number>(zones).fill(0),
    refcnt: 0,
    deviceState: PAGE_REPORTING_IDLE,
    batch: { pfns: [], orders: [], mts: [] },
    passes: 0,
    reacts: 0,
    pulledBlocks: 0,
    pulledPages: 0,
    returnedPages: 0,
    mergedPages: 0,
    hostFreedPages: 0,
    ackedNotFreedPages: 0,
    unbackedPages: 0,
    refaults: 0,
    timeline: [],
    cycles: [],
    fullyReportedAtNs: -1,
  }
}

export const isAeration = (b: BoundaryState): boolean => b.config.mechanism === 'aeration'
