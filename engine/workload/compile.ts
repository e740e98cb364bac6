// Semantic checks of a decoded workload, done before a run starts: CPUs and zones that exist, a
// machine the kernel could boot, and tags that are allocated before they are freed and freed at
// most once. The result is the program the driver runs, with every tag use resolved to its
// definition.
import { MAX_ORDER } from '../../events/codecs'
import { type MachineBooted } from '../../events/machine'
import { layoutMachine, type LayoutError } from '../mm/boot'
import { mtIndex, type Op, type Workload } from '../../workload/codec'

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
  | { kind: 'reclaim'; path: string; cpu: number }
  | { kind: 'hotplug'; path: string; cpu: number; target: number; up: boolean }
  | { kind: 'repeat'; path: string; times: number; body: Program[]; cpus: ReadonlySet<number>; units: number }

export interface Compiled {
  readonly boot: MachineBooted['data']
  readonly ops: Program[]
  /** Processes created by a fork: ops on them wait until the fork has run. */
  readonly forkedMms: ReadonlySet<number>
  /** Work units (ops, churn steps) in the whole run, for progress. */
  readonly units: number
}

export const DEFAULT_ORDER_WEIGHTS = [70, 10, 8, 5, 3, 2, 1, 1, 0, 0, 0]
export const DEFAULT_MT_WEIGHTS = [20, 70, 10]

interface Def {
  ref: TagRef
  path: string
  live: boolean
  freedAt?: string
}

