// Kernel synchronisation as the simulated CPUs see it: spinlocks that hand over in FIFO order
// (ticket locks), interrupt-disabled sections, sleeping waits, and smp_call_function.
import { assert } from '../../lib'
import { STEP_BLOCK, point, type Cpu, type IpiCall, type Path, type Waitable } from './cpu'
import { siteAt, type ObjKind, type SiteName } from './decisions'
import type { Simulator } from './simulator'

const AT_SLEEP = siteAt('sleep', 'none')
const AT_IPI_SENT = siteAt('smp_call_function', 'ipi')
const AT_IPI_WAIT = siteAt('smp_call_function:wait', 'ipi')

/**
 * A lock or wait queue a CPU can block on. `objKind` and `objId` name what it protects
 * (decisions.ts: a zone, a page, a process, a file): the schedule decision that wakes a CPU
 * blocked here is recorded at its site with that object.
 */
abstract class WaitPlace {
  readonly waiters: Cpu[] = []
  readonly where: number
  constructor(
    readonly name: string,
    site: SiteName,
    objKind: ObjKind,
    readonly objId: number,
  ) {
    this.where = siteAt(site, objKind)
  }

  /** `cpu` blocks here, and says so for its next schedule decision. */
  protected block(cpu: Cpu, on: Waitable): void {
    this.waiters.push(cpu)
    cpu.blockedOn = on
    cpu.where = this.where
    cpu.obj = this.objId
  }
}

export class SpinLock extends WaitPlace implements Waitable {
  readonly kind = 'spinlock'
  owner: Cpu | null = null
  constructor(name: string, objKind: ObjKind = 'none', objId = 0) {
    super(name, 'spin_lock', objKind, objId)
  }

  /** Queues `cpu` behind the owner (ticket order). */
  wait(cpu: Cpu): void {
    this.block(cpu, this)
  }

  describe(): string {
    return `spins on ${this.name} held by cpu ${this.owner?.id ?? '-'}`
  }

  waitsFor(): readonly Cpu[] {
    return this.owner === null ? [] : [this.owner]
  }
}

export function* spin_lock(_sim: Simulator, cpu: Cpu, lock: SpinLock): Path {
  if (lock.owner !== null) {
    lock.wait(cpu)
    yield STEP_BLOCK
    // spin_unlock handed the lock to us (ticket order).
    assert(lock.owner === cpu, `${lock.name} was handed to cpu ${cpu.id}`)
  } else {
    lock.owner = cpu
  }
  cpu.locksHeld.push(lock.name)
}

export const spin_unlock = (sim: Simulator, cpu: Cpu, lock: SpinLock): void => {
  assert(lock.owner === cpu, `cpu ${cpu.id} releases ${lock.name} that it holds`)
  assert(cpu.locksHeld[cpu.locksHeld.length - 1] === lock.name, 'locks are released innermost first')
  cpu.locksHeld.pop()
  const next = lock.waiters.shift()
  lock.owner = next ?? null
  if (next !== undefined) sim.wake(next)
}

/** Non-blocking: true when the lock was taken (spin_trylock, test_and_set_bit). */
export const spin_trylock = (cpu: Cpu, lock: SpinLock): boolean => {
  if (lock.owner !== null) return false
  lock.owner = cpu
  cpu.locksHeld.push(lock.name)
  return true
}

export const local_irq_disable = (cpu: Cpu): void => {
  cpu.irqsOff++
}

/**
 * Re-enabling interrupts lets a pending IPI in at the CPU's next point: the simulator checks for
 * one before it advances the thread again, or when the thread next blocks.
 */
export const local_irq_enable = (_sim: Simulator, cpu: Cpu): void => {
  assert(cpu.irqsOff > 0, `cpu ${cpu.id} enables interrupts it disabled`)
  cpu.irqsOff--
}

/** spin_lock_irqsave: interrupts go off before spinning, so a spinning CPU takes no IPI. */
export function* spin_lock_irqsave(sim: Simulator, cpu: Cpu, lock: SpinLock): Path {
  local_irq_disable(cpu)
  yield* spin_lock(sim, cpu, lock)
}

export const spin_unlock_irqrestore = (sim: Simulator, cpu: Cpu, lock: SpinLock): void => {
  spin_unlock(sim, cpu, lock)
  local_irq_enable(sim, cpu)
}

class Sleep implements Waitable {
  readonly kind = 'sleep'
  constructor(private readonly why: string) {}
  describe(): string {
    return `sleeps: ${this.why}`
  }
  waitsFor(): readonly Cpu[] {
    return []
  }
}

/** Sleeps for `ns` of simulated time with interrupts on (I/O, msleep). */
export function* sleep(sim: Simulator, cpu: Cpu, ns: number, why: string): Path {
  assert(cpu.irqsOff === 0 && cpu.locksHeld.length === 0, `cpu ${cpu.id} sleeps with no lock held and interrupts on`)
  cpu.blockedOn = new Sleep(why)
  cpu.where = AT_SLEEP
  cpu.obj = 0
  sim.at(sim.nowNs + ns, why, () => sim.wake(cpu))
  yield STEP_BLOCK
}

