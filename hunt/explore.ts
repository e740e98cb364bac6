// `mmsim explore` as a function: simulate the schedules of a range of seeds in memory, at the
// simulator's speed, and report the failing ones; nothing is stored here (keep.ts re-runs the
// failing seeds into a database). Without `all`, exploration stops at the first failure but
// still finishes every seed below it, so the answer is the lowest failing seed of the range
// whatever the number of workers; with `all`, every seed is explored and every failing one
// reported. Workers are threads (exploreWorker.ts), each simulating whole schedules.
import { cpus } from 'node:os'
import type { Worker } from 'node:worker_threads'
import type { ResolvedConfig } from '../engine/config'
import { compileOrThrow } from '../engine/run'
import { AssertionFailed, assert } from '../lib'
import { startThread } from '../lib/thread'
import type { Workload } from '../workload/codec'
import { SeedClaims } from './claims'
import { simulateSchedule, type ScheduleOutcome } from './schedule'
import { lastSeed, type SeedRange } from './seedRange'

export interface ExploreSpec {
  /** The workload with its variants set. */
  readonly workload: Workload
  readonly range: SeedRange
  /** The engine configuration of every schedule (stopOnViolation: a schedule ends at its first finding). */
  readonly config: ResolvedConfig
  /** Explore the whole range and report every failing seed, rather than stop at the first. */
  readonly all: boolean
}

export interface ExploreHooks {
  /** Worker threads; 1 (the default) explores on the calling thread. */
  readonly workers?: number
  /** Called as schedules complete: how many, of the range, and how many failed. */
  readonly onProgress?: (done: number, total: number, failing: number) => void
  /** Checked between schedules; a non-null value stops the exploration (a signal). */
  readonly interrupted?: () => string | null
}

export interface ExploreResult {
  readonly range: { readonly from: number; readonly to: number; readonly count: number }
  readonly all: boolean
  /**
   * The seeds whose outcome the answer rests on: the whole range with `all`, else every seed up
   * to the lowest failing one (the same for any number of workers), or as far as an interrupt let
   * the exploration go without a gap.
   */
  readonly explored: number
  /** Their events. */
  readonly events: number
  /** Failing schedules in seed order: with `all` every one, else the lowest (none when nothing failed). */
  readonly failing: readonly ScheduleOutcome[]
  /** The range was covered as asked (false: interrupted). */
  readonly complete: boolean
  readonly interrupted: string | null
  /** What was simulated, for throughput: workers may have gone past the lowest failing seed. */
  readonly simulated: { readonly schedules: number; readonly events: number; readonly wallMs: number; readonly workers: number }
}

/** A schedule that crashed the simulator (an assertion of mmsim's own): a bug, reported with its seed. */
export class ScheduleCrashed extends AssertionFailed {
  constructor(
    readonly seed: number,
    why: string,
  ) {
    super(`seed ${seed}: ${why}`)
  }
}

/** What a worker thread sends for each schedule, and when it stops. */
export type FromExplorer =
  | { readonly kind: 'schedule'; readonly index: number; readonly outcome: ScheduleOutcome }
  | { readonly kind: 'crashed'; readonly seed: number; readonly message: string }
  | { readonly kind: 'done' }

export interface ExplorerInit {
  readonly spec: ExploreSpec
  readonly claims: SharedArrayBuffer
}

/** Worker threads at most: more than the machine's cores only adds contention. */
export const workersMax = (): number => Math.max(1, cpus().length * 4)

/** Collects outcomes by index as they arrive, in any order. */
class Tally {
  readonly outcomes: (ScheduleOutcome | undefined)[] = []
  done = 0
  failing = 0
  simulatedEvents = 0

  add(index: number, o: ScheduleOutcome): void {
    assert(this.outcomes[index] === undefined, 'each seed is explored once')
    this.outcomes[index] = o
    this.done++
    this.simulatedEvents += o.events
    if (o.failed) this.failing++
  }
}

