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
import { RecordingStrategy, ReplayStrategy, SeededRandomStrategy, type Departure, type ScheduleStrategy } from './sim/strategy'
import type { RecordedSchedule } from './sim/decisions'
import { compileWorkload, type Compiled } from './workload/compile'
import { cpuThread, type DriverContext } from './workload/driver'
import { Barriers, Tags } from './workload/tags'
import { Hotplug } from './mm/hotplug'
import { try_to_free_pages } from './mm/vmscan'
import { Host, resolveHost } from './host'
import { STREAM_HOST } from './prng'
import { eventMonitors } from '../projections/state'
import { WaitQueue } from './sim/sync'
import { PctStrategy } from './sim/pct'
import { FixedStrategy } from './sim/fixed'
import { assert } from '../lib'
import { reporting_register } from './mm/reporting'

/** Follow a recorded schedule while it fits, then go on with the seeded strategy. */
export interface ReplayInput {
  readonly schedule: RecordedSchedule
  /** Stop following at the first decision made once this many events exist (a fork point). */
  readonly untilSeq?: number
}

export interface RunInput {
  readonly workload: Workload
  /** `workload` already compiled (compileOrThrow), for a caller that runs it many times; it is only read. */
  readonly compiled?: Compiled
  /** Seeds the workload's own random streams (churn), and the schedule unless scheduleSeed is given. */
  readonly seed: number
  /** Seeds the schedule strategy: the CPUs' step delays and the host's pass times (default: seed). */
  readonly scheduleSeed?: number
  readonly config: ResolvedConfig
  readonly sink: EventSink
  /** Receives the schedule decision records in chunks (decisions.ts), to be stored with the run. */
  readonly onDecisions?: (chunk: Uint32Array) => void
  /** Follow these recorded decisions while they fit instead of drawing new ones. */
  readonly replay?: ReplayInput
  /** Wraps the schedule strategy, under the recorder: what shrinking uses to list a schedule's preemptions. */
  readonly wrapStrategy?: (s: ScheduleStrategy) => ScheduleStrategy
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
  /** How a replay followed its recorded schedule; null for a run that followed none. */
  readonly replay: ReplayResult | null
}

export interface ReplayResult {
  /** Decisions the record holds, and how many of them were taken from it. */
  readonly recorded: number
  readonly followed: number
  /** The first decision not taken from the record, or null when every decision asked for was. */
  readonly departure: Departure | null
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
  private readonly replayer: ReplayStrategy | null
  private readonly ctx: DriverContext
  private readonly reported = new Set<string>()
  private nextCheck: number
  private outcome: SimOutcome | null = null

  constructor(private readonly input: RunInput) {
    const { workload, seed, config, sink } = input
    this.compiled = input.compiled ?? compileOrThrow(workload)
    const root = Prng.fromSeed(seed)
    const scheduleRoot = Prng.fromSeed(input.scheduleSeed ?? seed)
    // A schedule stored before decision records has no host decisions: the host's passes come
    // from the run's own seed, as they did when it was recorded.
    const timersRoot = input.replay?.schedule.layout === 'delays' ? root : scheduleRoot
    const cpus = Array.from({ length: this.compiled.boot.cpus }, (_, i) => new Cpu(i))
    const seeded = seededStrategy(config, cpus, scheduleRoot.stream(STREAM_SCHEDULE), timersRoot.stream(STREAM_HOST))
    let kernel: Kernel | null = null
    const replay = input.replay
    this.replayer =
      replay === undefined
        ? null
        : new ReplayStrategy(replay.schedule, seeded, { eventsSoFar: () => kernel?.lastSeq ?? 0, ...(replay.untilSeq !== undefined ? { untilSeq: replay.untilSeq } : {}) })
    const chosen: ScheduleStrategy = this.replayer ?? seeded
    const base = input.wrapStrategy ? input.wrapStrategy(chosen) : chosen
    this.recorder = input.onDecisions ? new RecordingStrategy(base, input.onDecisions) : null
    const strategy = this.recorder ?? base
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
    memblock_free_all(kernel, cpus[0]!, this.compiled.freeLayouts)
    reporting_register(kernel)
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
    if (kernel.hinting !== null) new Host(kernel, resolveHost(workload.host)).start()
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
      replay: this.replayer === null ? null : { recorded: this.replayer.recorded, followed: this.replayer.followed, departure: this.replayer.departure },
    }
  }
}

/** The configured strategy, drawing its choices from the run's schedule stream and its timers from the host's. */
const seededStrategy = (config: ResolvedConfig, cpus: readonly Cpu[], steps: Prng, timers: Prng): ScheduleStrategy => {
  if (config.strategy === 'random') return new SeededRandomStrategy(steps, timers, { stepNs: config.stepNs, jitterNs: config.jitterNs })
  if (config.strategy === 'fixed') {
    assert(config.fixed !== undefined, 'strategy fixed comes with its preemptions')
    return new FixedStrategy({ stepNs: config.stepNs, preemptions: config.fixed.preemptions })
  }
  assert(config.pct !== undefined, 'strategy pct comes with its parameters')
  return new PctStrategy(cpus, steps, timers, { ...config.pct, stepNs: config.stepNs })
}

/** Runs a workload to its end in one call (tests, benchmarks, library users). */
export const simulate = (input: RunInput): RunResult => {
  const run = new Run(input)
  while (!run.advance()) {
    /* next slice */
  }
  return run.finish()
}
