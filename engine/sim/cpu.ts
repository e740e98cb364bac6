// A simulated CPU runs one thread of kernel paths as a coroutine. A path yields at every point
// where another CPU may run (STEP_POINT), when it must wait (STEP_BLOCK, having said on what),
// and nowhere else: everything between two yields is atomic with respect to the other CPUs.
// Before it yields, a path says where it is (the site) and what its next step touches (the
// object), so that every schedule decision is recorded with its place (decisions.ts).
import { siteAt } from './decisions'

export const STEP_POINT = 0
export const STEP_BLOCK = 1

export type Step = typeof STEP_POINT | typeof STEP_BLOCK

const AT_START = siteAt('start', 'none')

/** A kernel path: a generator that yields steps and returns its result. */
export type Path<R = void> = Generator<Step, R, void>

/** Something a CPU can wait on; it names what it waits for, for deadlock reports. */
export interface Waitable {
  readonly kind: 'spinlock' | 'ipi' | 'sleep' | 'waitqueue'
  describe(): string
  /** The CPUs that must act before this wait can end, if any are known. */
  waitsFor(waiter: Cpu): readonly Cpu[]
}

/** An smp_call_function request: `fn` runs once on each target, in interrupt context. */
export interface IpiCall {
  readonly name: string
  readonly caller: Cpu
  readonly run: (target: Cpu) => void
  readonly pending: Set<number>
}

export class Cpu {
  /**
   * Which CPUs are online: the cpus projection's own array (CpuWentOffline / CpuWentOnline
   * change it), so there is one copy. Unbound (a bare simulator in a test), every CPU is online.
   */
  private onlineMask: readonly boolean[] | null = null
  /** local_irq_save nesting depth; interrupts (IPIs) are taken only at depth 0. */
  irqsOff = 0
  blockedOn: Waitable | null = null
  readonly ipis: IpiCall[] = []
  /** True while the CPU has an entry in the event queue (at most one at a time). */
  queued = false
  /** The CPU's thread; null once it has finished its workload. */
  thread: Path | null = null
  /** Spinlocks held, innermost last; for deadlock reports and assertions. */
  readonly locksHeld: string[] = []
  /** Where the thread is paused: a site and object kind packed by siteAt (decisions.ts). */
  where = AT_START
  /** The id of the object its next step touches (a pfn, a zone, a process, ...). */
  obj = 0

  constructor(readonly id: number) {}

  /** Reads the online flag from `mask` from now on (Kernel binds the projection's). */
  bindOnlineMask(mask: readonly boolean[]): void {
    this.onlineMask = mask
  }

  get online(): boolean {
    return this.onlineMask === null || this.onlineMask[this.id] === true
  }

  get blocked(): boolean {
    return this.blockedOn !== null
  }

  get takesInterrupts(): boolean {
    return this.online && this.irqsOff === 0 && this.ipis.length > 0
  }
}

/**
 * A preemption point that says where it is: `yield point(cpu, AT_FIND_GET_PAGE, file)`. `where` is a
 * site packed with its object kind by siteAt, `obj` the object's id.
 */
export const point = (cpu: Cpu, where: number, obj: number): Step => {
  cpu.where = where
  cpu.obj = obj
  return STEP_POINT
}
