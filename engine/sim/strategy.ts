// Schedule strategies decide how long each step of each CPU takes, and when the host's next pass
// comes; the queue order that follows is the interleaving. Every decision is recorded with where
// it was made (decisions.ts), so a replay can follow it exactly and tell when it no longer fits,
// and a fork or a shrink can edit it.
import { assert } from '../../lib'
import type { Prng } from '../prng'
import { DECISION_WORDS, decisionCount, type RecordedSchedule } from './decisions'

export interface ScheduleStrategy {
  readonly name: string
  /**
   * The simulated nanoseconds until the actor of `where` (decisions.ts) runs. A CPU's next step
   * gets the strategy's own step delay; a timer (the host's next pass) gives its range.
   */
  delayNs(where: number, obj: number, minNs?: number, maxNs?: number): number
}

export interface RandomScheduleConfig {
  readonly stepNs: number
  readonly jitterNs: number
}

/**
 * Each step costs stepNs plus a uniform jitter in [0, jitterNs]; a timer a uniform time in its
 * range: seeded random interleavings. Steps and timers draw from two streams, so that the host's
 * passes never shift the CPUs' draws.
 */
export class SeededRandomStrategy implements ScheduleStrategy {
  readonly name = 'random'
  constructor(
    private readonly steps: Prng,
    private readonly timers: Prng,
    private readonly cfg: RandomScheduleConfig,
  ) {}

  delayNs(_where: number, _obj: number, minNs?: number, maxNs?: number): number {
    if (minNs !== undefined) return minNs + this.timers.int(0, maxNs! - minNs)
    return this.cfg.stepNs + this.steps.int(0, this.cfg.jitterNs)
  }
}

/** Where a replay stopped following its recorded schedule, and why. */
export interface Departure {
  /** The index of the first decision not taken from the record (from 0). */
  readonly decision: number
  /** Events emitted before it: the first event it can change is seq + 1. */
  readonly seq: number
  /** ended: the record ran out; misfit: it was made elsewhere; fork: the fork point was reached. */
  readonly reason: 'ended' | 'misfit' | 'fork'
  /** What the replay asked for at that decision. */
  readonly asked: { readonly where: number; readonly obj: number }
  /** What the record holds there (misfit and fork only). */
  readonly recorded: { readonly where: number; readonly obj: number; readonly delayNs: number } | null
}

export interface ReplayOptions {
  /** Events emitted so far, for the departure's seq and the fork point. */
  readonly eventsSoFar: () => number
  /** Stop following once this many events exist (a fork point). */
  readonly untilSeq?: number
}

/**
 * Follows recorded decisions while they fit: decision i is taken from the record only when it is
 * asked for by the actor, at the site and for the object it was recorded for. From the first
 * decision that does not fit (or past the record's end, or at a fork point) the fallback decides.
 * The fallback is asked at every decision, also while the record is followed, so that its streams
 * stay where they would have been: with the run's own seed, a fork that changes nothing goes on
 * exactly as the run did.
 *
 * A schedule stored before decision records ('delays') has the delays of CPU steps only: it is
 * followed without a fit check, and timers take the fallback's choice.
 */
export class ReplayStrategy implements ScheduleStrategy {
  readonly name = 'replay'
  private next = 0
  private made = 0
  private left: Departure | null = null
  private readonly total: number

  constructor(
    private readonly schedule: RecordedSchedule,
    private readonly fallback: ScheduleStrategy,
    private readonly o: ReplayOptions,
  ) {
    this.total = decisionCount(schedule)
  }

  delayNs(where: number, obj: number, minNs?: number, maxNs?: number): number {
    const drawn = this.fallback.delayNs(where, obj, minNs, maxNs)
    const i = this.made++
    if (this.left !== null) return drawn
    // A schedule of CPU delays only: timers were not recorded.
    if (this.schedule.layout === 'delays' && minNs !== undefined) return drawn
    return this.follow(i, where, obj >>> 0) ?? drawn
  }

  /** The recorded delay for decision `i` when the record fits it; null (and the departure noted) when not. */
  private follow(i: number, where: number, obj: number): number | null {
    const w = this.schedule.words
    const at = this.next
    if (this.schedule.layout === 'delays') {
      if (at >= this.total) return this.depart(i, 'ended', where, obj, -1)
      if (this.o.untilSeq !== undefined && this.o.eventsSoFar() >= this.o.untilSeq) return this.depart(i, 'fork', where, obj, -1)
      this.next++
      return w[at]!
    }
    const base = at * DECISION_WORDS
    if (at >= this.total) return this.depart(i, 'ended', where, obj, -1)
    if (this.o.untilSeq !== undefined && this.o.eventsSoFar() >= this.o.untilSeq) return this.depart(i, 'fork', where, obj, base)
    if (w[base + 1] !== where || w[base + 2] !== obj) return this.depart(i, 'misfit', where, obj, base)
    this.next++
    return w[base]!
  }

  private depart(i: number, reason: Departure['reason'], where: number, obj: number, base: number): null {
    const w = this.schedule.words
    const recorded = base < 0 ? null : { delayNs: w[base]!, where: w[base + 1]!, obj: w[base + 2]! }
    this.left = { decision: i, seq: this.o.eventsSoFar(), reason, asked: { where, obj }, recorded }
    return null
  }

  /** Decisions taken from the record. */
  get followed(): number {
    return this.next
  }

  /** Decisions the record holds. */
  get recorded(): number {
    return this.total
  }

  /** Where the replay stopped following the record, or null while (and if) it never did. */
  get departure(): Departure | null {
    return this.left
  }
}

/** Wraps a strategy and records every decision it makes with where it was made, in chunks the store appends. */
export class RecordingStrategy implements ScheduleStrategy {
  private buf: Uint32Array
  private n = 0
  constructor(
    private readonly inner: ScheduleStrategy,
    private readonly onChunk: (chunk: Uint32Array) => void,
    chunkDecisions = 65536,
  ) {
    this.buf = new Uint32Array(chunkDecisions * DECISION_WORDS)
  }

  get name(): string {
    return this.inner.name
  }

  delayNs(where: number, obj: number, minNs?: number, maxNs?: number): number {
    const d = this.inner.delayNs(where, obj, minNs, maxNs)
    assert(d >= 0 && d <= 0xffffffff, 'a delay fits 32 bits')
    const b = this.buf
    b[this.n] = d
    b[this.n + 1] = where
    b[this.n + 2] = obj >>> 0
    this.n += DECISION_WORDS
    if (this.n === b.length) this.flush()
    return d
  }

  flush(): void {
    if (this.n === 0) return
    this.onChunk(this.buf.slice(0, this.n))
    this.n = 0
  }
}
