// `mmsim fork` as a function: a new run that follows a stored run's schedule until it has SEQ
// events, then goes on with the seeded strategy's choices (hunt/derive.ts does the work).
import { deriveRun, type DeriveOptions, type DeriveResult } from './derive'

export interface ForkOptions extends DeriveOptions {
  /** The fork point: events 1..atSeq follow the parent. */
  readonly atSeq: number
}

export interface ForkReport extends DeriveResult {
  readonly atSeq: number
  /** Events 1..atSeq are the parent's, row for row and hash for hash. */
  readonly prefixIdentical: boolean
}

export const forkRun = async (o: ForkOptions): Promise<ForkReport> => {
  const r = await deriveRun(o, 'fork', o.atSeq)
  const d = r.comparison.divergence
  return { ...r, atSeq: o.atSeq, prefixIdentical: d === null || d.seq > o.atSeq }
}
