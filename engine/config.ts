// Engine configuration: how a run is executed (not what it runs). Stored with every run, so a
// replay uses the same values; CLI flags override the defaults.
import * as t from 'io-ts'
import { NonNegInt, PosInt, oneOf } from '../events/codecs'
import { strictObject } from '../events/strict'

/** Bumped whenever the same workload and seed could produce different events. */
export const ENGINE_VERSION = '0.3.0'

export const EngineConfig = strictObject(
  'an engine configuration',
  {},
  {
    strategy: oneOf(['random'] as const),
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
  },
)
export type EngineConfig = t.TypeOf<typeof EngineConfig>
export type ResolvedConfig = Required<EngineConfig>

export const DEFAULT_CONFIG: ResolvedConfig = {
  strategy: 'random',
  stepNs: 100,
  jitterNs: 400,
  stepsMax: 2_000_000_000,
  checkEveryEvents: 0,
  stopOnViolation: false,
  monitors: true,
}

export const resolveConfig = (c: EngineConfig = {}): ResolvedConfig => ({ ...DEFAULT_CONFIG, ...c })
