// The program the driver runs: a decoded workload after its semantic checks, with every tag use
// resolved to its definition (compile.ts builds it, ops.ts runs each op).
import type { FreeLayout } from '../mm/bootLayout'
import { type MachineBooted } from '../../events/machine'
import type { OfflineLimits } from '../mm/memory_hotplug'

/** A tag definition; at run time its key also carries the iteration of each enclosing repeat. */
export interface TagRef {
  readonly id: number
  readonly name: string
  /** Number of repeats enclosing the definition. */
  readonly depth: number
}

export type Watermark = 'min' | 'low' | 'high'

export type Program =
  | { kind: 'alloc'; path: string; cpu: number; order: number; mt: number; count: number; zone: number; tag: TagRef | null }
  | { kind: 'free'; path: string; cpu: number; cold: boolean; tag: TagRef }
  | { kind: 'drain'; path: string; cpu: number; all: boolean }
  | { kind: 'pressure'; path: string; cpu: number; watermark: Watermark; order: number; mt: number; zone: number; tag: TagRef }
  | { kind: 'churn'; path: string; cpu: number; steps: number; orderWeights: number[]; mtWeights: number[]; liveMax: number; coldPercent: number }
  | { kind: 'idle'; path: string; cpu: number; ns: number }
  | { kind: 'barrier'; path: string; id: number; depth: number }
  | { kind: 'file'; path: string; cpu: number; what: 'read' | 'write' | 'writeback' | 'drop'; file: number; index: number; count: number }
  | { kind: 'pte'; path: string; cpu: number; what: 'map' | 'touch' | 'unmap'; mm: number; file: number; index: number; count: number; flag: boolean }
  | { kind: 'fork'; path: string; cpu: number; parent: number; child: number }
  | { kind: 'exit'; path: string; cpu: number; mm: number }
  | { kind: 'anon'; path: string; cpu: number; mm: number; pages: number }
  | { kind: 'anon-write'; path: string; cpu: number; mm: number; index: number; count: number }
  | { kind: 'mprotect'; path: string; cpu: number; mm: number; index: number; count: number; writable: boolean }
  | { kind: 'munmap'; path: string; cpu: number; mm: number; index: number; count: number }
  | { kind: 'rmap'; path: string; cpu: number; walk: 'page_referenced' | 'try_to_unmap' | 'rmap_walk'; range: { mm: number; index: number; count: number } | null; sample: number }
  | { kind: 'reclaim'; path: string; cpu: number }
  | { kind: 'hotplug'; path: string; cpu: number; target: number; up: boolean }
  | { kind: 'hot-remove'; path: string; cpu: number; startPfn: number; pages: number; limits: OfflineLimits }
  | { kind: 'contig-alloc'; path: string; cpu: number; startPfn: number; pages: number; by: 'cma' | 'gigantic'; limits: OfflineLimits; tag: TagRef }
  | { kind: 'repeat'; path: string; times: number; body: Program[]; cpus: ReadonlySet<number>; units: number }

/** A program step one CPU runs (repeat and barrier concern every CPU and are walked by the driver). */
export type CpuProgram = Exclude<Program, { kind: 'repeat' | 'barrier' }>

export interface Compiled {
  readonly boot: MachineBooted['data']
  readonly ops: Program[]
  /** Processes created by a fork: ops on them wait until the fork has run. */
  readonly forkedMms: ReadonlySet<number>
  /** Work units (ops, churn steps) in the whole run, for progress. */
  readonly units: number
  /** Per zone, the free lists to boot into (machine.freeAreas), or null: every page free. */
  readonly freeLayouts?: readonly (FreeLayout | null)[]
}
