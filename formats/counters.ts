// The counters both exports carry, sampled from the folded state: free pages per order in each
// zone (nr_free << order, as /proc/buddyinfo's blocks are pages to a reader of a chart), the zone's
// NR_FREE_PAGES, the host's running discard and page-out totals on a hinting guest, and the share
// of free memory reported to the host on a guest with free page reporting.
import { MAX_ORDER } from '../events/codecs'
import type { MmState } from '../projections'
import { nrFreeIdx } from '../projections/zone/state'
import { reportablePages, reportedPages } from '../projections/boundary/evolve'

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

/** Free page reporting: pages flagged aerated / reported of the reportable free pages, and the host's unbacked frames; null when the run reports nothing. */
export const reportingCounters = (s: MmState): { flag: 'aerated' | 'reported'; reported: number; reportable: number; sharePercent: number; unbacked: number } | null => {
  const b = s.boundary
  if (b === null) return null
  const reported = reportedPages(b)
  const reportable = reportablePages(b, s.zone)
  return {
    flag: b.config.mechanism === 'aeration' ? 'aerated' : 'reported',
    reported,
    reportable,
    sharePercent: reportable === 0 ? 0 : Math.round((1000 * reported) / reportable) / 10,
    unbacked: b.unbackedPages,
  }
}
