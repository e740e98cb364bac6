// One compiler per workload op, keyed by the op's name (STYLE.md §11): each checks what only the
// whole workload can tell (CPUs, zones, tags, processes) and returns the op's program step. The
// record's key type is the op union's tag, so a new op does not compile until it has one here.
import { MAX_ORDER } from '../../events/codecs'
import { HEAP_PAGES, mtIndex, type Op } from '../../workload/codec'
import type { CpuProgram, TagRef } from './program'
import type { OfflineLimits } from '../mm/memory_hotplug'

export const DEFAULT_ORDER_WEIGHTS = [70, 10, 8, 5, 3, 2, 1, 1, 0, 0, 0]
export const DEFAULT_MT_WEIGHTS = [20, 70, 10]

/** A workload op that names the CPU running it. */
export type CpuOp = Exclude<Op, { op: 'repeat' | 'barrier' }>

/** Where an op sits: its JSON path, its repeat depth, and how often the enclosing repeats run it. */
export interface At {
  readonly path: string
  readonly depth: number
  readonly timesInside: number
}

/** What the op compilers share: the booted machine's facts, the tag and process tables, the error list. */
export interface CompileContext {
  readonly cpus: number
  readonly hinting: boolean
  error(path: string, message: string): void
  zoneIdx(name: string | undefined, path: string): number
  /** A tag allocated here; an error if it is still allocated. */
  define(name: string, at: At): TagRef
  /** A tag freed here; an error if it was never allocated or already freed. */
  use(name: string, at: At): TagRef
  /** A process named by an op. */
  useMm(mm: number): void
  /** A process a fork creates; false when it already exists. */
  createMm(mm: number): boolean
}

const needsHinting = (c: CompileContext, at: At): void => {
  if (!c.hinting) c.error(at.path, 'page cache and process operations need machine.guestPageHinting: true')
}

const weights = (c: CompileContext, ws: number[] | undefined, n: number, dflt: number[], path: string): number[] => {
  if (ws === undefined) return dflt
  if (ws.length === 0 || ws.length > n) c.error(path, `expected 1..${n} weights, got ${ws.length}`)
  else if (ws.every((x) => x === 0)) c.error(path, 'expected some weight above 0')
  return [...ws, ...new Array<number>(Math.max(0, n - ws.length)).fill(0)]
}

type Compiler<K extends CpuOp['op']> = (c: CompileContext, op: Extract<CpuOp, { op: K }>, at: At) => CpuProgram

const alloc: Compiler<'alloc'> = (c, op, at) => {
  const zone = c.zoneIdx(op.zone, `${at.path}.zone`)
  const tag = op.tag === undefined ? null : c.define(op.tag, at)
  return { kind: 'alloc', path: at.path, cpu: op.cpu, order: op.order ?? 0, mt: mtIndex(op.mt ?? 'movable'), count: op.count ?? 1, zone, tag }
}

const free: Compiler<'free'> = (c, op, at) => ({ kind: 'free', path: at.path, cpu: op.cpu, cold: op.cold ?? false, tag: c.use(op.tag, at) })

const drain: Compiler<'drain'> = (_c, op, at) => ({ kind: 'drain', path: at.path, cpu: op.cpu, all: op.all ?? false })

const pressure: Compiler<'pressure'> = (c, op, at) => {
  const zone = c.zoneIdx(op.zone, `${at.path}.zone`)
  const mt = mtIndex(op.mt ?? 'movable')
  return { kind: 'pressure', path: at.path, cpu: op.cpu, watermark: op.watermark ?? 'low', order: op.order ?? 0, mt, zone, tag: c.define(op.tag, at) }
}

const churn: Compiler<'churn'> = (c, op, at) => ({
  kind: 'churn',
  path: at.path,
  cpu: op.cpu,
  steps: op.steps,
  orderWeights: weights(c, op.orderWeights, MAX_ORDER, DEFAULT_ORDER_WEIGHTS, `${at.path}.orderWeights`),
  mtWeights: weights(c, op.mtWeights, 3, DEFAULT_MT_WEIGHTS, `${at.path}.mtWeights`),
  liveMax: op.liveMax ?? 256,
  coldPercent: op.coldPercent ?? 10,
})

const idle: Compiler<'idle'> = (_c, op, at) => ({ kind: 'idle', path: at.path, cpu: op.cpu, ns: op.ns })

const fileOp = (c: CompileContext, op: Extract<CpuOp, { op: 'read' | 'write' | 'writeback' | 'drop' }>, at: At): CpuProgram => {
  needsHinting(c, at)
  return { kind: 'file', path: at.path, cpu: op.cpu, what: op.op, file: op.file, index: op.index ?? 0, count: op.count ?? 1 }
}

const pteOp = (c: CompileContext, op: Extract<CpuOp, { op: 'map' | 'touch' | 'unmap' }>, at: At, flag: boolean): CpuProgram => {
  needsHinting(c, at)
  c.useMm(op.mm)
  return { kind: 'pte', path: at.path, cpu: op.cpu, what: op.op, mm: op.mm, file: op.file, index: op.index ?? 0, count: op.count ?? 1, flag }
}

const fork: Compiler<'fork'> = (c, op, at) => {
  if (op.child === op.parent) c.error(`${at.path}.child`, 'a process cannot fork itself into itself')
  else if (!c.createMm(op.child)) c.error(`${at.path}.child`, `process ${op.child} already exists before this fork`)
  c.useMm(op.parent)
  if (at.timesInside > 1) c.error(at.path, 'a fork inside a repeat would create the same child twice')
  return { kind: 'fork', path: at.path, cpu: op.cpu, parent: op.parent, child: op.child }
}

