// `mmsim inevitable` as a function: when did a failing run's failure become certain? From P points
// before the violation, N forks each follow the run exactly up to the point (its recorded
// decisions) and then take new schedule choices (the seeded random strategy, fork seeds 1..N);
// per point, the share of forks that still fail the same invariant first. The earliest point
// from which every later point's forks all fail is then narrowed down by bisection between it and
// the point before it, to one event: after it, every fork fails; after the event before it, some
// fork does not. That event made the failure certain (for these N choices).
import { resolveConfig, type ResolvedConfig } from '../engine/config'
import { assert } from '../lib'
import { DeriveRefused } from './derive'
import { loadFailingRun, type FailingRun, type FailingRunQuery } from './failingRun'
import { failsAs, simulateCandidate, targetText } from './shrink/candidate'

export interface InevitableOptions extends FailingRunQuery {
  /** Fork points spread evenly over the events before the violating one (default POINTS_DEFAULT). */
  readonly points?: number
  /** Forks per point (default FORKS_DEFAULT). */
  readonly forks?: number
}

export const POINTS_DEFAULT = 10
export const FORKS_DEFAULT = 20

export interface ForkPoint {
  /** Forks follow the run for events 1..seq (0: from the start). */
  readonly seq: number
  readonly forks: number
  /** Forks that failed the same invariant first. */
  readonly failing: number
  /** Found while narrowing down the point, not one of the evenly spread ones. */
  readonly refined: boolean
}

export interface InevitableResult {
  readonly run: number
  readonly invariant: string
  /** The event the failure is about (the event a monitor fired on), and the seq of its finding. */
  readonly violatingSeq: number
  readonly findingSeq: number
  readonly forks: number
  /** Every point tried, in seq order. */
  readonly points: readonly ForkPoint[]
  /**
   * The earliest event after which every fork fails (every point from it on tried all fail), or 0
   * when every fork from the start fails, or null when even forks from just before the violating
   * event do not all fail.
   */
  readonly inevitableAt: number | null
  /** The point tried just before it, where some fork passes (null when inevitableAt is 0 or null). */
  readonly before: ForkPoint | null
}

/** The configuration of the forks after their fork point: the run's settings, seeded random choices. */
const forkConfig = (c: ResolvedConfig): ResolvedConfig => {
  const { pct: _pct, fixed: _fixed, ...rest } = c
  return resolveConfig({ ...rest, strategy: 'random' })
}

export const inevitable = (o: InevitableOptions): InevitableResult => {
  const L: FailingRun = loadFailingRun(o, 'mmsim inevitable')
  const forks = o.forks ?? FORKS_DEFAULT
  const pointsWanted = o.points ?? POINTS_DEFAULT
  const original = simulateCandidate(L.workload, L.seeds, L.config, L.replay).outcome
  if (original === null || !failsAs(original, L.target))
    throw new DeriveRefused(`mmsim inevitable: run ${o.runId} does not fail ${targetText(L.target)} when re-simulated under its recorded schedule`)
  const findingSeq = original.first?.seq ?? original.events
  const violatingSeq = original.first?.cause ?? findingSeq
  const config = forkConfig(L.config)

  const tried = new Map<number, ForkPoint>()
  const at = (seq: number, refined: boolean): ForkPoint => {
    const known = tried.get(seq)
    if (known !== undefined) return known
    let failing = 0
    for (let k = 1; k <= forks; k++) {
      const out = simulateCandidate(L.workload, { seed: L.seeds.seed, scheduleSeed: k }, config, { schedule: L.replay.schedule, untilSeq: seq }).outcome
      if (out !== null && failsAs(out, L.target)) failing++
    }
    const p = { seq, forks, failing, refined }
    tried.set(seq, p)
    return p
  }
  const allFail = (p: ForkPoint): boolean => p.failing === p.forks

  // Evenly spread over 0..violatingSeq − 1: the last point is the event just before the violating one.
  const last = violatingSeq - 1
  const spread = [...new Set(Array.from({ length: pointsWanted }, (_, i) => (pointsWanted === 1 ? last : Math.round((i * last) / (pointsWanted - 1)))))]
  for (const s of spread) at(s, false)
  const sorted = (): ForkPoint[] => [...tried.values()].sort((a, b) => a.seq - b.seq)

  let inevitableAt: number | null = null
  let before: ForkPoint | null = null
  const coarse = sorted()
  let i = coarse.length
  while (i > 0 && allFail(coarse[i - 1]!)) i--
  if (i === 0) inevitableAt = coarse[0]!.seq
  else if (i < coarse.length) {
    // Between a point where some fork passes (lo) and the first of the all-fail suffix (hi).
    let lo = coarse[i - 1]!.seq
    let hi = coarse[i]!.seq
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2)
      if (allFail(at(mid, true))) hi = mid
      else lo = mid
    }
    inevitableAt = hi
    before = at(lo, true)
  }
  assert(inevitableAt === null || inevitableAt < violatingSeq, 'a fork point is before the violating event')
  return { run: o.runId, invariant: targetText(L.target), violatingSeq, findingSeq, forks, points: sorted(), inevitableAt, before }
}
