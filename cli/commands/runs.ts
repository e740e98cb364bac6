// `mmsim runs`: the runs in a database, newest last.
import { isStale, listRuns, openForRead, runLineage, type RunLineage, type RunRow } from '../../storage'
import { DB_DEFAULT, DB_OPT, JSON_OPT, type CommandSpec } from '../command'
import { formatCount, table } from '../format'
import { EXIT_OK } from '../io'
import { printable } from '../text'

export interface RunListing {
  readonly id: number
  readonly createdAt: string
  readonly workload: string
  readonly source: string
  readonly seed: number
  readonly status: string
  readonly outcome: string | null
  readonly reason: string | null
  readonly events: number
  readonly violations: number
  readonly engineVersion: string
  readonly headHash: string
  /**
   * The run this one replays or forks, how, the fork point, the schedule's seed (null before
   * schema 4), and where it stopped following its parent's schedule (seq, decision index).
   */
  readonly lineage: RunLineage
  /** The run's stable identity (schema 5; null in an older file): its uuid and the digest of what it runs. */
  readonly uuid: string | null
  readonly digest: string | null
  /** The schedule strategy of its configuration (random for runs stored before there was a choice). */
  readonly strategy: string
}

const toListing = (r: RunRow): RunListing => ({
  id: r.id,
  createdAt: r.created_at,
  workload: r.workload_name,
  source: r.workload_source,
  seed: r.seed,
  // A run whose process died still says 'running' in the file until a writer reaps it.
  status: isStale(r) ? 'interrupted' : r.status,
  outcome: r.outcome,
  reason: isStale(r) ? `process ${r.pid} is gone` : r.reason,
  events: r.head_seq,
  violations: r.violations,
  engineVersion: r.engine_version,
  headHash: r.head_hash,
  lineage: runLineage(r),
  uuid: r.uuid,
  digest: r.digest,
  strategy: strategyOf(r.config),
})

const strategyOf = (config: string): string => {
  try {
    const c = JSON.parse(config) as { strategy?: unknown }
    return typeof c.strategy === 'string' ? c.strategy : 'random'
  } catch {
    return '?'
  }
}

/** `replay of 1`, `fork of 1 at 500`, or '-' for a run of a workload alone. */
export const lineageText = (l: RunLineage): string =>
  l.parentRun === null ? '-' : l.derivation === 'fork' ? `fork of ${l.parentRun} at ${l.forkSeq}` : `${l.derivation ?? 'derived'} of ${l.parentRun}`

export const listStoredRuns = (dbFile: string): RunListing[] => {
  const db = openForRead(dbFile)
  try {
    return listRuns(db, dbFile).map(toListing)
  } finally {
    db.close()
  }
}

const options = { db: DB_OPT, json: JSON_OPT }

export const runsSpec: CommandSpec<typeof options> = {
  name: 'runs',
  summary: 'list the runs in the database',
  description:
    'Lists the runs: id, time, workload, seed, status (running, finished, failed, interrupted), outcome, events, violations, ' +
    'and for a replay or a fork the run it came from (`fork of 1 at 500`: events 1..500 follow run 1).',
  examples: ['mmsim runs', 'mmsim runs --db mmsim.db --json'],
  options,
  action: (opts, { io }) => {
    const runs = listStoredRuns(opts.db ?? DB_DEFAULT)
    if (opts.json) {
      for (const r of runs) io.out(`${JSON.stringify(r)}\n`)
      return EXIT_OK
    }
    io.out(
      table(
        ['run', 'created', 'workload', 'seed', 'strategy', 'status', 'outcome', 'events', 'violations', 'from'],
        runs.map((r) => [
          String(r.id),
          r.createdAt.replace('T', ' ').slice(0, 19),
          printable(r.workload),
          String(r.seed),
          r.strategy,
          r.status,
          r.outcome ?? '-',
          formatCount(r.events),
          String(r.violations),
          lineageText(r.lineage),
        ]),
      ),
    )
    return EXIT_OK
  },
}
