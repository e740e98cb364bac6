// Schedule strategies decide how long each step of each CPU takes; the queue order that follows
// is the interleaving. Every decision is recorded with the run, so a replay can follow it
// exactly, and a fork or a shrink can edit it (ROADMAP.md §3).
import { assert } from '../../lib'
import type { Prng } from '../prng'

/** Why a CPU is being scheduled: the strategy may treat each differently. */
export const POINT_STEP = 0 // the next step of a kernel path
export const POINT_WAKE = 1 // woken: a lock handed over, an IPI done, a wait satisfied
export const POINT_IPI = 2 // an interrupt delivered to this CPU
export const POINT_OP = 3 // the next workload operation

export interface ScheduleStrategy {
  readonly name: string
  /** The simulated nanoseconds until `cpu` runs again. */
  delayNs(cpu: number, point: number): number
}

export interface RandomScheduleConfig {
  readonly stepNs: number
  readonly jitterNs: number
}

/** Each step costs stepNs plus a uniform jitter in [0, jitterNs]: seeded random interleavings. */
export class SeededRandomStrategy implements ScheduleStrategy {
  readonly name = 'random'
  constructor(
    private readonly prng: Prng,
    private readonly cfg: RandomScheduleConfig,
  ) {}

  delayNs(_cpu: number, _point: number): number {
    return this.cfg.stepNs + this.prng.int(0, this.cfg.jitterNs)
  }
}

/** Follows recorded decisions; running past their end is a divergence, reported as such. */
export class ReplayStrategy implements ScheduleStrategy {
  readonly name = 'replay'
  private next = 0
  constructor(private readonly decisions: Uint32Array) {}

  delayNs(_cpu: number, _point: number): number {
    assert(this.next < this.decisions.length, `replay diverged: decision ${this.next} was never recorded`)
    return this.decisions[this.next++]!
  }

  get consumed(): number {
    return this.next
  }
}

/** Wraps a strategy and records every decision it makes, in chunks the store appends. */
export class RecordingStrategy implements ScheduleStrategy {
  private buf: Uint32Array
  private n = 0
  constructor(
    private readonly inner: ScheduleStrategy,
    private readonly onChunk: (chunk: Uint32Array) => void,
    private readonly chunkSize = 65536,
  ) {
    this.buf = new Uint32Array(chunkSize)
  }

  get name(): string {
    return this.inner.name
  }

  delayNs(cpu: number, point: number): number {
    const d = this.inner.delayNs(cpu, point)
    assert(d >= 0 && d <= 0xffffffff, 'a delay fits 32 bits')
    this.buf[this.n++] = d
    if (this.n === this.chunkSize) this.flush()
    return d
  }

  flush(): void {
    if (this.n === 0) return
    this.onChunk(this.buf.slice(0, this.n))
    this.n = 0
  }
}
