// One schedule simulated in memory: the workload run at a seed with its events dropped as they
// are made, but with the event monitors and the state invariants checked as in a stored run. It
// is what exploration repeats, and what shrinking and forking searches will repeat (a recorded
// schedule followed up to a point, then other choices): it answers whether a schedule fails,
// where, and how, at the simulator's speed.
import type { ResolvedConfig } from '../engine/config'
import { simulate, type RunInput } from '../engine/run'
import type { SimOutcome } from '../engine/sim/simulator'
import type { MmEvent } from '../events'
import type { Workload } from '../workload/codec'

/** A finding a schedule recorded: the invariant, the seq of its InvariantViolated event, and the event it is about (null for a state invariant). */
export interface ScheduleFinding {
  readonly name: string
  readonly seq: number
  readonly cause: number | null
  readonly message: string
}

export interface ScheduleOutcome {
  readonly seed: number
  /** How the simulation ended: Stopped is a run stopped at its first finding (configuration stopOnViolation). */
  readonly outcome: SimOutcome['_tag']
  /** A finding or a deadlock: the schedule breaks the workload. */
  readonly failed: boolean
  readonly events: number
  readonly steps: number
  readonly simulatedNs: number
  readonly violations: number
  /** The first finding, or null. */
  readonly first: ScheduleFinding | null
  /** Each deadlocked CPU's wait, or null. */
  readonly deadlock: readonly string[] | null
}

/**
 * What else decides a schedule, as engine/run.ts takes it: another seed for the strategy, a
 * recorded schedule to follow; and the workload compiled once, when it is run many times.
 */
export type ScheduleInput = Pick<RunInput, 'scheduleSeed' | 'replay' | 'compiled'>

/** Runs `workload` at `seed` under `config`, keeping only what an outcome needs. */
export const simulateSchedule = (workload: Workload, seed: number, config: ResolvedConfig, input: ScheduleInput = {}): ScheduleOutcome => {
  let first: ScheduleFinding | null = null
  const sink = {
    append: (e: MmEvent): void => {
      if (first === null && e.type === 'InvariantViolated') first = { name: e.data.name, seq: e.seq, cause: e.cause ?? null, message: e.data.message }
    },
  }
  const r = simulate({ ...input, workload, seed, config, sink })
  const deadlock = r.outcome._tag === 'Deadlock' ? r.outcome.waits : null
  return {
    seed,
    outcome: r.outcome._tag,
    failed: r.violations > 0 || deadlock !== null,
    events: r.lastSeq,
    steps: r.steps,
    simulatedNs: r.timeNs,
    violations: r.violations,
    first,
    deadlock,
  }
}
