// The counters both exports carry, sampled from the folded state: free pages per order in each
// zone (nr_free << order, as /proc/buddyinfo's blocks are pages to a reader of a chart), the zone's
// NR_FREE_PAGES, and the host's running discard and page-out totals on a hinting guest.
import { MAX_ORDER } from '../events/codecs'
import type { MmState } from '../projections'
import { nrFreeIdx } from '../projections/zone/state'

/** Samples a run of any length about this many times, unless told otherwise. */
export const COUNTER_SAMPLES_DEFAULT = 2048

export const sampleEveryFor = (headSeq: number, every: number | undefined): number => every ?? Math.max(1, Math.ceil(headSeq / COUNTER_SAMPLES_DEFAULT))

export interface ZoneCounters {
  readonly zone: string
  /** Free pages in blocks of each order. */
  readonly freePages: readonly number[]
  readonly nrFreePages: number
}

export const zoneCounters = (s: MmState): ZoneCounters[] =>
  s.zone.zones.map((z) => ({
    zone: z.name,
    freePages: Array.from({ length: MAX_ORDER }, (_, o) => s.zone.nrFree[nrFreeIdx(z.idx, o)]! << o),
    nrFreePages: z.nrFreePages,
  }))

export const hostCounters = (s: MmState): { discards: number; pagedOut: number } | null =>
  s.pages === null ? null : { discards: s.pages.hostDiscards, pagedOut: s.pages.hostPagedOut }
