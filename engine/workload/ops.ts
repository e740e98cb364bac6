// One function per program step, keyed by its kind (STYLE.md §11): what a CPU does for each op
// of the workload. The record's key type is the step union's tag, so a new op does not compile
// until it has its function here.
import type { Kernel } from '../kernel'
import { __alloc_pages, type AllocRequest } from '../mm/page_alloc'
import { __free_pages, drain_all_pages, drain_pages } from '../mm/page_free'
import type { Prng } from '../prng'
import type { Cpu, Path } from '../sim/cpu'
import { local_irq_disable, local_irq_enable, sleep, wait_event } from '../sim/sync'
import { file_read_page, file_write_page, invalidate_page, writeback_page } from '../mm/filemap'
import { anon_fault, exit_mm, fault_in_file_page, fork_mm, touch_file_page, unmap_file_page } from '../mm/memory'
import { try_to_free_pages } from '../mm/vmscan'
import type { DriverContext } from './driver'
import type { CpuProgram } from './program'
import type { Block } from './tags'

type Exec<K extends CpuProgram['kind']> = (ctx: DriverContext, cpu: Cpu, prng: Prng, op: Extract<CpuProgram, { kind: K }>, iters: readonly number[]) => Path

export const onlineCpus = (ctx: DriverContext): number => ctx.k.cpus.filter((c) => c.online).length

const allocBlock = function* (ctx: DriverContext, cpu: Cpu, req: AllocRequest): Path<Block | null> {
  const pfn = yield* __alloc_pages(ctx.k, cpu, req, ctx.file.reclaim)
  return pfn === null ? null : { pfn, order: req.order }
}

/** Ops on a process that a fork creates wait until the fork has run. */
const waitForMm = function* (ctx: DriverContext, cpu: Cpu, mm: number): Path {
  if (!ctx.forkedMms.has(mm)) return
  yield* wait_event(ctx.k.sim, cpu, ctx.mmCreated, () => ctx.k.state.mms.mms.has(mm))
}

const skipped = (k: Kernel, cpu: Cpu, op: CpuProgram, reason: string): void => void k.emit(cpu, 'OpSkipped', { op: op.path, reason })

const alloc: Exec<'alloc'> = function* (ctx, cpu, _prng, op, iters) {
  const blocks: Block[] = []
  const req: AllocRequest = op.tag === null ? { order: op.order, mt: op.mt, highestZone: op.zone } : { order: op.order, mt: op.mt, highestZone: op.zone, tag: op.tag.name }
  for (let i = 0; i < op.count; i++) {
    const b = yield* allocBlock(ctx, cpu, req)
    if (b !== null) blocks.push(b)
  }
  if (op.tag !== null) ctx.tags.set(ctx.k.sim, ctx.tags.key(op.tag, iters), blocks)
}

const free: Exec<'free'> = function* (ctx, cpu, _prng, op, iters) {
  const blocks = yield* ctx.tags.take(ctx.k.sim, cpu, ctx.tags.key(op.tag, iters))
  if (blocks.length === 0) skipped(ctx.k, cpu, op, `tag "${op.tag.name}" holds nothing: its allocation failed`)
  for (const b of blocks) yield* __free_pages(ctx.k, cpu, b.pfn, b.order, op.cold)
}

const drain: Exec<'drain'> = function* (ctx, cpu, _prng, op) {
  if (op.all) return yield* drain_all_pages(ctx.k, cpu)
  local_irq_disable(cpu)
  drain_pages(ctx.k, cpu)
  local_irq_enable(ctx.k.sim, cpu)
}

/** Allocates until the zone's free pages fall below the watermark, or allocation fails. */
const pressure: Exec<'pressure'> = function* (ctx, cpu, _prng, op, iters) {
  const z = ctx.k.state.zone.zones[op.zone]!
  const mark = z.watermarks[op.watermark]
  const blocks: Block[] = []
  const req: AllocRequest = { order: op.order, mt: op.mt, highestZone: op.zone, tag: op.tag.name }
  while (z.nrFreePages >= mark) {
    const b = yield* allocBlock(ctx, cpu, req)
    if (b === null) break
    blocks.push(b)
  }
  ctx.tags.set(ctx.k.sim, ctx.tags.key(op.tag, iters), blocks)
}

/** Random allocations and frees with at most liveMax blocks held; everything is freed at the end. */
const churn: Exec<'churn'> = function* (ctx, cpu, prng, op) {
  ctx.unitsDone-- // churn counts its own steps
  const live: Block[] = []
  const zone = ctx.k.state.zone.zones.length - 1
  const freeOne = function* () {
    const i = prng.int(0, live.length - 1)
    const b = live[i]!
    live[i] = live[live.length - 1]!
    live.pop()
    yield* __free_pages(ctx.k, cpu, b.pfn, b.order, prng.chance(op.coldPercent))
  }
  for (let step = 0; step < op.steps; step++) {
    if (live.length > 0 && (live.length >= op.liveMax || prng.chance(50))) yield* freeOne()
    else {
      const req: AllocRequest = { order: prng.weighted(op.orderWeights), mt: prng.weighted(op.mtWeights), highestZone: zone }
      const b = yield* allocBlock(ctx, cpu, req)
      if (b !== null) live.push(b)
      else if (live.length > 0) yield* freeOne()
    }
    ctx.unitsDone++
  }
  while (live.length > 0) yield* freeOne()
}