const exit: Compiler<'exit'> = (c, op, at) => {
  c.useMm(op.mm)
  return { kind: 'exit', path: at.path, cpu: op.cpu, mm: op.mm }
}

const anon: Compiler<'anon'> = (c, op, at) => {
  c.useMm(op.mm)
  return { kind: 'anon', path: at.path, cpu: op.cpu, mm: op.mm, pages: op.pages }
}

/** A range of heap pages must end inside the heap. */
const heapRange = (c: CompileContext, op: { index?: number; count?: number }, at: At): { index: number; count: number } => {
  const index = op.index ?? 0
  const count = op.count ?? 1
  if (index + count > HEAP_PAGES) c.error(`${at.path}.count`, `expected the range to end inside the heap (${HEAP_PAGES} pages), got index ${index} + count ${count}`)
  return { index, count }
}

const anonWrite: Compiler<'anon-write'> = (c, op, at) => {
  c.useMm(op.mm)
  return { kind: 'anon-write', path: at.path, cpu: op.cpu, mm: op.mm, ...heapRange(c, op, at) }
}

const mprotect: Compiler<'mprotect'> = (c, op, at) => {
  c.useMm(op.mm)
  return { kind: 'mprotect', path: at.path, cpu: op.cpu, mm: op.mm, ...heapRange(c, op, at), writable: op.writable }
}

const munmap: Compiler<'munmap'> = (c, op, at) => {
  c.useMm(op.mm)
  return { kind: 'munmap', path: at.path, cpu: op.cpu, mm: op.mm, ...heapRange(c, op, at) }
}

const rmap: Compiler<'rmap'> = (c, op, at) => {
  const byRange = op.mm !== undefined || op.index !== undefined || op.count !== undefined
  if (byRange === (op.sample !== undefined)) c.error(at.path, 'expected either "mm" (with "index" and "count") or "sample", not both and not neither')
  if (byRange && op.mm === undefined) c.error(`${at.path}.mm`, 'expected the process whose pages to walk')
  if (op.mm !== undefined) c.useMm(op.mm)
  return {
    kind: 'rmap',
    path: at.path,
    cpu: op.cpu,
    walk: op.walk ?? 'page_referenced',
    range: byRange ? { mm: op.mm ?? 0, ...heapRange(c, op, at) } : null,
    sample: op.sample ?? 0,
  }
}

const reclaim: Compiler<'reclaim'> = (_c, op, at) => ({ kind: 'reclaim', path: at.path, cpu: op.cpu })

const hotplug = (c: CompileContext, op: Extract<CpuOp, { op: 'cpu-down' | 'cpu-up' }>, at: At): CpuProgram => {
  if (op.target >= c.cpus) c.error(`${at.path}.target`, `expected a CPU below ${c.cpus} (machine.cpus), got ${op.target}`)
  if (op.target === op.cpu) c.error(`${at.path}.target`, 'a CPU is taken down or brought up by another CPU')
  return { kind: 'hotplug', path: at.path, cpu: op.cpu, target: op.target, up: op.op === 'cpu-up' }
}

/** offline_pages' limits when the op names none: retry_max 5, a 100 ms timeout, 100 µs between rounds. */
export const DEFAULT_OFFLINE_LIMITS: OfflineLimits = { retryMax: 5, timeoutNs: 100_000_000, retryWaitNs: 100_000 }

const limitsOf = (op: { retries?: number; timeoutNs?: number; retryWaitNs?: number }): OfflineLimits => ({
  retryMax: op.retries ?? DEFAULT_OFFLINE_LIMITS.retryMax,
  timeoutNs: op.timeoutNs ?? DEFAULT_OFFLINE_LIMITS.timeoutNs,
  retryWaitNs: op.retryWaitNs ?? DEFAULT_OFFLINE_LIMITS.retryWaitNs,
})

const hotRemove: Compiler<'hot-remove'> = (_c, op, at) => ({ kind: 'hot-remove', path: at.path, cpu: op.cpu, startPfn: op.startPfn, pages: op.pages, limits: limitsOf(op) })

const contigAlloc: Compiler<'contig-alloc'> = (c, op, at) => ({
  kind: 'contig-alloc',
  path: at.path,
  cpu: op.cpu,
  startPfn: op.startPfn,
  pages: op.pages,
  by: op.by ?? 'cma',
  limits: limitsOf(op),
  tag: c.define(op.tag, at),
})

export const OP_COMPILERS: { readonly [K in CpuOp['op']]: Compiler<K> } = {
  alloc,
  free,
  drain,
  pressure,
  churn,
  idle,
  read: fileOp,
  write: fileOp,
  writeback: fileOp,
  drop: fileOp,
  map: (c, op, at) => pteOp(c, op, at, op.writable ?? false),
  touch: (c, op, at) => pteOp(c, op, at, op.write ?? false),
  unmap: (c, op, at) => pteOp(c, op, at, false),
  fork,
  exit,
  anon,
  'anon-write': anonWrite,
  mprotect,
  munmap,
  rmap,
  reclaim,
  'cpu-down': hotplug,
  'cpu-up': hotplug,
  'hot-remove': hotRemove,
  'contig-alloc': contigAlloc,
}

/** Compiles one CPU op through its table entry (the one place the op union meets the table). */
export const compileOp = (c: CompileContext, op: CpuOp, at: At): CpuProgram => (OP_COMPILERS[op.op] as Compiler<CpuOp['op']>)(c, op, at)
