// The discrete-event kernel: simulated time, the event queue, and the CPUs' coroutines. It knows
// nothing of memory management; kernel paths are plain generators it advances one step at a time.
import { assert } from '../../lib'
import { Cpu, STEP_BLOCK, STEP_POINT, type IpiCall, type Path } from './cpu'
import { EventQueue } from './queue'
import { POINT_IPI, POINT_STEP, POINT_WAKE, siteAt, whereOf } from './decisions'
import type { ScheduleStrategy } from './strategy'

const AT_DONE = siteAt('done', 'none')

/** Entries at the same time run CPUs before timers, so a timer sees every step due at its time. */
const PRIORITY_CPU = 0
const PRIORITY_TIMER = 1

export interface Timer {
  readonly name: string
  readonly fire: () => void
  /** A daemon (the host's passes) does not keep a stuck run alive: only CPUs and other timers can unstick one. */
  readonly daemon: boolean
}

type Actor = Cpu | Timer

export type SimOutcome =
  | { readonly _tag: 'Finished' }
  | { readonly _tag: 'StepLimitReached'; readonly stepsMax: number }
  | { readonly _tag: 'Deadlock'; readonly cpus: readonly number[]; readonly waits: readonly string[] }
  | { readonly _tag: 'Stopped'; readonly reason: string }

export interface SimulatorHooks {
  /** Called when CPUs are found waiting on each other; the simulator stops after it. */
  onDeadlock(cpus: readonly number[], waits: readonly string[]): void
}

export class Simulator {
  nowNs = 0
  steps = 0
  private readonly queue = new EventQueue<Actor>()
  private outcome: SimOutcome | null = null
  private threadsRunning = 0
  /** Queue entries that could make progress: CPU steps and non-daemon timers. */
  private live = 0

  constructor(
    readonly cpus: readonly Cpu[],
    private readonly strategy: ScheduleStrategy,
    private stepsMax: number,
    private readonly hooks: SimulatorHooks,
  ) {}

  /** Moves the step limit, so a caller can run the simulation in slices. */
  setStepLimit(stepsMax: number): void {
    this.stepsMax = stepsMax
  }

  /** Continues after a StepLimitReached outcome (the caller raised the limit). */
  resume(): void {
    if (this.outcome?._tag === 'StepLimitReached') this.outcome = null
  }

  /** Gives `cpu` its thread and schedules its first step. */
  start(cpu: Cpu, thread: Path): void {
    assert(cpu.thread === null, 'a CPU runs one thread')
    cpu.thread = thread
    this.threadsRunning++
    this.schedule(cpu, POINT_STEP)
  }

  /**
   * Queues `cpu` to run after the delay the strategy picks, unless it is already queued. The
   * decision is made where the CPU's thread is paused (its site and the object it touches next).
   */
  schedule(cpu: Cpu, point: number): void {
    if (cpu.queued) return
    cpu.queued = true
    this.live++
    this.queue.push(this.nowNs + this.strategy.delayNs(whereOf(cpu.where, point, cpu.id), cpu.obj), PRIORITY_CPU, cpu)
  }

  /** A timer's delay in [minNs, maxNs], decided by the strategy at `where` (an actor other than the CPUs). */
  timerDelayNs(where: number, obj: number, minNs: number, maxNs: number): number {
    assert(minNs <= maxNs, 'a timer range is not empty')
    return this.strategy.delayNs(where, obj, minNs, maxNs)
  }

  /** Runs `fire` at an absolute simulated time (host actor, I/O completion, delayed work). */
  at(timeNs: number, name: string, fire: () => void, daemon = false): void {
    this.atTimer(timeNs, { name, fire, daemon })
  }

  /** Queues a timer object its owner keeps and queues again (the host's passes). */
  atTimer(timeNs: number, timer: Timer): void {
    assert(timeNs >= this.nowNs, 'timers do not go back in time')
    if (!timer.daemon) this.live++
    this.queue.push(timeNs, PRIORITY_TIMER, timer)
  }

  /** Ends a wait: the CPU runs again after a wake-up delay. */
  wake(cpu: Cpu): void {
    assert(cpu.blockedOn !== null, `cpu ${cpu.id} is woken only from a wait`)
    cpu.blockedOn = null
    this.schedule(cpu, POINT_WAKE)
  }

  /** Delivers an IPI: taken at the target's next point with interrupts enabled. */
  sendIpi(target: Cpu, call: IpiCall): void {
    target.ipis.push(call)
    if (target.irqsOff === 0) this.schedule(target, POINT_IPI)
  }

