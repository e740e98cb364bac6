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
  /** Worker threads, started for this exploration; 1 (the default) explores on the calling thread. */
  readonly workers?: number
  /** Threads kept across explorations (ExplorerPool); instead of `workers`. */
  readonly pool?: ExplorerPool
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

/** An exploration for a pool's thread: the spec, and the claims it shares with the other threads. */
export interface ExplorerJob {
  readonly kind: 'explore'
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
  const compiled = compileOrThrow(spec.workload)
  for (let i = claims.claim(); i !== null; i = claims.claim()) {
    const seed = spec.range.from + i
    let o: ScheduleOutcome
    try {
      o = simulateSchedule(spec.workload, seed, spec.config, { compiled })
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

/**
 * Worker threads kept for several explorations (a library user that explores again and again:
 * forks from many points, shrink candidates), so that each pays the thread's start and the JIT's
 * warm-up once. Idle threads do not keep the process alive; close() ends them.
 */
export class ExplorerPool {
  private readonly threads: Worker[]
  private busy = false
  private closed = false

  constructor(readonly size: number) {
    assert(Number.isSafeInteger(size) && size >= 1, 'a pool has a thread or more')
    this.threads = Array.from({ length: size }, () => {
      const w = startThread('hunt/exploreWorker', {})
      w.unref()
      return w
    })
  }

  /** The threads explore `spec` from the shared claims; this thread gathers their outcomes and watches for an interrupt. */
  run(spec: ExploreSpec, claims: SeedClaims, tally: Tally, hooks: ExploreHooks): Promise<string | null> {
    assert(!this.closed, 'an explorer pool is used until it is closed')
    assert(!this.busy, 'an explorer pool runs one exploration at a time')
    this.busy = true
    return new Promise((resolve, reject) => {
      const job: ExplorerJob = { kind: 'explore', spec, claims: claims.buffer }
      let running = this.threads.length
      let crash: Error | null = null
      let reason: string | null = null
      const watch = setInterval(() => {
        reason ??= hooks.interrupted?.() ?? null
        if (reason !== null) claims.abort()
      }, 50)
      const detach: (() => void)[] = []
      const ended = () => {
        if (--running > 0) return
        clearInterval(watch)
        for (const d of detach) d()
        this.busy = false
        if (crash !== null) {
          this.closed = true
          void this.close()
          reject(crash)
        } else resolve(reason)
      }
      for (const w of this.threads) {
        let done = false
        const onMessage = (m: FromExplorer) => {
          if (m.kind === 'schedule') {
            tally.add(m.index, m.outcome)
            hooks.onProgress?.(tally.done, spec.range.count, tally.failing)
          } else if (m.kind === 'crashed') {
            crash ??= new ScheduleCrashed(m.seed, m.message)
            claims.abort()
          } else if (!done) {
            done = true
            ended()
          }
        }
        // A thread that dies (an error outside any schedule) ends its part and the pool.
        const onGone = (err?: unknown) => {
          crash ??= err instanceof Error ? err : new Error('an explorer thread ended before its work did')
          claims.abort()
          if (!done) {
            done = true
            ended()
          }
        }
        w.on('message', onMessage)
        w.on('error', onGone)
        w.on('exit', onGone)
        detach.push(() => {
          w.off('message', onMessage)
          w.off('error', onGone)
          w.off('exit', onGone)
          w.unref()
        })
        w.ref()
        w.postMessage(job)
      }
    })
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.threads.map((t) => t.terminate()))
  }
}

/** Explores `spec.range`; see the file's head. */
export const explore = async (spec: ExploreSpec, hooks: ExploreHooks = {}): Promise<ExploreResult> => {
  // A workload the engine refuses is refused once, here, not once per schedule.
  compileOrThrow(spec.workload)
  const workers = hooks.pool?.size ?? hooks.workers ?? 1
  assert(Number.isSafeInteger(workers) && workers >= 1, 'at least one explorer')
  const { count } = spec.range
  const claims = new SeedClaims(SeedClaims.buffer(count), count, spec.all)
  const tally = new Tally()
  const started = performance.now()
  let interrupted: string | null
  if (hooks.pool !== undefined) interrupted = await hooks.pool.run(spec, claims, tally, hooks)
  else if (workers === 1) interrupted = await exploreHere(spec, claims, tally, hooks)
  else {
    const pool = new ExplorerPool(workers)
    try {
      interrupted = await pool.run(spec, claims, tally, hooks)
    } finally {
      await pool.close()
    }
  }
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
