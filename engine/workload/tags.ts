// Workload tags name what an op allocated, so a later op (on any CPU) can free it. A free waits
// until the allocation it names has happened, which is how ops on different CPUs are ordered.
import type { Simulator } from '../sim/simulator'
import { WaitQueue, wait_event } from '../sim/sync'
import type { Cpu, Path } from '../sim/cpu'
import type { TagRef } from './program'

export interface Block {
  readonly pfn: number
  readonly order: number
}

export class Tags {
  private readonly values = new Map<string, Block[]>()
  private readonly waits = new Map<string, WaitQueue>()

  /** The run-time key: the definition plus the iteration of each repeat that encloses it. */
  key(ref: TagRef, iterations: readonly number[]): string {
    return ref.depth === 0 ? `${ref.name}#${ref.id}` : `${ref.name}#${ref.id}@${iterations.slice(0, ref.depth).join('.')}`
  }

  set(sim: Simulator, key: string, blocks: Block[]): void {
    this.values.set(key, blocks)
    const wq = this.waits.get(key)
    if (wq !== undefined) {
      this.waits.delete(key)
      wq.wakeAll(sim)
    }
  }

  /** Waits until `key` has been allocated, then takes its blocks. */
  *take(sim: Simulator, cpu: Cpu, key: string): Path<Block[]> {
    if (!this.values.has(key)) {
      let wq = this.waits.get(key)
      if (wq === undefined) this.waits.set(key, (wq = new WaitQueue(`the allocation of tag ${key}`)))
      yield* wait_event(sim, cpu, wq, () => this.values.has(key))
    }
    const blocks = this.values.get(key)!
    this.values.delete(key)
    return blocks
  }
}

/**
 * Workload barriers: each instance (a barrier op in one iteration) releases once every online
 * CPU has arrived. An offline CPU is not waited for; when it comes back, the barriers released
 * meanwhile let it through.
 */
export class Barriers {
  private readonly pending = new Map<string, { count: number; wq: WaitQueue }>()
  private readonly released = new Set<string>();

  *arrive(sim: Simulator, cpu: Cpu, key: string, online: () => number): Path {
    if (this.released.has(key)) return
    let b = this.pending.get(key)
    if (b === undefined) this.pending.set(key, (b = { count: 0, wq: new WaitQueue(`barrier ${key}`) }))
    b.count++
    this.recheck(sim, online)
    yield* wait_event(sim, cpu, b.wq, () => this.released.has(key))
  }

  /** Releases every barrier the online CPUs have all reached (also after a CPU goes down). */
  recheck(sim: Simulator, online: () => number): void {
    for (const [key, b] of [...this.pending.entries()]) {
      if (b.count < online()) continue
      this.pending.delete(key)
      this.released.add(key)
      b.wq.wakeAll(sim)
    }
  }
}