  stop(reason: string): void {
    if (this.outcome === null) this.outcome = { _tag: 'Stopped', reason }
  }

  get running(): boolean {
    return this.outcome === null
  }

  run(): SimOutcome {
    while (this.outcome === null) {
      if (this.threadsRunning === 0) {
        this.outcome = { _tag: 'Finished' }
        break
      }
      // Threads unfinished and nothing queued that could move them (daemons cannot): a stall.
      if (this.live === 0) {
        this.reportStall()
        break
      }
      const entry = this.queue.pop()!
      this.nowNs = entry.timeNs
      if (entry.actor instanceof Cpu) {
        this.live--
        this.resumeCpu(entry.actor)
      } else {
        if (!entry.actor.daemon) this.live--
        entry.actor.fire()
      }
      if (++this.steps >= this.stepsMax && this.outcome === null) this.outcome = { _tag: 'StepLimitReached', stepsMax: this.stepsMax }
    }
    return this.outcome!
  }

  private resumeCpu(cpu: Cpu): void {
    cpu.queued = false
    if (!cpu.online) return
    if (cpu.takesInterrupts) {
      this.handleIpi(cpu)
      if (cpu.takesInterrupts) this.schedule(cpu, POINT_IPI)
      else if (!cpu.blocked && cpu.thread !== null) this.schedule(cpu, POINT_STEP)
      return
    }
    if (cpu.blocked || cpu.thread === null) return
    const r = cpu.thread.next()
    if (r.done) {
      assert(cpu.irqsOff === 0 && cpu.locksHeld.length === 0, `cpu ${cpu.id} ends its thread with no lock held and interrupts on`)
      cpu.thread = null
      cpu.where = AT_DONE
      cpu.obj = 0
      this.threadsRunning--
      if (cpu.takesInterrupts) this.schedule(cpu, POINT_IPI)
      return
    }
    if (r.value === STEP_POINT) {
      this.schedule(cpu, POINT_STEP)
    } else {
      assert(r.value === STEP_BLOCK && cpu.blockedOn !== null, 'a blocking step names what it waits on')
      if (cpu.takesInterrupts) this.schedule(cpu, POINT_IPI)
      this.checkDeadlock(cpu)
    }
  }

  private handleIpi(cpu: Cpu): void {
    const call = cpu.ipis.shift()!
    // The handler runs with interrupts off, like any interrupt handler.
    cpu.irqsOff++
    call.run(cpu)
    cpu.irqsOff--
    call.pending.delete(cpu.id)
    if (call.pending.size === 0 && call.caller.blockedOn?.kind === 'ipi') this.wake(call.caller)
  }

  /**
   * Follows the wait-for edges from a CPU that just blocked. A cycle of blocked CPUs is a deadlock:
   * nothing in the simulation can end any of their waits.
   */
  private checkDeadlock(start: Cpu): void {
    // Most waits name no CPU (a sleep, a wait queue) or only CPUs that are not waiting: no cycle
    // can pass through them, and a CPU blocks on nearly every lock it finds taken.
    const waitsFor = start.blockedOn!.waitsFor(start)
    if (waitsFor.every((c) => c.blockedOn === null)) return
    const path: Cpu[] = []
    const onPath = new Set<number>()
    const visited = new Set<number>()
    const dfs = (c: Cpu): Cpu[] | null => {
      if (onPath.has(c.id)) return path.slice(path.findIndex((p) => p.id === c.id))
      if (visited.has(c.id) || c.blockedOn === null) return null
      visited.add(c.id)
      onPath.add(c.id)
      path.push(c)
      for (const next of c.blockedOn.waitsFor(c)) {
        const cycle = dfs(next)
        if (cycle !== null) return cycle
      }
      path.pop()
      onPath.delete(c.id)
      return null
    }
    const cycle = dfs(start)
    if (cycle === null) return
    const cpus = cycle.map((c) => c.id).sort((a, b) => a - b)
    const waits = cycle.map((c) => `cpu ${c.id} ${c.blockedOn!.describe()}`)
    this.hooks.onDeadlock(cpus, waits)
    this.outcome = { _tag: 'Deadlock', cpus, waits }
  }

  /** The queue ran dry with threads unfinished: they wait for something that will never come. */
  private reportStall(): void {
    const stuck = this.cpus.filter((c) => c.thread !== null)
    const cpus = stuck.map((c) => c.id)
    const waits = stuck.map((c) => `cpu ${c.id} ${c.blockedOn?.describe() ?? 'is offline with work left'}`)
    this.hooks.onDeadlock(cpus, waits)
    this.outcome = { _tag: 'Deadlock', cpus, waits }
  }
}
