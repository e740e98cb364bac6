// Runs the compiled workload: each CPU walks the program in file order and executes the ops
// that name it, as one kernel thread (each op's work is its entry in ops.ts). Randomness
// (churn) comes from the CPU's own PRNG stream.
import { assert } from '../../lib'
import type { Kernel } from '../kernel'
import type { Prng } from '../prng'
import type { Cpu, Path } from '../sim/cpu'
import { sleep, type WaitQueue } from '../sim/sync'
import type { Program } from './program'
import type { Barriers, Tags } from './tags'
import type { FileContext } from '../mm/filemap'
import type { Hotplug } from '../mm/hotplug'
import { execOp, onlineCpus } from './ops'

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

/** A list of ops being walked: the workload's top level, or a repeat's body in one of its iterations. */
interface Frame {
  readonly ops: readonly Program[]
  next: number
  iteration: number
  readonly times: number
}

/**
 * Walks the program with a stack of frames instead of a generator per repeat level: every step of
 * every kernel path resumes through each generator that delegates to it, so a shallow chain is
 * what keeps a step cheap. `iters` holds the iteration of each enclosing repeat, innermost last.
 */
const runOps = function* (ctx: DriverContext, cpu: Cpu, prng: Prng, ops: readonly Program[]): Path {
  const frames: Frame[] = [{ ops, next: 0, iteration: 0, times: 1 }]
  const iters: number[] = []
  while (frames.length > 0) {
    const f = frames[frames.length - 1]!
    if (f.next === f.ops.length) {
      if (++f.iteration < f.times) {
        f.next = 0
        iters[iters.length - 1] = f.iteration
        continue
      }
      frames.pop()
      if (frames.length > 0) iters.pop()
      continue
    }
    const op = f.ops[f.next++]!
    if (op.kind === 'barrier') {
      yield* ctx.hotplug.parkPoint(ctx.k, cpu)
      yield* ctx.barriers.arrive(ctx.k.sim, cpu, `${op.id}@${iters.slice(0, op.depth).join('.')}`, () => onlineCpus(ctx))
      if (cpu.id === 0) ctx.unitsDone++
      continue
    }
    if (op.kind === 'repeat') {
      if (!op.cpus.has(cpu.id) || op.times === 0) continue
      iters.push(0)
      frames.push({ ops: op.body, next: 0, iteration: 0, times: op.times })
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
  yield* runOps(ctx, cpu, prng, ops)
  ctx.hotplug.finished(ctx.k, cpu)
}
