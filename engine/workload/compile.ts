// Semantic checks of a decoded workload, done before a run starts: CPUs and zones that exist, a
// machine the kernel could boot, and tags that are allocated before they are freed and freed at
// most once. The result is the program the driver runs, with every tag use resolved to its
// definition. Each op's own checks are its entry in compileOps.ts; this file walks the ops
// (repeats and barriers, which concern every CPU) and keeps the tables they share.
import { layoutMachine, splitVariants, type LayoutError } from '../mm/boot'
import { layoutFreeArea, type FreeLayout } from '../mm/bootLayout'
import { type Op, type Workload } from '../../workload/codec'
import { compileOp, type At, type CompileContext } from './compileOps'
import type { Compiled, Program, TagRef } from './program'

export type { Compiled, CpuProgram, Program, TagRef, Watermark } from './program'
export { DEFAULT_MT_WEIGHTS, DEFAULT_ORDER_WEIGHTS } from './compileOps'

interface Def {
  ref: TagRef
  path: string
  live: boolean
  freedAt?: string
}

/** The tag table: which tags are allocated, where, and in which repeat. */
class TagTable {
  private nextId = 0
  readonly env = new Map<string, Def>()

  constructor(private readonly error: (path: string, message: string) => void) {}

  define(name: string, at: At): TagRef {
    const old = this.env.get(name)
    if (old?.live) this.error(`${at.path}.tag`, `tag "${name}" is still allocated by ${old.path}; free it first`)
    const ref = { id: this.nextId++, name, depth: at.depth }
    this.env.set(name, { ref, path: at.path, live: true })
    return ref
  }

  use(name: string, at: At): TagRef {
    const d = this.env.get(name)
    if (d === undefined) {
      this.error(`${at.path}.tag`, `tag "${name}" is never allocated before this op`)
      return { id: -1, name, depth: at.depth }
    }
    if (!d.live) this.error(`${at.path}.tag`, `tag "${name}" was already freed by ${d.freedAt}`)
    else if (d.ref.depth < at.depth && at.timesInside > 1) this.error(`${at.path}.tag`, `tag "${name}" is allocated outside this repeat (${d.path}) but freed in every iteration`)
    d.live = false
    d.freedAt = at.path
    return d.ref
  }

  /** Tags defined inside a repeat's body belong to one iteration; outside it they do not exist. */
  leaveRepeat(before: ReadonlyMap<string, Def>, depth: number): void {
    for (const [name, d] of [...this.env.entries()]) {
      if (d.ref.depth <= depth) continue
      const outer = before.get(name)
      if (outer === undefined) this.env.delete(name)
      else this.env.set(name, outer)
    }
  }
}

interface Walked {
  prog: Program[]
  cpus: Set<number>
  units: number
}

