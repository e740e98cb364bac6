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
import { exit_mm, fault_in_file_page, fork_mm, handle_anon_write, mmap_anon_heap, touch_file_page, unmap_file_page } from '../mm/memory'
import { do_mprotect, do_munmap } from '../mm/mmap'
import { shrink_active_list } from '../mm/rmap'
import { NO_ANON_VMA } from '../../projections/anon_vma/state'
import { pagesByAnonVma } from '../../projections/anon_vma/cost'
import { try_to_free_pages } from '../mm/vmscan'
import { offline_pages } from '../mm/memory_hotplug'
import { alloc_contig_range } from '../mm/contig_alloc'
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

/** The next pages of the process's anonymous heap, faulted in by a store each. */
const anon: Exec<'anon'> = function* (ctx, cpu, _prng, op) {
  yield* waitForMm(ctx, cpu, op.mm)
  yield* mmap_anon_heap(ctx.k, cpu, op.mm)
  for (let i = 0; i < op.pages; i++) {
    const next = ctx.anonNext.get(op.mm) ?? 0
    ctx.anonNext.set(op.mm, next + 1)
    const r = yield* handle_anon_write(ctx.k, cpu, ctx.file, op.mm, next)
    if (r !== true) return skipped(ctx.k, cpu, op, `process ${op.mm} heap page ${next}: ${r}`)
  }
}

/** Stores to heap pages [index, index + count): faults where nothing is mapped, COW breaks where a pte is shared. */
const anonWrite: Exec<'anon-write'> = function* (ctx, cpu, _prng, op) {
  yield* waitForMm(ctx, cpu, op.mm)
  yield* mmap_anon_heap(ctx.k, cpu, op.mm)
  for (let i = op.index; i < op.index + op.count; i++) {
    const r = yield* handle_anon_write(ctx.k, cpu, ctx.file, op.mm, i)
    if (r !== true) return skipped(ctx.k, cpu, op, `process ${op.mm} heap page ${i}: ${r}`)
  }
}

/** Runs `body` with the process's mmap_sem held for writing (mprotect, munmap). */
const underMmapSem = function* (ctx: DriverContext, cpu: Cpu, mm: number, body: () => Path<string | null | void>): Path<string | null | void> {
  const sem = ctx.k.locks.mmapSem(mm)
  yield* sem.down_write(ctx.k.sim, cpu)
  const r = yield* body()
  sem.up_write(ctx.k.sim, cpu)
  return r
}

const mprotect: Exec<'mprotect'> = function* (ctx, cpu, _prng, op) {
  yield* waitForMm(ctx, cpu, op.mm)
  const r = yield* underMmapSem(ctx, cpu, op.mm, () => do_mprotect(ctx.k, cpu, op.mm, op.index, op.index + op.count, op.writable))
  if (typeof r === 'string') skipped(ctx.k, cpu, op, `process ${op.mm}: ${r}`)
}

const munmap: Exec<'munmap'> = function* (ctx, cpu, _prng, op) {
  yield* waitForMm(ctx, cpu, op.mm)
  yield* underMmapSem(ctx, cpu, op.mm, () => do_munmap(ctx.k, cpu, op.mm, op.index, op.index + op.count))
}

/**
 * The pages to walk: those a process maps in a heap range, or a stratified sample: `sample`
 * pages drawn from each anon_vma that mapped pages name (every stratum is seen, however small).
 */
const rmapTargets = (ctx: DriverContext, prng: Prng, op: Extract<CpuProgram, { kind: 'rmap' }>): number[] => {
  const a = ctx.k.state.anonVma
  if (op.range !== null) {
    const ptes = ctx.k.state.mms.mms.get(op.range.mm)?.ptes
    const out: number[] = []
    for (let i = op.range.index; i < op.range.index + op.range.count; i++) {
      const pfn = ptes?.get(i)?.pfn
      if (pfn !== undefined && a.mapping[pfn] !== NO_ANON_VMA) out.push(pfn)
    }
    return out
  }
  const out: number[] = []
  for (const pages of pagesByAnonVma(a).values()) {
    // A partial Fisher-Yates shuffle: `sample` distinct pages of the stratum.
    const n = Math.min(op.sample, pages.length)
    for (let i = 0; i < n; i++) {
      const j = prng.int(i, pages.length - 1)
      ;[pages[i], pages[j]] = [pages[j]!, pages[i]!]
      out.push(pages[i]!)
    }
  }
  return out
}

/** Reclaim's aging (page_referenced) or unmapping (try_to_unmap) of the chosen pages, through the rmap walk. */
const rmap: Exec<'rmap'> = function* (ctx, cpu, prng, op) {
  if (op.range !== null) yield* waitForMm(ctx, cpu, op.range.mm)
  yield* shrink_active_list(ctx.k, cpu, rmapTargets(ctx, prng, op), op.walk)
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

/** Memory hot-remove of [startPfn, startPfn + pages): offline_pages, its outcome in the events. */
const hotRemove: Exec<'hot-remove'> = function* (ctx, cpu, _prng, op) {
  yield* offline_pages(ctx.k, cpu, op.startPfn, op.startPfn + op.pages, op.limits)
}

/** alloc_contig_range for CMA or a gigantic page; the taken blocks go to the tag (nothing when it failed). */
const contigAlloc: Exec<'contig-alloc'> = function* (ctx, cpu, _prng, op, iters) {
  const r = yield* alloc_contig_range(ctx.k, cpu, op.startPfn, op.startPfn + op.pages, op.by, op.limits)
  ctx.tags.set(ctx.k.sim, ctx.tags.key(op.tag, iters), r._tag === 'allocated' ? r.blocks : [])
}

export const OPS: { readonly [K in CpuProgram['kind']]: Exec<K> } = {
  alloc,
  free,
  drain,
  pressure,
  churn,
  idle,
  file,
  pte,
  fork,
  exit,
  anon,
  'anon-write': anonWrite,
  mprotect,
  munmap,
  rmap,
  reclaim,
  hotplug,
  'hot-remove': hotRemove,
  'contig-alloc': contigAlloc,
}

/** Runs one step through its table entry (the one place the step union meets the table). */
export const execOp = (ctx: DriverContext, cpu: Cpu, prng: Prng, op: CpuProgram, iters: readonly number[]): Path =>
  (OPS[op.kind] as Exec<CpuProgram['kind']>)(ctx, cpu, prng, op, iters)
