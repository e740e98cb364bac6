// CPU hot-unplug and hot-plug as the workload drives them. The CPU going down first finishes
// the operation it is in and parks (as stop_machine would make it), with no interrupt pending;
// the CPU doing the unplug then runs the CPU_DEAD notifier: drain the dead CPU's pcp lists and
// take over its discarded-page list (GPH06 8/9, page_alloc_cpu_notify).
import type { Kernel } from '../kernel'
import { point, type Cpu, type Path } from '../sim/cpu'
import { siteAt } from '../sim/decisions'
import { WaitQueue, wait_event } from '../sim/sync'
import { page_alloc_cpu_dead } from './hinting/discard'

const AT_CPU_DOWN = siteAt('cpu_down', 'cpu')
const AT_CPU_UP = siteAt('cpu_up', 'cpu')

export class Hotplug {
  private readonly parkRequested = new Set<number>()
  private readonly parked = new Set<number>()
  private readonly changed = new WaitQueue('a CPU to park')
  private readonly resumed = new WaitQueue('cpu-up');

  /** Called by a CPU's thread between operations: parks it while it is asked to go down. */
  *parkPoint(k: Kernel, cpu: Cpu): Path {
    if (!this.parkRequested.has(cpu.id)) return
    this.parked.add(cpu.id)
    this.changed.wakeAll(k.sim)
    yield* wait_event(k.sim, cpu, this.resumed, () => !this.parkRequested.has(cpu.id))
    this.parked.delete(cpu.id)
  }

  /** The CPU's thread ended: it counts as parked for good. */
  finished(k: Kernel, cpu: Cpu): void {
    this.parked.add(cpu.id)
    this.changed.wakeAll(k.sim)
  }

  *cpuDown(k: Kernel, cpu: Cpu, target: Cpu): Path {
    if (!target.online) return
    this.parkRequested.add(target.id)
    // Wait until the target parked with no IPI left to take (none is in flight once it is down).
    while (!(this.parked.has(target.id) && target.ipis.length === 0)) {
      if (this.parked.has(target.id)) yield point(cpu, AT_CPU_DOWN, target.id)
      else yield* wait_event(k.sim, cpu, this.changed, () => this.parked.has(target.id))
    }
    // Two CPUs may take the same one down: only the first runs CPU_DEAD.
    if (!target.online) return
    // The event is the only writer of the online flag (the cpus projection holds it).
    k.emit(cpu, 'CpuWentOffline', { target: target.id })
    page_alloc_cpu_dead(k, cpu, target)
  }

  *cpuUp(k: Kernel, cpu: Cpu, target: Cpu): Path {
    if (target.online) return
    k.emit(cpu, 'CpuWentOnline', { target: target.id })
    this.parkRequested.delete(target.id)
    this.resumed.wakeAll(k.sim)
    yield point(cpu, AT_CPU_UP, target.id)
  }
}