/** The main thread explores alone, yielding to the event loop between schedules (signals, progress). */
const exploreHere = async (spec: ExploreSpec, claims: SeedClaims, tally: Tally, hooks: ExploreHooks): Promise<string | null> => {
  for (let i = claims.claim(); i !== null; i = claims.claim()) {
    const seed = spec.range.from + i
    let o: ScheduleOutcome
    try {
      o = simulateSchedule(spec.workload, seed, spec.config)
    } catch (err) {
      if (err instanceof AssertionFailed) throw new ScheduleCrashed(seed, err.message)
      throw err
    }
    if (o.failed) claims.failed(i)
    tally.add(i, o)
    hooks.onProgress?.(tally.done, spec.range.count, tally.failing)
    await new Promise((r) => setImmediate(r))
    const reason = hooks.interrupted?.() ?? null
    if (reason !== null) {
      claims.abort()
      return reason
    }
  }
  return null
}

/** `workers` threads explore; this thread gathers their outcomes and watches for an interrupt. */
const exploreInThreads = (spec: ExploreSpec, claims: SeedClaims, tally: Tally, hooks: ExploreHooks, workers: number): Promise<string | null> =>
  new Promise((resolve, reject) => {
    const init: ExplorerInit = { spec, claims: claims.buffer }
    const threads: Worker[] = []
    let running = workers
    let crash: Error | null = null
    let reason: string | null = null
    const watch = setInterval(() => {
      reason ??= hooks.interrupted?.() ?? null
      if (reason !== null) claims.abort()
    }, 50)
    const ended = () => {
      if (--running > 0) return
      clearInterval(watch)
      if (crash !== null) reject(crash)
      else resolve(reason)
    }
    for (let t = 0; t < workers; t++) {
      const w = startThread('hunt/exploreWorker', { workerData: init })
      threads.push(w)
      let finished = false
      w.on('message', (m: FromExplorer) => {
        if (m.kind === 'schedule') {
          tally.add(m.index, m.outcome)
          hooks.onProgress?.(tally.done, spec.range.count, tally.failing)
        } else if (m.kind === 'crashed') {
          crash ??= new ScheduleCrashed(m.seed, m.message)
          claims.abort()
        } else finished = true
      })
      w.on('error', (err) => {
        crash ??= err
        claims.abort()
      })
      w.on('exit', () => {
        if (!finished) {
          crash ??= new Error('an explorer thread ended before its work did')
          claims.abort()
        }
        ended()
      })
    }
  })

/** Explores `spec.range`; see the file's head. */
export const explore = async (spec: ExploreSpec, hooks: ExploreHooks = {}): Promise<ExploreResult> => {
  // A workload the engine refuses is refused once, here, not once per schedule.
  compileOrThrow(spec.workload)
  const workers = hooks.workers ?? 1
  assert(Number.isSafeInteger(workers) && workers >= 1, 'at least one explorer')
  const { count } = spec.range
  const claims = new SeedClaims(SeedClaims.buffer(count), count, spec.all)
  const tally = new Tally()
  const started = performance.now()
  const interrupted = workers === 1 ? await exploreHere(spec, claims, tally, hooks) : await exploreInThreads(spec, claims, tally, hooks, workers)
  const wallMs = performance.now() - started
  return summarize(spec, tally, interrupted, { schedules: tally.done, events: tally.simulatedEvents, wallMs, workers })
}

/** The answer from the outcomes: the same whatever order they came in. */
const summarize = (spec: ExploreSpec, tally: Tally, interrupted: string | null, simulated: ExploreResult['simulated']): ExploreResult => {
  const { from, count } = spec.range
  const o = tally.outcomes
  // The explored prefix: every seed up to the lowest failing one (or the first gap an interrupt left).
  let explored = 0
  let events = 0
  const failing: ScheduleOutcome[] = []
  while (explored < count && o[explored] !== undefined) {
    const s = o[explored++]!
    events += s.events
    if (!s.failed) continue
    failing.push(s)
    if (!spec.all) break
  }
  const complete = interrupted === null
  if (complete) assert(explored === count || (!spec.all && failing.length === 1), 'an exploration that ran to its end covered its range up to its answer')
  return { range: { from, to: lastSeed(spec.range), count }, all: spec.all, explored, events, failing, complete, interrupted, simulated }
}
