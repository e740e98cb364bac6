// Simulated time is bounded when a workload is validated, so that every accepted run ends and
// every time it stores stays an exact integer (below 2^53 ns, JavaScript's safe integers; the
// store and the event codecs refuse anything beyond). Each time field is at most
// SIMULATED_NS_MAX, and so is the sum of the time the ops sleep (idle, think time, block I/O per
// page), counted through every repeat. The simulator's own steps add at most stepsMax times
// (stepNs + jitterNs), which the CLI keeps below 2^49 ns.
import * as t from 'io-ts'
import { intIn } from '../events/codecs'
import type { Op, Workload } from './codec'

/** 2^50 ns: about 13 days of simulated time, 8 times below 2^53. */
export const SIMULATED_NS_MAX = 2 ** 50
export const TimeNs = intIn(0, SIMULATED_NS_MAX, 'a time in ns 0..2^50 (about 13 days)')
export const PosTimeNs = intIn(1, SIMULATED_NS_MAX, 'a time in ns 1..2^50 (about 13 days)')

/** settings.ioNs when absent; engine/run.ts DEFAULT_IO_NS has the same value. */
export const IO_NS_DEFAULT = 5_000

/**
 * Pages per op that wait for a block I/O: read and write fill pages, writeback writes them, map
 * and touch fault them in. A table keyed by the op's name, so a new op does not compile until it
 * says how much it sleeps.
 */
const pagesOfIo = (op: { count?: number }): number => op.count ?? 1
const none = (): number => 0
const ioPagesOf: { [K in Op['op']]: (op: Extract<Op, { op: K }>) => number } = {
  alloc: none,
  free: none,
  drain: none,
  pressure: none,
  churn: none,
  idle: none,
  barrier: none,
  repeat: none,
  read: pagesOfIo,
  write: pagesOfIo,
  writeback: pagesOfIo,
  drop: none,
  map: pagesOfIo,
  touch: pagesOfIo,
  unmap: none,
  fork: none,
  exit: none,
  anon: none,
  'anon-write': none,
  mprotect: none,
  munmap: none,
  rmap: none,
  reclaim: none,
  'cpu-down': none,
  'cpu-up': none,
  'hot-remove': none,
  'contig-alloc': none,
}

/** The longest an isolation op's migrate loop sleeps: until its timeout, and one wait past it. */
const isolationSleepNs = (op: Op): number => (op.op === 'hot-remove' || op.op === 'contig-alloc' ? (op.timeoutNs ?? 100_000_000) + (op.retryWaitNs ?? 100_000) : 0)
const ioPages = (op: Op): number => (ioPagesOf[op.op] as (op: Op) => number)(op)

export interface TimeOverrun {
  /** JSON path of the op at which the sum first passes SIMULATED_NS_MAX. */
  readonly path: readonly (string | number)[]
  readonly ns: number
}

/**
 * The first op at which the time the workload sleeps, summed over all CPUs (an upper bound of
 * any one CPU's), passes SIMULATED_NS_MAX; null when it never does.
 */
export const simulatedTimeOverrun = (w: Workload): TimeOverrun | null => {
  const thinkNs = w.settings?.thinkNs ?? 0
  const ioNs = w.settings?.ioNs ?? IO_NS_DEFAULT
  let total = 0
  const walk = (ops: readonly Op[], times: number, path: readonly (string | number)[]): TimeOverrun | null => {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!
      const at = [...path, i]
      if (op.op === 'repeat') {
        const r = walk(op.ops, times * op.times, [...at, 'ops'])
        if (r !== null) return r
        continue
      }
      if (op.op === 'barrier') continue
      total += times * (thinkNs + (op.op === 'idle' ? op.ns : 0) + isolationSleepNs(op) + ioPages(op) * ioNs)
      if (total > SIMULATED_NS_MAX) return { path: at, ns: total }
    }
    return null
  }
  return walk(w.ops, 1, ['ops'])
}

/** A workload codec that also refuses a workload whose sleeps add up past SIMULATED_NS_MAX. */
export const withTimeBound = <C extends t.Type<Workload, unknown, unknown>>(inner: C): t.Type<Workload, unknown, unknown> =>
  new t.Type<Workload, unknown, unknown>(
    inner.name,
    (u): u is Workload => inner.is(u) && simulatedTimeOverrun(u) === null,
    (u, c) => {
      const r = inner.validate(u, c)
      if (r._tag === 'Left') return r
      const over = simulatedTimeOverrun(r.right)
      if (over === null) return r
      const context = [...c, ...over.path.map((k) => ({ key: String(k), type: t.unknown, actual: undefined }))]
      return t.failure(
        undefined,
        context,
        `simulated time: the idle, think and I/O time of the ops reach ${over.ns > Number.MAX_SAFE_INTEGER ? 'more than 2^53' : over.ns} ns here, past 2^50 ns (about 13 days): lower the times or the repeat counts`,
      )
    },
    (a) => inner.encode(a),
  )
