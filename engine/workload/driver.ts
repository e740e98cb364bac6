// Runs the compiled workload: each CPU walks the program in file order and executes the ops
// that name it, as one kernel thread. Randomness (churn) comes from the CPU's own PRNG stream.
import { assert } from '../../lib'
import type { Kernel } from '../kernel'
import { __alloc_pages, type AllocRequest } from '../mm/page_alloc'
import { __free_pages, drain_all_pages, drain_pages } from '../mm/page_free'
import type { Prng } from '../prng'
import type { Cpu, Path } from '../sim/cpu'
import { WaitQueue, local_irq_disable, local_irq_enable, sleep, wait_event } from '../sim/sync'
import type { Program } from './compile'
import { Barriers, type Tags, type Block } from './tags'
import { file_read_page, file_write_page, invalidate_page, writeback_page, type FileContext } from '../mm/filemap'
import { anon_fault, exit_mm, fault_in_file_page, fork_mm, touch_file_page, unmap_file_page } from '../mm/memory'
import { try_to_free_pages } from '../mm/vmscan'
import type { Hotplug } from '../mm/hotplug'

export interface DriverContext {
  readonly k: Kernel
  readonly tags: Tags
  readonly barriers: Barriers
  readonly hotplug: Hotplug
  readonly file: FileContext
  readonly thinkNs: number
  /** Processes a fork creates: ops on them wait for it. */
  readonly forkedMms: ReadonlySet<number>
  readonly mmCreated: WaitQueue
  /** Next anonymous page offset per process. */
  readonly anonNext: Map<number, number>
  /** Work units done so far (ops and churn steps), read by the progress bar. */
  unitsDone: number
}

const allocBlock = function* (ctx: DriverContext, cpu: Cpu, req: AllocRequest): Path<Block | null> {
  const pfn = yield* __alloc_pages(ctx.k, cpu, req, ctx.file.reclaim)
  return pfn === null ? null : { pfn, order: req.order }
}

const freeBlocks = function* (ctx: DriverContext, cpu: Cpu, blocks: readonly Block[], cold: boolean): Path {
  for (const b of blocks) yield* __free_pages(ctx.k, cpu, b.pfn, b.order, cold)
}