const idle: Exec<'idle'> = function* (ctx, cpu, _prng, op) {
  yield* sleep(ctx.k.sim, cpu, op.ns, `idle ${op.path}`)
}

const FILE_PATHS = {
  read: (ctx: DriverContext, cpu: Cpu, file: number, i: number) => file_read_page(ctx.k, cpu, ctx.file, file, i),
  write: (ctx: DriverContext, cpu: Cpu, file: number, i: number) => file_write_page(ctx.k, cpu, ctx.file, file, i),
  writeback: (ctx: DriverContext, cpu: Cpu, file: number, i: number) => writeback_page(ctx.k, cpu, ctx.file, file, i),
  drop: (ctx: DriverContext, cpu: Cpu, file: number, i: number) => invalidate_page(ctx.k, cpu, file, i),
} as const

const file: Exec<'file'> = function* (ctx, cpu, _prng, op) {
  for (let i = op.index; i < op.index + op.count; i++) {
    const r = yield* FILE_PATHS[op.what](ctx, cpu, op.file, i)
    if (typeof r === 'string') skipped(ctx.k, cpu, op, `file ${op.file} index ${i}: ${r}`)
  }
}

const PTE_PATHS = {
  map: (ctx: DriverContext, cpu: Cpu, op: Extract<CpuProgram, { kind: 'pte' }>, i: number) => fault_in_file_page(ctx.k, cpu, ctx.file, op.mm, op.file, i, op.flag),
  touch: (ctx: DriverContext, cpu: Cpu, op: Extract<CpuProgram, { kind: 'pte' }>, i: number) => touch_file_page(ctx.k, cpu, ctx.file, op.mm, op.file, i, op.flag),
  unmap: (ctx: DriverContext, cpu: Cpu, op: Extract<CpuProgram, { kind: 'pte' }>, i: number) => unmap_file_page(ctx.k, cpu, op.mm, op.file, i),
} as const

const pte: Exec<'pte'> = function* (ctx, cpu, _prng, op) {
  yield* waitForMm(ctx, cpu, op.mm)
  for (let i = op.index; i < op.index + op.count; i++) {
    const r = yield* PTE_PATHS[op.what](ctx, cpu, op, i)
    if (typeof r === 'string') skipped(ctx.k, cpu, op, `file ${op.file} index ${i}: ${r}`)
  }
}

const fork: Exec<'fork'> = function* (ctx, cpu, _prng, op) {
  const k = ctx.k
  yield* waitForMm(ctx, cpu, op.parent)
  if (!k.state.mms.mms.has(op.parent)) k.emit(cpu, 'MmCreated', { mm: op.parent, parent: null })
  yield* fork_mm(k, cpu, op.parent, op.child)
  ctx.mmCreated.wakeAll(k.sim)
}

const exit: Exec<'exit'> = function* (ctx, cpu, _prng, op) {
  yield* waitForMm(ctx, cpu, op.mm)
  yield* exit_mm(ctx.k, cpu, op.mm)
}

const anon: Exec<'anon'> = function* (ctx, cpu, _prng, op) {
  yield* waitForMm(ctx, cpu, op.mm)
  for (let i = 0; i < op.pages; i++) {
    const next = ctx.anonNext.get(op.mm) ?? 0
    ctx.anonNext.set(op.mm, next + 1)
    if (!(yield* anon_fault(ctx.k, cpu, ctx.file, op.mm, next))) return skipped(ctx.k, cpu, op, `process ${op.mm}: no page could be allocated`)
  }
}

const reclaim: Exec<'reclaim'> = function* (ctx, cpu) {
  yield* try_to_free_pages(ctx.k, cpu, null)
}

const hotplug: Exec<'hotplug'> = function* (ctx, cpu, _prng, op) {
  const target = ctx.k.cpu(op.target)
  if (op.up) return yield* ctx.hotplug.cpuUp(ctx.k, cpu, target)
  yield* ctx.hotplug.cpuDown(ctx.k, cpu, target)
  ctx.barriers.recheck(ctx.k.sim, () => onlineCpus(ctx))
}

export const OPS: { readonly [K in CpuProgram['kind']]: Exec<K> } = { alloc, free, drain, pressure, churn, idle, file, pte, fork, exit, anon, reclaim, hotplug }

/** Runs one step through its table entry (the one place the step union meets the table). */
export const execOp = (ctx: DriverContext, cpu: Cpu, prng: Prng, op: CpuProgram, iters: readonly number[]): Path =>
  (OPS[op.kind] as Exec<CpuProgram['kind']>)(ctx, cpu, prng, op, iters)
