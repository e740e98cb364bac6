// A fixed schedule: every CPU step takes exactly stepNs and every timer fires at the start of its
// range (the non-preempting default: CPUs advance in lockstep, ties broken by the queue's total
// order), except the listed decisions, which take their own delay. It is what a shrunk schedule
// is: the few delays that make a race happen, on top of a schedule that makes none. It draws no
// random numbers, so a workload's own streams (churn) are unaffected by it.
//
// A preemption names the decision as the actor's n-th (a CPU's, or the host's) and by where it was
// made (decisions.ts): it is taken only if that decision is asked for at the same site, about the
// same object; elsewhere (the workload changed under it, as while shrinking) the default stands
// and the preemption counts as passed over. Counting per actor, not over the whole run, keeps a
// CPU's preemptions where they were when another actor's timing changes, which is what lets a
// shrink drop one preemption without moving all the others.
import type { Preemption } from '../config'
import { actorOf } from './decisions'
import type { ScheduleStrategy } from './strategy'

export interface FixedStrategyConfig {
  readonly stepNs: number
  /** Each: [the actor's decision index n (from 0), delayNs, where, obj]. */
  readonly preemptions: readonly Preemption[]
}

/** The non-preempting default delay of a decision: stepNs for a CPU's step, the earliest time of a timer's range. */
export const defaultDelayNs = (stepNs: number, minNs?: number): number => minNs ?? stepNs

/** Actors are 0..255 (ACTOR_HOST is 255): one key per actor and decision index. */
const keyOf = (actor: number, nth: number): number => actor * 2 ** 32 + nth

/** Counts each actor's decisions, as a preemption names them. */
class ActorCounts {
  private readonly made = new Float64Array(256)
  /** The index of this decision among its actor's. */
  next(where: number): number {
    return this.made[actorOf(where)]!++
  }
}

export class FixedStrategy implements ScheduleStrategy {
  readonly name = 'fixed'
  private readonly counts = new ActorCounts()
  private readonly byKey = new Map<number, Preemption>()
  private takenCount = 0

  constructor(private readonly cfg: FixedStrategyConfig) {
    for (const p of cfg.preemptions) this.byKey.set(keyOf(actorOf(p[2]), p[0]), p)
  }

  delayNs(where: number, obj: number, minNs?: number, _maxNs?: number): number {
    const p = this.byKey.get(keyOf(actorOf(where), this.counts.next(where)))
    if (p !== undefined && p[2] === where >>> 0 && p[3] === obj >>> 0) {
      this.takenCount++
      return p[1]
    }
    return defaultDelayNs(this.cfg.stepNs, minNs)
  }

  /** Preemptions taken where they were listed for. */
  get taken(): number {
    return this.takenCount
  }
}

/**
 * Wraps a strategy and lists the decisions it made that differ from the non-preempting default:
 * the preemptions of its schedule, as a fixed schedule would take them.
 */
export class PreemptionRecorder implements ScheduleStrategy {
  private made = 0
  private readonly counts = new ActorCounts()
  readonly preemptions: Preemption[] = []

  constructor(
    private readonly inner: ScheduleStrategy,
    private readonly stepNs: number,
  ) {}

  get name(): string {
    return this.inner.name
  }

  delayNs(where: number, obj: number, minNs?: number, maxNs?: number): number {
    const d = this.inner.delayNs(where, obj, minNs, maxNs)
    const nth = this.counts.next(where)
    if (d !== defaultDelayNs(this.stepNs, minNs)) this.preemptions.push([nth, d, where >>> 0, obj >>> 0])
    this.made++
    return d
  }

  /** Decisions made in all. */
  get decisions(): number {
    return this.made
  }
}
