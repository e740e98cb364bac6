// A workload's operations as the units delta debugging removes. Repeats are unrolled (when the
// result stays small), so that one iteration's op can go while the others stay; each unit knows
// the earlier units it needs, so that a candidate stays a workload a person could have written:
// a free goes with the alloc whose tag it names, a touch or unmap with the map of its file pages,
// an op on a forked process with the fork, an mprotect, munmap or rmap walk of a heap with the op
// that created the heap, a cpu-up with its cpu-down.
import type { Op, Workload } from '../../workload/codec'

/** Unrolling stops beyond this many ops: a larger workload is shrunk over its top-level ops. */
export const UNROLLED_OPS_MAX = 5000

export interface OpUnits {
  /** The ops, in workload order (repeats unrolled or not). */
  readonly ops: readonly Op[]
  /** Per op, the earlier ops it needs. */
  readonly needs: readonly (readonly number[])[]
}

/** The ops with every repeat unrolled, or null when that would exceed UNROLLED_OPS_MAX. */
export const unroll = (ops: readonly Op[]): Op[] | null => {
  const out: Op[] = []
  const walk = (xs: readonly Op[]): boolean => {
    for (const op of xs) {
      if (op.op !== 'repeat') {
        out.push(op)
        if (out.length > UNROLLED_OPS_MAX) return false
        continue
      }
      for (let i = 0; i < op.times; i++) if (!walk(op.ops)) return false
    }
    return true
  }
  return walk(ops) ? out : null
}

interface Resources {
  readonly defines: readonly string[]
  readonly uses: readonly string[]
}

const NONE: Resources = { defines: [], uses: [] }
const mmOf = (m: number | undefined): string[] => (m === undefined ? [] : [`mm:${m}`])
const pte = (op: { mm: number; file: number }): Resources => ({ defines: [], uses: [`map:${op.mm}:${op.file}`, ...mmOf(op.mm)] })
// The first anon or anon-write of a process creates its heap; a later one works without the earlier.
const heapMaker = (op: { mm: number }): Resources => ({ defines: [`heap:${op.mm}`], uses: mmOf(op.mm) })
const heapUser = (op: { mm?: number }): Resources => ({ defines: [], uses: op.mm === undefined ? [] : [`heap:${op.mm}`, ...mmOf(op.mm)] })

/** The resources each op creates and those it needs someone earlier to have created, by op name (STYLE.md §11). */
const RESOURCES: { readonly [K in Op['op']]: (op: Extract<Op, { op: K }>) => Resources } = {
  alloc: (op) => ({ defines: op.tag === undefined ? [] : [`tag:${op.tag}`], uses: [] }),
  pressure: (op) => ({ defines: [`tag:${op.tag}`], uses: [] }),
  free: (op) => ({ defines: [], uses: [`tag:${op.tag}`] }),
  map: (op) => ({ defines: [`map:${op.mm}:${op.file}`], uses: mmOf(op.mm) }),
  touch: pte,
  unmap: pte,
  fork: (op) => ({ defines: [`mm:${op.child}`], uses: mmOf(op.parent) }),
  exit: (op) => ({ defines: [], uses: mmOf(op.mm) }),
  anon: heapMaker,
  'anon-write': heapMaker,
  mprotect: heapUser,
  munmap: heapUser,
  rmap: heapUser,
  'cpu-down': (op) => ({ defines: [`down:${op.target}`], uses: [] }),
  'cpu-up': (op) => ({ defines: [], uses: [`down:${op.target}`] }),
  drain: () => NONE,
  churn: () => NONE,
  idle: () => NONE,
  barrier: () => NONE,
  read: () => NONE,
  write: () => NONE,
  writeback: () => NONE,
  drop: () => NONE,
  reclaim: () => NONE,
  // A contiguous range taken by alloc_contig_range is freed by its tag, as an alloc's block is.
  'contig-alloc': (op) => ({ defines: [`tag:${op.tag}`], uses: [] }),
  'hot-remove': () => NONE,
  // A repeat kept whole (one not unrolled) is one unit: its body's tags are its own.
  repeat: () => NONE,
}

const resources = (op: Op): Resources => (RESOURCES[op.op] as (op: Op) => Resources)(op)

/** Each op's prerequisites: for every resource it uses, the latest earlier op that created it. */
export const opUnits = (ops: readonly Op[]): OpUnits => {
  const last = new Map<string, number>()
  const needs = ops.map((op, i) => {
    const r = resources(op)
    const mine = new Set<number>()
    for (const u of r.uses) {
      const d = last.get(u)
      if (d !== undefined) mine.add(d)
    }
    for (const d of r.defines) if (!(op.op === 'anon' || op.op === 'anon-write') || !last.has(d)) last.set(d, i)
    return [...mine].sort((a, b) => a - b)
  })
  return { ops, needs }
}

/** A candidate made valid: ascending, without any op whose prerequisite is not kept (nor, transitively, its dependents). */
export const closeOps =
  (u: OpUnits) =>
  (kept: readonly number[]): number[] => {
    const have = new Set<number>()
    for (const i of kept) if (u.needs[i]!.every((d) => have.has(d))) have.add(i)
    return [...have]
  }

/** The workload with only the kept ops. */
export const withOps = (w: Workload, u: OpUnits, kept: readonly number[]): Workload => ({ ...w, ops: kept.map((i) => u.ops[i]!) })
