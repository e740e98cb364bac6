// Probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010) as
// a schedule strategy. PCT gives each thread a random priority, always runs the highest-priority
// thread that can run, and lowers the running thread's priority at d − 1 change points drawn
// uniformly among the run's k steps; a bug of depth d (d ordering constraints) is then found
// with probability at least 1 / (n k^(d−1)) per run, instead of the vanishing odds of a
// uniformly random interleaving for a deep bug.
//
// The simulator orders CPUs by simulated time, so priority is expressed as delay. A CPU that some
// higher-priority, runnable CPU outranks is stalled: its step costs stallNs on top of stepNs, as a
// vCPU its hypervisor has descheduled; the highest-priority runnable CPU steps every stepNs. Two
// departures from the paper follow from keeping simulated time meaningful (the host's passes and
// I/O completions are timed): a stall is long but finite (the outranked CPU takes a step every
// stallNs, so a higher CPU that polls never livelocks), and a stalled CPU waits out its stall even
// if the CPU that outranked it blocks meanwhile. Timers (the host's passes) draw uniformly from
// their range, as the random strategy does: PCT schedules the guest's CPUs.
import { assert } from '../../lib'
import type { Prng } from '../prng'
import type { Cpu } from './cpu'
import { ACTOR_HOST, actorOf } from './decisions'
import type { ScheduleStrategy } from './strategy'

export interface PctConfig {
  /** The bug depth d: d − 1 priority change points. */
  readonly depth: number
  /** k: the CPU decisions over which the change points are drawn (about a run's length). */
  readonly steps: number
  /** How long an outranked CPU waits for its next step. */
  readonly stallNs: number
}

export interface PctStepConfig {
  readonly stepNs: number
}

/** Lowered priorities are 1..d−1 and initial ones d..d+n−1, as in the paper: a lowered CPU ranks below every CPU not yet lowered. */
export class PctStrategy implements ScheduleStrategy {
  readonly name = 'pct'
  private readonly priority: number[]
  /** Change point i (at CPU decision changeAt[i]) lowers the deciding CPU to priority i + 1. */
  private readonly changeAt: number[]
  private decisions = 0

  constructor(
    private readonly cpus: readonly Cpu[],
    draws: Prng,
    private readonly timers: Prng,
    private readonly cfg: PctConfig & PctStepConfig,
  ) {
    assert(cfg.depth >= 1, 'PCT depth is at least 1')
    assert(cfg.steps >= 1, 'PCT steps is at least 1')
    const n = cpus.length
    // A uniform permutation of d..d+n−1 (Fisher–Yates).
    this.priority = Array.from({ length: n }, (_, i) => cfg.depth + i)
    for (let i = n - 1; i > 0; i--) {
      const j = draws.int(0, i)
      const x = this.priority[i]!
      this.priority[i] = this.priority[j]!
      this.priority[j] = x
    }
    this.changeAt = Array.from({ length: cfg.depth - 1 }, () => draws.int(1, cfg.steps))
  }

  delayNs(where: number, _obj: number, minNs?: number, maxNs?: number): number {
    if (minNs !== undefined) return minNs + this.timers.int(0, maxNs! - minNs)
    const me = actorOf(where)
    assert(me !== ACTOR_HOST && me < this.cpus.length, 'a step delay is asked for a CPU')
    const step = ++this.decisions
    for (let i = 0; i < this.changeAt.length; i++) if (this.changeAt[i] === step) this.priority[me] = i + 1
    return this.outranked(me) ? this.cfg.stepNs + this.cfg.stallNs : this.cfg.stepNs
  }

  /** Some other CPU of higher priority could run now. */
  private outranked(me: number): boolean {
    const mine = this.priority[me]!
    for (const c of this.cpus) if (c.id !== me && this.priority[c.id]! > mine && runnable(c)) return true
    return false
  }
}

/** The CPU has work it could do now: an interrupt to take, or a thread that is not waiting. */
const runnable = (c: Cpu): boolean => c.online && (c.takesInterrupts || (c.thread !== null && c.blockedOn === null))
