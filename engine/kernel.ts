// The simulated kernel's shared context: the live state (which is the projection, DESIGN.md),
// the one way to change it (emit), the CPUs and the locks kernel paths take.
import type { EventData, EventType, MmEvent } from '../events'
import type { HintingConfig, IsolationConfig, MachineBooted, RmapConfig } from '../events/machine'
import { type EventMonitor } from '../projections/invariants'
import { type PagesState } from '../projections/pages/state'
import { createState, evolve, type MmState } from '../projections/state'
import { assert } from '../lib'
import { Cpu } from './sim/cpu'

import type { Simulator } from './sim/simulator'
import type { ReportingDevice } from './mm/reporting/device'
import { RwSem, SpinLock, WaitQueue } from './sim/sync'

/** Where events go: the SQLite store, an array in a test, or nowhere. */
export interface EventSink {
  append(e: MmEvent): void
  /**
   * Told once, before the first event, of the state the events fold into: when append(e) is
   * called, it is the state after e (a sink that snapshots reads it then, never writes it).
   */
  bind?(state: MmState): void
}

/** The lock in `locks` under `key`, made by `make` the first time it is asked for. */
const lazy = <L>(locks: Map<number, L>, key: number, make: () => L): L => {
  let l = locks.get(key)
  if (l === undefined) locks.set(key, (l = make()))
  return l
}

/**
 * Locks that belong to execution, not to memory state: a page's lock bit and its waiters, the
 * state-change bit of guest page hinting, each process's page table lock and mmap_sem, each
 * anon_vma tree's lock. Created on first use.
 */
export class KernelLocks {
  private readonly pageLockWaits = new Map<number, WaitQueue>()
  private readonly stateChangeLocks = new Map<number, SpinLock>()
  private readonly ptls = new Map<number, SpinLock>()
  private readonly iMmaps = new Map<number, SpinLock>()
  private readonly anonVmaLocks = new Map<number, SpinLock>()
  private readonly mmapSems = new Map<number, RwSem>()

  /** Where lock_page sleeps for page `pfn`. */
  pageLockQueue(pfn: number): WaitQueue {
    return lazy(this.pageLockWaits, pfn, () => new WaitQueue(`the lock of page ${pfn}`, 'page', pfn))
  }

  /** PG_state_change (GPH06) / PG_arch_1 (GPH09): a bit spinlock per page. */
  stateChange(pfn: number): SpinLock {
    return lazy(this.stateChangeLocks, pfn, () => new SpinLock(`state-change bit of page ${pfn}`, 'page', pfn))
  }

  /** i_mmap_lock of a file: held across an rmap walk, and by dup_mmap / mmap to link into i_mmap. */
  iMmap(file: number): SpinLock {
    return lazy(this.iMmaps, file, () => new SpinLock(`i_mmap_lock of file ${file}`, 'file', file))
  }

  /**
   * The lock of an anon_vma tree: its root's rwsem, the one every user of the tree takes
   * (anon_vma_lock_write, page_lock_anon_vma_read). Exclusive here: two walks of one tree exclude
   * each other too, which only removes interleavings. It outlives the anon_vma, as the slab's
   * memory does under SLAB_DESTROY_BY_RCU.
   */
  anonVma(root: number): SpinLock {
    return lazy(this.anonVmaLocks, root, () => new SpinLock(`anon_vma lock of root ${root}`, 'anon_vma', root))
  }

  /** mm->mmap_sem: faults read it, mmap / mprotect / munmap / fork / exit write it. */
  mmapSem(mm: number): RwSem {
    return lazy(this.mmapSems, mm, () => new RwSem(`mmap_sem of process ${mm}`, 'mm', mm))
  }

  ptl(mm: number): SpinLock {
    return lazy(this.ptls, mm, () => new SpinLock(`page table lock of process ${mm}`, 'mm', mm))
  }
}

export class Kernel {
  readonly state: MmState
  readonly zoneLocks: SpinLock[]
  /** zone->isolation_lock of the 2007 patch's design: guards each zone's isolation_list. */
  readonly isolationLocks: SpinLock[]
  /** call_lock in kernel/smp.c: one smp_call_function at a time. */
  readonly callFunctionLock = new SpinLock('call_lock', 'ipi')
  readonly locks = new KernelLocks()
  private seq = 0
  private readonly monitors: EventMonitor<MmState, MmEvent>[] = []
  private violationsSeen = 0
  /** Free page reporting's device (engine/mm/reporting), or null when the run reports nothing. */
  reporting: ReportingDevice | null = null

  constructor(
    readonly sim: Simulator,
    readonly cpus: readonly Cpu[],
    boot: MachineBooted['data'],
    private readonly sink: EventSink,
    private readonly onViolation: (e: MmEvent) => void,
  ) {
    const e = this.envelope(null, 'MachineBooted', boot)
    this.state = createState(boot)
    this.sink.bind?.(this.state)
    evolve(this.state, e)
    this.sink.append(e)
    for (const c of cpus) c.bindOnlineMask(this.state.cpus.online)
    this.zoneLocks = boot.zones.map((z, i) => new SpinLock(`zone ${z.name} lock`, 'zone', i))
    this.isolationLocks = boot.zones.map((z, i) => new SpinLock(`zone ${z.name} isolation_lock`, 'zone', i))
  }

  get lastSeq(): number {
    return this.seq
  }

  get violations(): number {
    return this.violationsSeen
  }

  addMonitor(m: EventMonitor<MmState, MmEvent>): void {
    this.monitors.push(m)
  }

  /** Guest page hinting's configuration, or null when the guest does not hint. */
  get hinting(): HintingConfig | null {
    return this.state.pages?.config ?? null
  }

  /** How anonymous memory is reverse-mapped in this run. */
  get rmap(): RmapConfig {
    return this.state.anonVma.config
  }

  /** How pages are isolated in this run (hot-remove, alloc_contig_range), and which race fixes are on. */
  get isolation(): IsolationConfig {
    return this.state.isolation.config
  }

  /** The page state projection; only called on paths that run when the guest hints. */
  get pages(): PagesState {
    assert(this.state.pages !== null, 'guest page hinting is on')
    return this.state.pages
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