export const compileWorkload = (w: Workload): { compiled: Compiled } | { errors: LayoutError[] } => {
  const layout = layoutMachine(w.machine, w.variants)
  if ('errors' in layout) return { errors: layout.errors }
  const boot = layout.boot
  const errors: LayoutError[] = []
  if (w.variants !== undefined && Object.keys(w.variants).length > 0 && boot.hinting === null)
    errors.push({ path: '$.variants', message: 'the variants switch guest page hinting, which needs machine.guestPageHinting: true' })
  if (w.host !== undefined && boot.hinting === null)
    errors.push({ path: '$.host', message: 'the host discards pages only from a guest that hints (machine.guestPageHinting: true)' })
  const zoneIdx = (name: string | undefined, path: string): number => {
    if (name === undefined) return boot.zones.length - 1
    const i = boot.zones.findIndex((z) => z.name === name)
    if (i < 0) errors.push({ path, message: `expected one of the machine's zones (${boot.zones.map((z) => z.name).join(', ')}), got "${name}"` })
    return Math.max(0, i)
  }
  const checkCpu = (cpu: number, path: string) => {
    if (cpu >= boot.cpus) errors.push({ path: `${path}.cpu`, message: `expected a CPU below ${boot.cpus} (machine.cpus), got ${cpu}` })
  }
  const weights = (ws: number[] | undefined, n: number, dflt: number[], path: string): number[] => {
    if (ws === undefined) return dflt
    if (ws.length === 0 || ws.length > n) errors.push({ path, message: `expected 1..${n} weights, got ${ws.length}` })
    else if (ws.every((x) => x === 0)) errors.push({ path, message: 'expected some weight above 0' })
    return [...ws, ...new Array<number>(Math.max(0, n - ws.length)).fill(0)]
  }
  let nextId = 0
  let nextBarrier = 0
  const forked = new Set<number>()
  const seenMm = new Set<number>()
  const needsHinting = (path: string) => {
    if (boot.hinting === null) errors.push({ path, message: 'page cache and process operations need machine.guestPageHinting: true' })
  }
  const useMm = (mm: number) => seenMm.add(mm)
  const env = new Map<string, Def>()
  const define = (name: string, path: string, depth: number): TagRef => {
    const old = env.get(name)
    if (old?.live) errors.push({ path: `${path}.tag`, message: `tag "${name}" is still allocated by ${old.path}; free it first` })
    const ref = { id: nextId++, name, depth }
    env.set(name, { ref, path, live: true })
    return ref
  }
  const use = (name: string, path: string, depth: number, timesInside: number): TagRef => {
    const d = env.get(name)
    if (d === undefined) {
      errors.push({ path: `${path}.tag`, message: `tag "${name}" is never allocated before this op` })
      return { id: -1, name, depth }
    }
    if (!d.live) errors.push({ path: `${path}.tag`, message: `tag "${name}" was already freed by ${d.freedAt}` })
    else if (d.ref.depth < depth && timesInside > 1)
      errors.push({ path: `${path}.tag`, message: `tag "${name}" is allocated outside this repeat (${d.path}) but freed in every iteration` })
    d.live = false
    d.freedAt = path
    return d.ref
  }

  const walk = (ops: readonly Op[], prefix: string, depth: number, timesInside: number): { prog: Program[]; cpus: Set<number>; units: number } => {
    const prog: Program[] = []
    const cpus = new Set<number>()
    let units = 0
    ops.forEach((op, i) => {
      const path = `${prefix}[${i}]`
      if (op.op === 'repeat') {
        const before = new Map(env)
        const body = walk(op.ops, `${path}.ops`, depth + 1, timesInside * op.times)
        // Tags defined inside the body belong to one iteration; outside it they do not exist.
        for (const [name, d] of [...env.entries()]) {
          if (d.ref.depth > depth) {
            const outer = before.get(name)
            if (outer === undefined) env.delete(name)
            else env.set(name, outer)
          }
        }
        for (const c of body.cpus) cpus.add(c)
        units += body.units * op.times
        prog.push({ kind: 'repeat', path, times: op.times, body: body.prog, cpus: body.cpus, units: body.units })
        return
      }
      if (op.op === 'barrier') {
        for (let c = 0; c < boot.cpus; c++) cpus.add(c)
        prog.push({ kind: 'barrier', path, id: nextBarrier++, depth })
        units += 1
        return
      }
      checkCpu(op.cpu, path)
      cpus.add(op.cpu)
      switch (op.op) {
        case 'alloc': {
          const zone = zoneIdx(op.zone, `${path}.zone`)
          const tag = op.tag === undefined ? null : define(op.tag, path, depth)
          prog.push({ kind: 'alloc', path, cpu: op.cpu, order: op.order ?? 0, mt: mtIndex(op.mt ?? 'movable'), count: op.count ?? 1, zone, tag })
          units += 1
          return
        }
        case 'free':
          prog.push({ kind: 'free', path, cpu: op.cpu, cold: op.cold ?? false, tag: use(op.tag, path, depth, timesInside) })
          units += 1
          return
        case 'drain':
          prog.push({ kind: 'drain', path, cpu: op.cpu, all: op.all ?? false })
          units += 1
          return
        case 'pressure': {
          const zone = zoneIdx(op.zone, `${path}.zone`)
          prog.push({
            kind: 'pressure',
            path,
            cpu: op.cpu,
            watermark: op.watermark ?? 'low',
            order: op.order ?? 0,
            mt: mtIndex(op.mt ?? 'movable'),
            zone,
            tag: define(op.tag, path, depth),
          })
          units += 1
          return
        }
        case 'churn':
          prog.push({
            kind: 'churn',
            path,
            cpu: op.cpu,
            steps: op.steps,
            orderWeights: weights(op.orderWeights, MAX_ORDER, DEFAULT_ORDER_WEIGHTS, `${path}.orderWeights`),
            mtWeights: weights(op.mtWeights, 3, DEFAULT_MT_WEIGHTS, `${path}.mtWeights`),
            liveMax: op.liveMax ?? 256,
            coldPercent: op.coldPercent ?? 10,
          })
          units += op.steps
          return
        case 'idle':
          prog.push({ kind: 'idle', path, cpu: op.cpu, ns: op.ns })
          units += 1
          return
        case 'read':
        case 'write':
        case 'writeback':
        case 'drop':
          needsHinting(path)
          prog.push({ kind: 'file', path, cpu: op.cpu, what: op.op, file: op.file, index: op.index ?? 0, count: op.count ?? 1 })
          units += 1
          return
        case 'map':
        case 'touch':
        case 'unmap':
          needsHinting(path)
          useMm(op.mm)
          prog.push({
            kind: 'pte',
            path,
            cpu: op.cpu,
            what: op.op,
            mm: op.mm,
            file: op.file,
            index: op.index ?? 0,
            count: op.count ?? 1,
            flag: op.op === 'map' ? (op.writable ?? false) : op.op === 'touch' ? (op.write ?? false) : false,
          })
          units += 1
          return
        case 'fork':
          needsHinting(path)
          if (op.child === op.parent) errors.push({ path: `${path}.child`, message: 'a process cannot fork itself into itself' })
          else if (forked.has(op.child) || seenMm.has(op.child))
            errors.push({ path: `${path}.child`, message: `process ${op.child} already exists before this fork` })
          useMm(op.parent)
          forked.add(op.child)
          seenMm.add(op.child)
          if (timesInside > 1) errors.push({ path, message: 'a fork inside a repeat would create the same child twice' })
          prog.push({ kind: 'fork', path, cpu: op.cpu, parent: op.parent, child: op.child })
          units += 1
          return
        case 'exit':
          needsHinting(path)
          useMm(op.mm)
          prog.push({ kind: 'exit', path, cpu: op.cpu, mm: op.mm })
          units += 1
          return
        case 'anon':
          needsHinting(path)
          useMm(op.mm)
          prog.push({ kind: 'anon', path, cpu: op.cpu, mm: op.mm, pages: op.pages })
          units += 1
          return
        case 'reclaim':
          prog.push({ kind: 'reclaim', path, cpu: op.cpu })
          units += 1
          return
        case 'cpu-down':
        case 'cpu-up':
          if (op.target >= boot.cpus) errors.push({ path: `${path}.target`, message: `expected a CPU below ${boot.cpus} (machine.cpus), got ${op.target}` })
          if (op.target === op.cpu) errors.push({ path: `${path}.target`, message: 'a CPU is taken down or brought up by another CPU' })
          prog.push({ kind: 'hotplug', path, cpu: op.cpu, target: op.target, up: op.op === 'cpu-up' })
          units += 1
          return
      }
    })
    return { prog, cpus, units }
  }
  const top = walk(w.ops, '$.ops', 0, 1)
  if (errors.length > 0) return { errors }
  return { compiled: { boot, ops: top.prog, units: top.units, forkedMms: forked } }
}
