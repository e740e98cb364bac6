// `mmsim shrink` as a function: a failing run reduced to a minimal reproducer by delta debugging
// (ddmin.ts), first over the workload's operations, then over the schedule's preemptions (each
// decision that departs from the non-preempting default, replaced by the default one at a time;
// then each kept one shortened, shorten.ts),
// and again over the operations under the shrunk schedule, until neither shrinks: removing any
// single op (with the ops that depend on it) or any single preemption makes the run pass, or fail
// another way. Every candidate is simulated in memory; nothing is stored. The result is a
// workload and a fixed schedule (engine/sim/fixed.ts) that `mmsim run --workload W --schedule S`
// re-runs into the same events.
import type { Logger } from 'pino'
import { assert } from '../../lib'
import { type Preemption, type ResolvedConfig } from '../../engine/config'
import type { ReplayInput } from '../../engine/run'
import type { Op, Workload } from '../../workload/codec'
import { DeriveRefused } from '../derive'
import { loadFailingRun, type FailingRunQuery } from '../failingRun'
import type { ScheduleOutcome } from '../schedule'
import { failsAs, fixedConfig, preemptionsOf, simulateCandidate, targetText } from './candidate'
import { ddmin } from './ddmin'
import { shortenPreemptions } from './shorten'
import { closeOps, opUnits, unroll, withOps, type OpUnits } from './opUnits'
import { scheduleFile, type ScheduleFile } from './scheduleFile'

export interface ShrinkOptions extends FailingRunQuery {
  /** Candidates simulated at most, over all rounds (default SHRINK_TESTS_MAX). */
  readonly testsMax?: number
  readonly log?: Logger
}

export const SHRINK_TESTS_MAX = 20_000
/** Rounds of ops-then-schedule: each after the first runs only when the previous removed an op. */
const ROUNDS_MAX = 6

/** A reproducer's size: the ops it runs (repeats counted as run) and its schedule. */
export interface ReproducerSize {
  readonly ops: number
  /** Schedule decisions that depart from the non-preempting default. */
  readonly preemptions: number
  /** Schedule decisions in all, up to the failure. */
  readonly decisions: number
  readonly events: number
  /** The seq of the failure's finding (null for a deadlock). */
  readonly seq: number | null
}

export interface ShrinkResult {
  readonly run: number
  readonly invariant: string
  readonly before: ReproducerSize
  readonly after: ReproducerSize
  readonly workload: Workload
  readonly schedule: ScheduleFile
  /** Candidates simulated. */
  readonly tests: number
  /** Each single op's and each single preemption's removal was tried (false: testsMax was reached first). */
  readonly minimal: boolean
  readonly rounds: number
  /** The repeats were unrolled, so single iterations could go. */
  readonly unrolled: boolean
}

/** The ops a workload runs: every op of a repeat's body counted once per iteration. */
export const opsRun = (ops: readonly Op[]): number => ops.reduce((n, op) => n + (op.op === 'repeat' ? op.times * opsRun(op.ops) : 1), 0)

