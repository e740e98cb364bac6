// One candidate of a shrink, simulated in memory: a workload under a configuration (a seeded
// strategy, or a fixed schedule), and whether it still fails the way the run being shrunk did.
// Also lists a schedule's preemptions (its decisions that differ from the non-preempting default)
// by re-simulating it, which is how a seeded or recorded schedule becomes a fixed one.
import { resolveConfig, type Preemption, type ResolvedConfig } from '../../engine/config'
import { simulate, type ReplayInput } from '../../engine/run'
import { PreemptionRecorder } from '../../engine/sim/fixed'
import { compileWorkload } from '../../engine/workload/compile'
import type { Workload } from '../../workload/codec'
import { simulateSchedule, type ScheduleOutcome } from '../schedule'

/** The failure a shrink keeps: an invariant's first finding, or a deadlock. */
export type Target = { readonly _tag: 'Invariant'; readonly name: string } | { readonly _tag: 'Deadlock' }

export const targetText = (t: Target): string => (t._tag === 'Deadlock' ? 'deadlock' : t.name)

/** The schedule's first failure is the target: a schedule that first fails another invariant does not count. */
export const failsAs = (o: ScheduleOutcome, t: Target): boolean => (t._tag === 'Deadlock' ? o.deadlock !== null && o.first === null : o.first?.name === t.name)

export interface Simulated {
  readonly outcome: ScheduleOutcome | null
  /** A candidate the compiler rejects (outcome null, not simulated). */
  readonly rejected: boolean
}

/** The seed and the schedule seed every candidate of one shrink runs at. */
export interface Seeds {
  readonly seed: number
  readonly scheduleSeed: number
}

/** Simulates a candidate; a workload the compiler rejects is not a failure (and not simulated). */
export const simulateCandidate = (w: Workload, s: Seeds, config: ResolvedConfig, replay?: ReplayInput): Simulated => {
  const c = compileWorkload(w)
  if ('errors' in c) return { outcome: null, rejected: true }
  return { outcome: simulateSchedule(w, s.seed, config, { scheduleSeed: s.scheduleSeed, compiled: c.compiled, ...(replay ? { replay } : {}) }), rejected: false }
}

/** `config` with a fixed schedule of `preemptions` in place of its strategy. */
export const fixedConfig = (config: ResolvedConfig, preemptions: readonly Preemption[]): ResolvedConfig => {
  const { pct: _pct, fixed: _fixed, ...rest } = config
  return resolveConfig({ ...rest, strategy: 'fixed', fixed: { preemptions: [...preemptions] } })
}

/** The preemptions of `w`'s schedule under `config` (or a recorded one), and how many decisions it made. */
export const preemptionsOf = (w: Workload, s: Seeds, config: ResolvedConfig, replay?: ReplayInput): { preemptions: Preemption[]; decisions: number } => {
  let rec: PreemptionRecorder | null = null
  simulate({
    workload: w,
    seed: s.seed,
    scheduleSeed: s.scheduleSeed,
    config,
    sink: { append: () => undefined },
    ...(replay ? { replay } : {}),
    wrapStrategy: (inner) => (rec = new PreemptionRecorder(inner, config.stepNs)),
  })
  const r = rec as PreemptionRecorder | null
  return { preemptions: r?.preemptions ?? [], decisions: r?.decisions ?? 0 }
}
