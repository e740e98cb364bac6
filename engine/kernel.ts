// The simulated kernel's shared context: the live state (which is the projection, DESIGN.md),
// the one way to change it (emit), the CPUs and the locks kernel paths take.
import type { EventData, EventType, MachineBooted, MmEvent } from '../events'
import { createState, evolve, type MmState } from '../projections'
import { assert } from '../lib'
import { Cpu } from './sim/cpu'
import type { Simulator } from './sim/simulator'
import { SpinLock } from './sim/sync'

/** Where events go: the SQLite store, an array in a test, or nowhere. */
export interface EventSink {
  append(e: MmEvent): void
}

/** Checks an event against the state it is about to change (transition invariants). */
export interface EventMonitor {
  readonly name: string
  /** Called before `e` is applied; returns a message when `e` breaks the invariant. */
  check(s: MmState, e: MmEvent): { message: string; pfn?: number } | null
}

export class Kernel {
  readonly state: MmState
  readonly zoneLocks: SpinLock[]
  /** call_lock in kernel/smp.c: one smp_call_function at a time. */
  readonly callFunctionLock = new SpinLock('call_lock')
  private seq = 0
  private readonly monitors: EventMonitor[] = []
  private violationsSeen = 0

  constructor(
    readonly sim: Simulator,
    readonly cpus: readonly Cpu[],
    boot: MachineBooted['data'],
    private readonly sink: EventSink,
    private readonly onViolation: (e: MmEvent) => void,
  ) {
    const e = this.envelope(null, 'MachineBooted', boot)
    this.state = createState(boot)
    evolve(this.state, e)
    this.sink.append(e)
    this.zoneLocks = boot.zones.map((z) => new SpinLock(`zone ${z.name} lock`))
  }

  get lastSeq(): number {
    return this.seq
  }

  get violations(): number {
    return this.violationsSeen
  }

  addMonitor(m: EventMonitor): void {
    this.monitors.push(m)
  }

  private envelope<K extends EventType>(cpu: number | null, type: K, data: EventData<K>, cause?: number): MmEvent {
    const e = { seq: ++this.seq, t: this.sim.nowNs, cpu, type, data } as MmEvent
    if (cause !== undefined) e.cause = cause
    return e
  }

  /** The only way kernel paths change state: build the event, check it, apply it, store it. */
  emit<K extends EventType>(cpu: Cpu | null, type: K, data: EventData<K>, cause?: number): number {
    const e = this.envelope(cpu === null ? null : cpu.id, type, data, cause)
    let found: { name: string; message: string; pfn?: number }[] | null = null
    for (let i = 0; i < this.monitors.length; i++) {
      const m = this.monitors[i]!
      const v = m.check(this.state, e)
      if (v !== null) (found ??= []).push({ name: m.name, ...v })
    }
    evolve(this.state, e)
    this.sink.append(e)
    // Findings follow the event they are about, with it as their cause.
    if (found !== null) for (const v of found) this.violation(cpu, v.name, v.message, v.pfn, e.seq)
    return e.seq
  }

  /** Records a finding about the simulated kernel (STYLE.md §4); the run decides whether to stop. */
  violation(cpu: Cpu | null, name: string, message: string, pfn?: number, cause?: number): void {
    this.violationsSeen++
    const data: EventData<'InvariantViolated'> = { name, message }
    if (pfn !== undefined) data.pfn = pfn
    const e = this.envelope(cpu === null ? null : cpu.id, 'InvariantViolated', data, cause)
    evolve(this.state, e)
    this.sink.append(e)
    this.onViolation(e)
  }

  cpu(id: number): Cpu {
    const c = this.cpus[id]
    assert(c !== undefined, `cpu ${id} exists`)
    return c
  }
}