/** Random allocations and frees with at most liveMax blocks held; everything is freed at the end. */
const churn = function* (ctx: DriverContext, cpu: Cpu, prng: Prng, op: Extract<Program, { kind: 'churn' }>): Path {
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

/** Allocates until the zone's free pages fall below the watermark, or allocation fails. */
const pressure = function* (ctx: DriverContext, cpu: Cpu, op: Extract<Program, { kind: 'pressure' }>): Path<Block[]> {
  const z = ctx.k.state.zone.zones[op.zone]!
  const mark = z.watermarks[op.watermark]
  const blocks: Block[] = []
  const req: AllocRequest = { order: op.order, mt: op.mt, highestZone: op.zone, tag: op.tag.name }
  while (z.nrFreePages >= mark) {
    const b = yield* allocBlock(ctx, cpu, req)
    if (b === null) break
    blocks.push(b)
  }
  return blocks
}

const execOp = function* (ctx: DriverContext, cpu: Cpu, prng: Prng, op: Exclude<Program, { kind: 'repeat' | 'barrier' }>, iters: readonly number[]): Path {
  const k = ctx.k
  switch (op.kind) {
    case 'alloc': {
      const blocks: Block[] = []
      const req: AllocRequest = op.tag === null
        ? { order: op.order, mt: op.mt, highestZone: op.zone }
        : { order: op.order, mt: op.mt, highestZone: op.zone, tag: op.tag.name }
      for (let i = 0; i < op.count; i++) {
        const b = yield* allocBlock(ctx, cpu, req)
        if (b !== null) blocks.push(b)
      }
      if (op.tag !== null) ctx.tags.set(k.sim, ctx.tags.key(op.tag, iters), blocks)
      return
    }
    case 'free': {
      const blocks = yield* ctx.tags.take(k.sim, cpu, ctx.tags.key(op.tag, iters))
      if (blocks.length === 0) k.emit(cpu, 'OpSkipped', { op: op.path, reason: `tag "${op.tag.name}" holds nothing: its allocation failed` })
      return yield* freeBlocks(ctx, cpu, blocks, op.cold)
    }
    case 'drain':
      if (op.all) {
        return yield* drain_all_pages(k, cpu)
      }
      local_irq_disable(cpu)
      drain_pages(k, cpu)
      local_irq_enable(k.sim, cpu)
      return
    case 'pressure': {
      const blocks = yield* pressure(ctx, cpu, op)
      ctx.tags.set(k.sim, ctx.tags.key(op.tag, iters), blocks)
      return
    }
    case 'churn':
      ctx.unitsDone-- // churn counts its own steps
      return yield* churn(ctx, cpu, prng, op)
    case 'idle':
      return yield* sleep(k.sim, cpu, op.ns, `idle ${op.path}`)
    case 'file': {
      for (let i = op.index; i < op.index + op.count; i++) {
        const r =
          op.what === 'read'
            ? yield* file_read_page(k, cpu, ctx.file, op.file, i)
            : op.what === 'write'
              ? yield* file_write_page(k, cpu, ctx.file, op.file, i)
              : op.what === 'writeback'
                ? yield* writeback_page(k, cpu, ctx.file, op.file, i)
                : yield* invalidate_page(k, cpu, op.file, i)
        if (typeof r === 'string') k.emit(cpu, 'OpSkipped', { op: op.path, reason: `file ${op.file} index ${i}: ${r}` })
      }
      return
    }
    case 'pte': {
      yield* waitForMm(ctx, cpu, op.mm)
      for (let i = op.index; i < op.index + op.count; i++) {
        const r =
          op.what === 'map'
            ? yield* fault_in_file_page(k, cpu, ctx.file, op.mm, op.file, i, op.flag)
            : op.what === 'touch'
              ? yield* touch_file_page(k, cpu, ctx.file, op.mm, op.file, i, op.flag)
              : yield* unmap_file_page(k, cpu, op.mm, op.file, i)
        if (typeof r === 'string') k.emit(cpu, 'OpSkipped', { op: op.path, reason: `file ${op.file} index ${i}: ${r}` })
      }
      return
    }
    case 'fork':
      yield* waitForMm(ctx, cpu, op.parent)
      if (!k.state.mms.mms.has(op.parent)) k.emit(cpu, 'MmCreated', { mm: op.parent, parent: null })
      yield* fork_mm(k, cpu, op.parent, op.child)
      ctx.mmCreated.wakeAll(k.sim)
      return
    case 'exit':
      yield* waitForMm(ctx, cpu, op.mm)
      return yield* exit_mm(k, cpu, op.mm)
    case 'anon': {
      yield* waitForMm(ctx, cpu, op.mm)
      for (let i = 0; i < op.pages; i++) {
        const next = ctx.anonNext.get(op.mm) ?? 0
        ctx.anonNext.set(op.mm, next + 1)
        if (!(yield* anon_fault(k, cpu, ctx.file, op.mm, next))) {
          k.emit(cpu, 'OpSkipped', { op: op.path, reason: `process ${op.mm}: no page could be allocated` })
          return
        }
      }
      return
    }
    case 'reclaim':
      yield* try_to_free_pages(k, cpu, null)
      return
    case 'hotplug': {
      const target = k.cpu(op.target)
      if (op.up) return yield* ctx.hotplug.cpuUp(k, cpu, target)
      yield* ctx.hotplug.cpuDown(k, cpu, target)
      ctx.barriers.recheck(k.sim, () => onlineCpus(ctx))
      return
    }
  }
}

const onlineCpus = (ctx: DriverContext): number => ctx.k.cpus.filter((c) => c.online).length

/** Ops on a process that a fork creates wait until the fork has run. */
const waitForMm = function* (ctx: DriverContext, cpu: Cpu, mm: number): Path {
  if (!ctx.forkedMms.has(mm)) return
  yield* wait_event(ctx.k.sim, cpu, ctx.mmCreated, () => ctx.k.state.mms.mms.has(mm))
}

const runOps = function* (ctx: DriverContext, cpu: Cpu, prng: Prng, ops: readonly Program[], iters: number[]): Path {
  for (const op of ops) {
    if (op.kind === 'barrier') {
      yield* ctx.hotplug.parkPoint(ctx.k, cpu)
      yield* ctx.barriers.arrive(ctx.k.sim, cpu, `${op.id}@${iters.slice(0, op.depth).join('.')}`, () => onlineCpus(ctx))
      if (cpu.id === 0) ctx.unitsDone++
      continue
    }
    if (op.kind === 'repeat') {
      if (!op.cpus.has(cpu.id)) continue
      for (let i = 0; i < op.times; i++) {
        iters.push(i)
        yield* runOps(ctx, cpu, prng, op.body, iters)
        iters.pop()
      }
      continue
    }
    if (op.cpu !== cpu.id) continue
    yield* ctx.hotplug.parkPoint(ctx.k, cpu)
    if (ctx.thinkNs > 0) yield* sleep(ctx.k.sim, cpu, ctx.thinkNs, 'think time')
    yield* execOp(ctx, cpu, prng, op, iters)
    ctx.unitsDone++
  }
}

/** The thread a CPU runs: its share of the workload, in file order. */
export const cpuThread = function* (ctx: DriverContext, cpu: Cpu, prng: Prng, ops: readonly Program[]): Path {
  assert(cpu.irqsOff === 0, 'threads start with interrupts on')
  yield* runOps(ctx, cpu, prng, ops, [])
  ctx.hotplug.finished(ctx.k, cpu)
}
