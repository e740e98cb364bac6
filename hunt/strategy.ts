// The schedule strategy as a run's configuration: the seeded random jitter, or PCT with its
// parameters resolved. PCT draws its change points among k CPU decisions, k being about a run's
// length; unless given, k is measured on the workload itself: the CPU decisions of its schedule
// at seed 0 under the random strategy. That depends only on the workload, its variants and the
// configuration, so every shard of a campaign, and a later `mmsim run --strategy pct` of one of
// its seeds, resolves the same configuration, hence the same run identity and events.
import { PCT_DEPTH_DEFAULT, PCT_STALL_NS_DEFAULT, resolveConfig, type EngineConfig, type ResolvedConfig, type StrategyName } from '../engine/config'
import { simulate } from '../engine/run'
import { ACTOR_HOST, actorOf } from '../engine/sim/decisions'
import type { Workload } from '../workload/codec'
import { assert } from '../lib'

export interface StrategyChoice {
  readonly strategy: StrategyName
  /** PCT's depth d (default PCT_DEPTH_DEFAULT). */
  readonly depth?: number
  /** PCT's k; measured on the workload when absent. */
  readonly steps?: number
}

/** The seed whose random schedule measures a workload's length for PCT. */
export const PCT_CALIBRATION_SEED = 0

/** CPU decisions (steps, wake-ups, interrupts; not the host's timers) of `workload`'s schedule at seed 0 under the random strategy. */
export const cpuDecisions = (workload: Workload, random: ResolvedConfig): number => {
  assert(random.strategy === 'random', 'a workload is measured under the random strategy')
  let n = 0
  simulate({
    workload,
    seed: PCT_CALIBRATION_SEED,
    config: { ...random, stopOnViolation: false },
    sink: { append: () => undefined },
    onDecisions: (chunk) => {
      for (let i = 1; i < chunk.length; i += 3) if (actorOf(chunk[i]!) !== ACTOR_HOST) n++
    },
  })
  return Math.max(1, n)
}

/** The engine configuration `overrides` with the chosen strategy, PCT's parameters resolved. */
export const strategyConfig = (workload: Workload, overrides: EngineConfig, choice: StrategyChoice): ResolvedConfig => {
  const base = resolveConfig({ ...overrides, strategy: 'random' })
  if (choice.strategy === 'random') return base
  const steps = choice.steps ?? cpuDecisions(workload, base)
  return resolveConfig({ ...overrides, strategy: 'pct', pct: { depth: choice.depth ?? PCT_DEPTH_DEFAULT, steps, stallNs: PCT_STALL_NS_DEFAULT } })
}
