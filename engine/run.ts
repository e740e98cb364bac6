// One run, start to end: boot the machine, start each CPU's thread, step the simulator until
// the workload is done (or a limit, a deadlock, or a finding stops it), check the invariants.
import type { Logger } from 'pino'
import type { MmEvent } from '../events'
import { checkInvariants, type Violation } from '../projections/invariants'
import { stateInvariants, type MmState } from '../projections/state'
import type { Workload } from '../workload/codec'
import type { ResolvedConfig } from './config'
import { Kernel, type EventSink } from './kernel'
import { memblock_free_all } from './mm/boot'
import { Prng, STREAM_CPU_BASE, STREAM_SCHEDULE } from './prng'
import { Cpu } from './sim/cpu'
import { Simulator, type SimOutcome } from './sim/simulator'
import { RecordingStrategy, ReplayStrategy, SeededRandomStrategy, type ScheduleStrategy } from './sim/strategy'
import { compileWorkload, type Compiled } from './workload/compile'
import { cpuThread, type DriverContext } from './workload/driver'
import { Barriers, Tags } from './workload/tags'
import { Hotplug } from './mm/hotplug'
import { try_to_free_pages } from './mm/vmscan'
import { Host, resolveHost } from './host'
import { STREAM_HOST } from './prng'
import { eventMonitors } from '../projections/state'
import { WaitQueue } from './sim/sync'

export interface RunInput {
  readonly workload: Workload
  readonly seed: number
  readonly config: ResolvedConfig
  readonly sink: EventSink
  /** Receives the schedule decisions in chunks, to be stored with the run. */
  readonly onDecisions?: (chunk: Uint32Array) => void
  /** Follow these recorded decisions instead of drawing new ones. */
  readonly replay?: Uint32Array
  readonly log?: Logger
  /** Called now and then with work done and total, for a progress bar. */
  readonly onProgress?: (done: number, total: number) => void
}

export interface RunResult {
  readonly outcome: SimOutcome
  readonly state: MmState
  readonly lastSeq: number
  readonly steps: number
  readonly timeNs: number
  /** Invariant violations found during the run (also stored as events). */
  readonly violations: number
  /** State invariants checked on the final state, with their result. */
  readonly finalCheck: { readonly checked: readonly string[]; readonly violated: readonly Violation[] }
}

export class WorkloadRejected extends Error {
  override readonly name = 'WorkloadRejected'
  constructor(readonly errors: readonly { path: string; message: string }[]) {
    super(errors.map((e) => `${e.path}: ${e.message}`).join('\n'))
  }
}

export const compileOrThrow = (w: Workload): Compiled => {
  const c = compileWorkload(w)
  if ('errors' in c) throw new WorkloadRejected(c.errors)
  return c.compiled
}

/** A block I/O: a few microseconds, like a fast virtual disk. */
export const DEFAULT_IO_NS = 5_000

/** Simulator steps per slice: progress, periodic checks and signals are handled between slices. */
export const SLICE_STEPS = 1 << 16

/**
 * A run in progress. `advance` runs one slice of simulator steps, so a caller can report
 * progress and handle signals between slices; `simulate` below just loops.
 */
export class Run {
  readonly compiled: Compiled
  readonly kernel: Kernel
  private readonly sim: Simulator
  private readonly recorder: RecordingStrategy | null
  private readonly ctx: DriverContext
  private readonly reported = new Set<string>()
  private nextCheck: number
  private outcome: SimOutcome | null = null

