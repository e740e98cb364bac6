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

/** The resources an op creates and those it needs someone earlier to have created. */
const resources = (op: Op): { defines: string[]; uses: string[] } => {
  const mm = (m: number | undefined) => (m === undefined ? [] : [`mm:${m}`])
  switch (op.op) {
    case 'alloc':
      return { defines: op.tag === undefined ? [] : [`tag:${op.tag}`], uses: [] }
    case 'pressure':
      return { defines: [`tag:${op.tag}`], uses: [] }
    case 'free':
      return { defines: [], uses: [`tag:${op.tag}`] }
    case 'map':
      return { defines: [`map:${op.mm}:${op.file}`], uses: mm(op.mm) }
    case 'touch':
    case 'unmap':
      return { defines: [], uses: [`map:${op.mm}:${op.file}`, ...mm(op.mm)] }
    case 'fork':
      return { defines: [`mm:${op.child}`], uses: mm(op.parent) }
    case 'anon':
    case 'anon-write':
      // The first of these creates the heap; a later one works without the earlier.
      return { defines: [`heap:${op.mm}`], uses: mm(op.mm) }
    case 'mprotect':
    case 'munmap':
      return { defines: [], uses: [`heap:${op.mm}`, ...mm(op.mm)] }
    case 'rmap':
      return { defines: [], uses: op.mm === undefined ? [] : [`heap:${op.mm}`, ...mm(op.mm)] }
    case 'exit':
      return { defines: [], uses: mm(op.mm) }
    case 'cpu-down':
      return { defines: [`down:${op.target}`], uses: [] }
    case 'cpu-up':
      return { defines: [], uses: [`down:${op.target}`] }
    default:
      return { defines: [], uses: [] }
  }
}

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
