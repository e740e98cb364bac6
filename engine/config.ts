// Engine configuration: how a run is executed (not what it runs). Stored with every run, so a
// replay uses the same values; CLI flags override the defaults.
import * as t from 'io-ts'
import { NonNegInt, PosInt, intIn, oneOf } from '../events/codecs'
import { strictObject } from '../events/strict'
import { assert } from '../lib'

/** Bumped whenever the same workload and seed could produce different events. */
export const ENGINE_VERSION = '0.3.0'

/** The strategies a user chooses by name (`--strategy`). */
export const STRATEGIES = ['random', 'pct'] as const
export type StrategyName = (typeof STRATEGIES)[number]
/**
 * Every strategy a stored configuration may name: also `fixed`, the non-preempting default with
 * listed preemptions, which a shrunk schedule file gives (`mmsim run --schedule`), not a flag.
 */
export const ENGINE_STRATEGIES = [...STRATEGIES, 'fixed'] as const
export type EngineStrategyName = (typeof ENGINE_STRATEGIES)[number]

export const PctParams = strictObject('PCT parameters', {
  /** The bug depth d: d − 1 priority change points. */
  depth: intIn(1, 64, 'a PCT depth 1..64'),
  /** k: the CPU decisions the change points are drawn among (about a run's length). */
  steps: PosInt,
  /** How long a CPU outranked by a runnable CPU of higher priority waits for its next step. */
  stallNs: PosInt,
})
export type PctParams = t.TypeOf<typeof PctParams>

/** One preemption of a fixed schedule: [n, delayNs, where, obj]: the n-th decision (from 0) of the actor of `where` takes `delayNs` if it is made at `where` about `obj` (decisions.ts). */
export const Preemption = t.tuple([NonNegInt, NonNegInt, NonNegInt, NonNegInt])
export type Preemption = t.TypeOf<typeof Preemption>

export const FixedParams = strictObject('fixed schedule parameters', {
  /** Decisions that depart from the default, each named by its actor and index; every other decision takes the default. */
  preemptions: t.array(Preemption),
})
export type FixedParams = t.TypeOf<typeof FixedParams>

/** How a run is timed and checked, whatever its strategy. */
const SETTINGS = {
  /** Least simulated time a step of a kernel path takes. */
  stepNs: NonNegInt,
  /** Upper bound of the uniform jitter added to every step: the source of interleavings. */
  jitterNs: NonNegInt,
  /** Simulator steps after which the run stops with StepLimitReached. */
  stepsMax: PosInt,
  /** Check the state invariants every this many events (0: only at the end). */
  checkEveryEvents: NonNegInt,
  /** Stop at the first invariant violation instead of running on. */
  stopOnViolation: t.boolean,
  /**
   * Check the event monitors (the transition invariants) on every event as it is emitted.
   * Off, a run is stored without their findings; `mmsim check` still finds them as it folds.
   */
  monitors: t.boolean,
}

/** The settings alone, every one given: what a schedule file carries beside its preemptions. */
export const EngineSettings = strictObject('the engine settings', SETTINGS)
export type EngineSettings = t.TypeOf<typeof EngineSettings>

export const EngineConfig = strictObject(
  'an engine configuration',
  {},
  {
    /** How the CPUs' steps are timed: seeded random jitter, or PCT (engine/sim/pct.ts, with `pct`). */
    strategy: oneOf(ENGINE_STRATEGIES),
    /** PCT's parameters; stored only with strategy pct, so a random run's configuration reads as it always did. */
    pct: PctParams,
    /** A fixed schedule's preemptions (engine/sim/fixed.ts); stored only with strategy fixed. */
    fixed: FixedParams,
    ...SETTINGS,
  },
)
export type EngineConfig = t.TypeOf<typeof EngineConfig>
/** Every field set, but `pct` and `fixed`, which only a PCT or a fixed run has. */
export type ResolvedConfig = Required<Omit<EngineConfig, 'pct' | 'fixed'>> & Pick<EngineConfig, 'pct' | 'fixed'>

export const DEFAULT_CONFIG: ResolvedConfig = {
  strategy: 'random',
  stepNs: 100,
  jitterNs: 400,
  stepsMax: 2_000_000_000,
  checkEveryEvents: 0,
  stopOnViolation: false,
  monitors: true,
}

/** PCT's depth when none is given: the paper's experiments find most bugs at depth 1..3. */
export const PCT_DEPTH_DEFAULT = 3
/** An outranked CPU's stall: a thousand steps, long against a race window, short against a run. */
export const PCT_STALL_NS_DEFAULT = 100_000

/** What is wrong with a configuration the codec cannot see (a strategy and its parameters go together), or null. */
export const configProblem = (c: EngineConfig): string | null => {
  if (c.strategy === 'pct' && c.pct === undefined) return 'strategy pct needs its parameters (pct: depth, steps, stallNs)'
  if (c.strategy !== 'pct' && c.pct !== undefined) return 'PCT parameters (pct) come only with strategy pct'
  if (c.strategy === 'fixed' && c.fixed === undefined) return 'strategy fixed needs its preemptions (fixed: preemptions)'
  if (c.strategy !== 'fixed' && c.fixed !== undefined) return 'preemptions (fixed) come only with strategy fixed'
  return null
}

export const resolveConfig = (c: EngineConfig = {}): ResolvedConfig => {
  const r: ResolvedConfig = { ...DEFAULT_CONFIG, ...c }
  const problem = configProblem(r)
  assert(problem === null, problem ?? '')
  return r
}