export const shrinkRun = (o: ShrinkOptions): ShrinkResult => {
  const L = loadFailingRun(o, 'mmsim shrink')
  const { seeds, target } = L
  const testsMax = o.testsMax ?? SHRINK_TESTS_MAX
  let tests = 0
  let minimal = true
  const fails = (w: Workload, config: ResolvedConfig, replay?: ReplayInput): ScheduleOutcome | null => {
    tests++
    const r = simulateCandidate(w, seeds, config, replay)
    return r.outcome !== null && failsAs(r.outcome, target) ? r.outcome : null
  }

  // The run as stored: under its recorded schedule, which also fits a fork or a replay.
  const original = fails(L.workload, L.config, L.replay)
  if (original === null) throw new DeriveRefused(`mmsim shrink: run ${o.runId} does not fail ${targetText(target)} when re-simulated under its recorded schedule`)
  const recorded = preemptionsOf(L.workload, seeds, L.config, L.replay)
  const before: ReproducerSize = {
    ops: opsRun(L.workload.ops),
    preemptions: recorded.preemptions.length,
    decisions: recorded.decisions,
    events: original.events,
    seq: original.first?.seq ?? null,
  }

  // Ops are shrunk under the run's own seeded strategy when it fails there (a run of a seed, as
  // explore stores them); else (a fork) under its schedule made fixed.
  let opsConfig = fails(L.workload, L.config) !== null ? L.config : fixedConfig(L.config, recorded.preemptions)
  const flat = unroll(L.workload.ops)
  const unrolled = flat !== null && fails({ ...L.workload, ops: flat }, opsConfig) !== null
  let units: OpUnits = opUnits(unrolled ? flat : L.workload.ops)
  let base: Workload = L.workload
  let kept = units.ops.map((_, i) => i)
  let preemptions: Preemption[] = []
  let rounds = 0
  for (; rounds < ROUNDS_MAX; rounds++) {
    const left = Math.max(1, testsMax - tests)
    const ops = ddmin(kept, (k) => fails(withOps(base, units, k), opsConfig) !== null, { close: closeOps(units), testsMax: left })
    minimal &&= ops.minimal
    const removed = ops.kept.length < kept.length
    if (rounds > 0 && !removed) break
    // Renumber the units kept, so that the next round's dependencies are among them.
    base = withOps(base, units, ops.kept)
    units = opUnits(base.ops)
    kept = units.ops.map((_, i) => i)
    const listed = preemptionsOf(base, seeds, opsConfig).preemptions
    preemptions = shrinkSchedule(base, listed)
    opsConfig = fixedConfig(L.config, preemptions)
    o.log?.info({ round: rounds, ops: kept.length, preemptions: preemptions.length, tests }, 'shrink round')
  }

  // Out of rounds with an op still removed in the last: the ops were not tried under the last schedule.
  if (rounds === ROUNDS_MAX) minimal = false

  function shrinkSchedule(w: Workload, listed: Preemption[]): Preemption[] {
    if (fails(w, fixedConfig(L.config, [])) !== null) return []
    const failsWith = (ps: readonly Preemption[]): boolean => fails(w, fixedConfig(L.config, ps)) !== null
    const fewest = (ps: readonly Preemption[]): Preemption[] => {
      const r = ddmin(
        ps.map((_, i) => i),
        (k) => failsWith(k.map((i) => ps[i]!)),
        { testsMax: Math.max(1, testsMax - tests) },
      )
      minimal &&= r.minimal
      return r.kept.map((i) => ps[i]!)
    }
    const kept = fewest(listed)
    const shorter = shortenPreemptions(kept, L.config.stepNs, failsWith)
    // Shorter delays may make one of them unnecessary: ddmin again keeps the result 1-minimal.
    return shorter.some((p, i) => p[1] !== kept[i]![1]) ? fewest(shorter) : shorter
  }

  const finalConfig = fixedConfig(L.config, preemptions)
  const last = fails(base, finalConfig)
  assert(last !== null, 'the shrunk reproducer fails as the run did: every candidate kept was one that failed')
  const decisions = preemptionsOf(base, seeds, finalConfig).decisions
  const after: ReproducerSize = { ops: base.ops.length, preemptions: preemptions.length, decisions, events: last.events, seq: last.first?.seq ?? null }
  const workload: Workload = {
    ...base,
    name: `${L.workload.name}-shrunk`,
    description: `Shrunk by mmsim shrink from run ${o.runId} (workload ${L.workload.name}, seed ${seeds.seed}): ${before.ops} ops to ${after.ops}; with its schedule file it fails ${targetText(target)} at seq ${after.seq ?? '-'}.`,
  }
  const schedule = scheduleFile(seeds.seed, finalConfig, preemptions, { invariant: targetText(target), decisions, events: last.events })
  return { run: o.runId, invariant: targetText(target), before, after, workload, schedule, tests, minimal, rounds: rounds + 1, unrolled }
}