export const compileWorkload = (w: Workload): { compiled: Compiled } | { errors: LayoutError[] } => {
  const layout = layoutMachine(w.machine, w.variants, '$.machine', w.reportingDevice)
  if ('errors' in layout) return { errors: layout.errors }
  const boot = layout.boot
  const errors: LayoutError[] = []
  const error = (path: string, message: string): void => void errors.push({ path, message })
  if (w.variants !== undefined && Object.keys(splitVariants(w.variants).hinting).length > 0 && boot.hinting === null)
    error('$.variants', 'discardList, stateChange, volatileAt and forkVsDiscard switch guest page hinting, which needs machine.guestPageHinting: true')
  if (w.variants?.delFromBoundary !== undefined && boot.reporting?.mechanism !== 'aeration')
    error('$.variants.delFromBoundary', 'delFromBoundary switches the aeration RFC\'s boundary helpers, which needs variants.reporting: "aeration"')
  if (w.variants?.aerationPutBack !== undefined && boot.reporting?.mechanism !== 'aeration')
    error('$.variants.aerationPutBack', 'aerationPutBack switches the aeration RFC\'s put-back, which needs variants.reporting: "aeration"')
  if (w.reportingDevice !== undefined && boot.reporting === undefined) error('$.reportingDevice', 'a reporting device needs variants.reporting "aeration" or "page-reporting"')
  if (w.host !== undefined && boot.hinting === null) error('$.host', 'the host discards pages only from a guest that hints (machine.guestPageHinting: true)')
  const tags = new TagTable(error)
  const forked = new Set<number>()
  const seenMm = new Set<number>()
  const ctx: CompileContext = {
    cpus: boot.cpus,
    hinting: boot.hinting !== null,
    error,
    zoneIdx: (name, path) => {
      if (name === undefined) return boot.zones.length - 1
      const i = boot.zones.findIndex((z) => z.name === name)
      if (i < 0) error(path, `expected one of the machine's zones (${boot.zones.map((z) => z.name).join(', ')}), got "${name}"`)
      return Math.max(0, i)
    },
    define: (name, at) => tags.define(name, at),
    use: (name, at) => tags.use(name, at),
    useMm: (mm) => void seenMm.add(mm),
    createMm: (mm) => {
      const fresh = !forked.has(mm) && !seenMm.has(mm)
      forked.add(mm)
      seenMm.add(mm)
      return fresh
    },
  }
  let nextBarrier = 0

  const walk = (ops: readonly Op[], prefix: string, depth: number, timesInside: number): Walked => {
    const out: Walked = { prog: [], cpus: new Set<number>(), units: 0 }
    ops.forEach((op, i) => {
      const at: At = { path: `${prefix}[${i}]`, depth, timesInside }
      if (op.op === 'repeat') {
        const before = new Map(tags.env)
        const body = walk(op.ops, `${at.path}.ops`, depth + 1, timesInside * op.times)
        tags.leaveRepeat(before, depth)
        for (const c of body.cpus) out.cpus.add(c)
        out.units += body.units * op.times
        out.prog.push({ kind: 'repeat', path: at.path, times: op.times, body: body.prog, cpus: body.cpus, units: body.units })
        return
      }
      if (op.op === 'barrier') {
        for (let c = 0; c < boot.cpus; c++) out.cpus.add(c)
        out.prog.push({ kind: 'barrier', path: at.path, id: nextBarrier++, depth })
        out.units += 1
        return
      }
      if (op.cpu >= boot.cpus) error(`${at.path}.cpu`, `expected a CPU below ${boot.cpus} (machine.cpus), got ${op.cpu}`)
      out.cpus.add(op.cpu)
      const step = compileOp(ctx, op, at)
      out.prog.push(step)
      // A churn op's progress is its steps; every other op is one unit.
      out.units += step.kind === 'churn' ? step.steps : 1
    })
    return out
  }
  const top = walk(w.ops, '$.ops', 0, 1)
  const freeLayouts = compileFreeAreas(w, boot, error)
  if (errors.length > 0) return { errors }
  return { compiled: { boot, ops: top.prog, units: top.units, forkedMms: forked, ...(freeLayouts === null ? {} : { freeLayouts }) } }
}

/** machine.freeAreas: each names a zone once and fits in it (engine/mm/bootLayout.ts). */
const compileFreeAreas = (w: Workload, boot: Compiled['boot'], error: (path: string, message: string) => void): (FreeLayout | null)[] | null => {
  const specs = w.machine.freeAreas
  if (specs === undefined) return null
  const layouts: (FreeLayout | null)[] = boot.zones.map(() => null)
  specs.forEach((spec, i) => {
    const path = `$.machine.freeAreas[${i}]`
    const z = boot.zones.findIndex((x) => x.name === spec.zone)
    if (z < 0) return error(`${path}.zone`, `expected one of the machine's zones (${boot.zones.map((x) => x.name).join(', ')}), got "${spec.zone}"`)
    if (layouts[z] !== null) return error(`${path}.zone`, `zone "${spec.zone}" has free areas twice`)
    for (const [mt, counts] of Object.entries(spec.free ?? {}))
      if (counts !== undefined && counts.length > 11) return error(`${path}.free.${mt}`, `expected at most 11 orders (MAX_ORDER), got ${counts.length}`)
    const zone = boot.zones[z]!
    const l = layoutFreeArea(zone.startPfn, zone.pages, boot.pageblockOrder, spec)
    if (typeof l === 'string') return error(path, `zone ${spec.zone} (${zone.pages} pages): ${l}`)
    layouts[z] = l
  })
  return layouts
}