  constructor(private readonly input: RunInput) {
    const { workload, seed, config, sink } = input
    this.compiled = compileOrThrow(workload)
    const root = Prng.fromSeed(seed)
    const base: ScheduleStrategy = input.replay
      ? new ReplayStrategy(input.replay)
      : new SeededRandomStrategy(root.stream(STREAM_SCHEDULE), { stepNs: config.stepNs, jitterNs: config.jitterNs })
    this.recorder = input.onDecisions ? new RecordingStrategy(base, input.onDecisions) : null
    const strategy = this.recorder ?? base
    const cpus = Array.from({ length: this.compiled.boot.cpus }, (_, i) => new Cpu(i))
    let kernel: Kernel | null = null
    this.sim = new Simulator(cpus, strategy, config.stepsMax, {
      onDeadlock: (ids, waits) => kernel?.emit(null, 'DeadlockDetected', { cpus: [...ids], waits: [...waits] }),
    })
    const onViolation = (_e: MmEvent) => {
      if (config.stopOnViolation) this.sim.stop('invariant violated')
    }
    kernel = new Kernel(this.sim, cpus, this.compiled.boot, sink, onViolation)
    this.kernel = kernel
    input.log?.info({ seed, ...config, strategy: strategy.name, cpus: cpus.length, units: this.compiled.units }, 'run starts')
    if (config.monitors) for (const m of eventMonitors) kernel.addMonitor(m)
    memblock_free_all(kernel, cpus[0]!)
    this.ctx = {
      k: kernel,
      tags: new Tags(),
      barriers: new Barriers(),
      hotplug: new Hotplug(),
      file: { reclaim: try_to_free_pages, ioNs: workload.settings?.ioNs ?? DEFAULT_IO_NS },
      thinkNs: workload.settings?.thinkNs ?? 0,
      forkedMms: this.compiled.forkedMms,
      mmCreated: new WaitQueue('a fork to create the process'),
      anonNext: new Map(),
      unitsDone: 0,
    }
    if (kernel.hinting !== null) new Host(kernel, resolveHost(workload.host), root.stream(STREAM_HOST)).start()
    for (const cpu of cpus) this.sim.start(cpu, cpuThread(this.ctx, cpu, root.stream(STREAM_CPU_BASE + cpu.id), this.compiled.ops))
    this.nextCheck = config.checkEveryEvents > 0 ? config.checkEveryEvents : Infinity
  }

  /** State invariants; each name is reported once, at the first check it fails. */
  private checkState(): Violation[] {
    const vs = checkInvariants(stateInvariants, this.kernel.state)
    for (const v of vs) {
      if (this.reported.has(v.name)) continue
      this.reported.add(v.name)
      this.kernel.violation(null, v.name, v.message, v.pfn)
    }
    return vs
  }

  get unitsDone(): number {
    return this.ctx.unitsDone
  }

  /** Runs up to `slice` more steps; true when the run has ended. */
  advance(slice = SLICE_STEPS): boolean {
    if (this.outcome !== null) return true
    const { config } = this.input
    const k = this.kernel
    this.sim.setStepLimit(Math.min(config.stepsMax, this.sim.steps + slice))
    const o = this.sim.run()
    if (k.lastSeq >= this.nextCheck) {
      this.checkState()
      this.nextCheck = k.lastSeq + config.checkEveryEvents
      if (config.stopOnViolation && k.violations > 0) this.sim.stop('invariant violated')
    }
    this.input.onProgress?.(this.ctx.unitsDone, this.compiled.units)
    if (o._tag === 'StepLimitReached' && this.sim.steps < config.stepsMax) {
      this.sim.resume()
      return false
    }
    this.outcome = o
    return true
  }

  /** Stops the run at the next slice boundary (an interrupt). */
  stop(reason: string): void {
    this.sim.stop(reason)
  }

  finish(): RunResult {
    if (this.outcome === null) this.outcome = { _tag: 'Stopped', reason: 'finished early' }
    this.recorder?.flush()
    const violated = this.checkState()
    const k = this.kernel
    this.input.log?.info({ outcome: this.outcome._tag, events: k.lastSeq, steps: this.sim.steps, timeNs: this.sim.nowNs }, 'run ends')
    return {
      outcome: this.outcome,
      state: k.state,
      lastSeq: k.lastSeq,
      steps: this.sim.steps,
      timeNs: this.sim.nowNs,
      violations: k.violations,
      finalCheck: { checked: stateInvariants.map((i) => i.name), violated },
    }
  }
}

/** Runs a workload to its end in one call (tests, benchmarks, library users). */
export const simulate = (input: RunInput): RunResult => {
  const run = new Run(input)
  while (!run.advance()) {
    /* next slice */
  }
  return run.finish()
}