/** A wait queue: CPUs sleep until a condition another CPU makes true (wait_event / wake_up). */
export class WaitQueue extends WaitPlace implements Waitable {
  readonly kind = 'waitqueue'
  constructor(name: string, objKind: ObjKind = 'none', objId = 0) {
    super(name, 'wait_event', objKind, objId)
  }

  /** `cpu` sleeps here until a wake-up. */
  wait(cpu: Cpu): void {
    this.block(cpu, this)
  }
  describe(): string {
    return `waits for ${this.name}`
  }
  waitsFor(): readonly Cpu[] {
    return []
  }
  wakeAll(sim: Simulator): void {
    const ws = this.waiters.splice(0)
    for (const c of ws) sim.wake(c)
  }
}

export function* wait_event(_sim: Simulator, cpu: Cpu, wq: WaitQueue, cond: () => boolean): Path {
  while (!cond()) {
    assert(cpu.irqsOff === 0 && cpu.locksHeld.length === 0, `cpu ${cpu.id} sleeps with no lock held and interrupts on`)
    wq.wait(cpu)
    yield STEP_BLOCK
  }
}

class IpiWait implements Waitable {
  readonly kind = 'ipi'
  constructor(
    private readonly call: IpiCall,
    private readonly cpus: readonly Cpu[],
  ) {}
  describe(): string {
    return `waits in ${this.call.name} for cpu ${[...this.call.pending].sort((a, b) => a - b).join(', ')}`
  }
  /** A target that has interrupts off and is itself stuck cannot take the IPI. */
  waitsFor(): readonly Cpu[] {
    return this.cpus.filter((c) => this.call.pending.has(c.id) && c.irqsOff > 0)
  }
}

/**
 * smp_call_function(func, info, wait=1): run `run` on every other online CPU, in its interrupt
 * context, and wait until all have. Must not be called with interrupts off (the kernel's own
 * rule), since two CPUs doing so would wait on each other forever.
 */
export function* smp_call_function(sim: Simulator, cpu: Cpu, callLock: SpinLock, name: string, run: (target: Cpu) => void): Path<IpiCall> {
  assert(cpu.irqsOff === 0, `${name}: smp_call_function is not called with interrupts off`)
  yield* spin_lock(sim, cpu, callLock)
  const targets = sim.cpus.filter((c) => c.online && c !== cpu)
  const call: IpiCall = { name, caller: cpu, run, pending: new Set(targets.map((c) => c.id)) }
  for (const t of targets) sim.sendIpi(t, call)
  yield point(cpu, AT_IPI_SENT, 0)
  while (call.pending.size > 0) {
    cpu.blockedOn = new IpiWait(call, sim.cpus)
    cpu.where = AT_IPI_WAIT
    cpu.obj = 0
    yield STEP_BLOCK
  }
  spin_unlock(sim, cpu, callLock)
  return call
}

/** on_each_cpu(func, info, wait=1): smp_call_function, then `run` locally with interrupts off. */
export function* on_each_cpu(sim: Simulator, cpu: Cpu, callLock: SpinLock, name: string, run: (target: Cpu) => void): Path<IpiCall> {
  const call = yield* smp_call_function(sim, cpu, callLock, name, run)
  local_irq_disable(cpu)
  run(cpu)
  local_irq_enable(sim, cpu)
  return call
}

/**
 * A reader-writer semaphore (mmap_sem): readers share it, a writer has it alone, and a waiting
 * writer keeps new readers out (rwsem's fairness). Sleeping, like the kernel's: a CPU waiting for
 * it holds no spinlock.
 */
export class RwSem {
  readers = 0
  writer: Cpu | null = null
  private writersWaiting = 0
  private readonly wq: WaitQueue
  constructor(
    readonly name: string,
    objKind: ObjKind = 'none',
    objId = 0,
  ) {
    this.wq = new WaitQueue(name, objKind, objId)
  }

  *down_read(sim: Simulator, cpu: Cpu): Path {
    yield* wait_event(sim, cpu, this.wq, () => this.writer === null && this.writersWaiting === 0)
    this.readers++
  }

  up_read(sim: Simulator): void {
    assert(this.readers > 0, `${this.name} is held for reading`)
    if (--this.readers === 0) this.wq.wakeAll(sim)
  }

  *down_write(sim: Simulator, cpu: Cpu): Path {
    this.writersWaiting++
    yield* wait_event(sim, cpu, this.wq, () => this.writer === null && this.readers === 0)
    this.writersWaiting--
    this.writer = cpu
  }

  up_write(sim: Simulator, cpu: Cpu): void {
    assert(this.writer === cpu, `cpu ${cpu.id} releases ${this.name}, which it holds for writing`)
    this.writer = null
    this.wq.wakeAll(sim)
  }
}
