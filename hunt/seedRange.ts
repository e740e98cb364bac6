// Ranges of seeds, and the disjoint slices a campaign spreads over machines (`--shard K/N`).
import { assert } from '../lib'

/** Seeds from..from+count−1. */
export interface SeedRange {
  readonly from: number
  readonly count: number
}

export const lastSeed = (r: SeedRange): number => r.from + r.count - 1

/**
 * The K-th (from 0, as a Kubernetes Indexed Job's JOB_COMPLETION_INDEX counts) of N contiguous,
 * disjoint slices that together are `r`; their sizes differ by at most one, and a slice may be
 * empty when there are more shards than seeds.
 */
export const shardOf = (r: SeedRange, k: number, n: number): SeedRange => {
  assert(Number.isSafeInteger(n) && n >= 1, 'a range is cut in one slice or more')
  assert(Number.isSafeInteger(k) && k >= 0 && k < n, 'the slice is one of the n')
  const start = Math.floor((k * r.count) / n)
  const end = Math.floor(((k + 1) * r.count) / n)
  return { from: r.from + start, count: end - start }
}
