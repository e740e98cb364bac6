// `mmsim replay` as a function: re-execute a stored run under its recorded schedule into a new
// run and say whether it is the same, event for event; or, with other variants, how the same
// workload and schedule fare under them (hunt/derive.ts does the work).
import { deriveRun, type DeriveOptions, type DeriveResult } from './derive'

export interface ReplayReport extends DeriveResult {
  /** verify: the run as stored, which must come out identical; variant: under other variants, a report. */
  readonly mode: 'verify' | 'variant'
  /**
   * Every event the same (columns and chain hash), every recorded decision taken where it was
   * made and no other asked for, and the same head hash where the heads can be equal. Only
   * meaningful in verify mode.
   */
  readonly identical: boolean
}

export const replayRun = async (o: DeriveOptions): Promise<ReplayReport> => {
  const r = await deriveRun(o, 'replay')
  const mode = r.variants === null ? 'verify' : 'variant'
  // Past an interrupted parent's head its record has ended: the new run goes on with the seeded strategy.
  const to = r.comparison.toSeq
  const followedToTheEnd = r.schedule.departure === null || (to !== null && r.schedule.departure.reason === 'ended' && r.schedule.departure.seq >= to)
  const identical = r.comparison.divergence === null && followedToTheEnd && r.schedule.followed === r.schedule.recorded && r.sameHead !== false
  return { ...r, mode, identical }
}
