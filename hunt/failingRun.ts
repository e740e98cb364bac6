// A stored run that failed, loaded for the commands that re-simulate it many times in memory
// (shrink, inevitable): its workload, configuration (stopping at the first finding), seeds,
// recorded schedule, and the failure to keep: an invariant's first finding, or a deadlock.
import type { ResolvedConfig } from '../engine/config'
import type { ReplayInput } from '../engine/run'
import { getRun, openForRead, readRows, readSchedule } from '../storage'
import type { Workload } from '../workload/codec'
import { decodeWorkload } from '../workload/load'
import { decodeConfig, DeriveRefused } from './derive'
import type { Seeds, Target } from './shrink/candidate'

export interface FailingRunQuery {
  readonly db: string
  readonly runId: number
  /** The invariant to keep failing (default: the run's first finding). */
  readonly invariant?: string
}

export interface FailingRun {
  readonly workload: Workload
  readonly config: ResolvedConfig
  readonly seeds: Seeds
  /** The run's recorded schedule: followed, it re-makes the run, a fork or a replay as well. */
  readonly replay: ReplayInput
  readonly target: Target
}

export const loadFailingRun = (o: FailingRunQuery, command: string): FailingRun => {
  const db = openForRead(o.db)
  try {
    const run = getRun(db, o.db, o.runId)
    if (run.status === 'running') throw new DeriveRefused(`${command}: run ${run.id} is still being written (status running)`)
    const workload = decodeWorkload(JSON.parse(run.workload), `run ${run.id}'s workload`)
    const config = { ...decodeConfig(o.db, run), stopOnViolation: true }
    let target: Target | null = o.invariant !== undefined ? { _tag: 'Invariant', name: o.invariant } : null
    if (target === null) {
      for (const r of readRows(db, run.id, { types: ['InvariantViolated'] })) {
        target = { _tag: 'Invariant', name: String((JSON.parse(r.data) as { name?: unknown }).name) }
        break
      }
    }
    if (target === null && run.outcome !== null && run.outcome.startsWith('Deadlock')) target = { _tag: 'Deadlock' }
    if (target === null) throw new DeriveRefused(`${command}: run ${run.id} recorded no finding and no deadlock: nothing to search`)
    return { workload, config, seeds: { seed: run.seed, scheduleSeed: run.schedule_seed ?? run.seed }, replay: { schedule: readSchedule(db, o.db, run) }, target }
  } finally {
    db.close()
  }
}
