// `mmsim runs`: the runs in a database, newest last.
import * as t from 'io-ts'
import { isStale, listRuns, openForRead, type RunRow } from '../../storage'
import { StringArg, parseCommand } from '../args'
import { formatCount, table } from '../format'
import { EXIT_OK, type Io } from '../io'

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
})

export const listStoredRuns = (dbFile: string): RunListing[] => {
  const db = openForRead(dbFile)
  try {
    return listRuns(db, dbFile).map(toListing)
  } finally {
    db.close()
  }
}

export const runsCommand = async (argv: readonly string[], io: Io): Promise<number> => {
  const { opts } = parseCommand('runs', argv, { db: { type: 'string' }, json: { type: 'boolean' } }, { db: StringArg, json: t.boolean })
  const runs = listStoredRuns((opts.db as string | undefined) ?? 'mmsim.db')
  if (opts.json) {
    for (const r of runs) io.out(`${JSON.stringify(r)}\n`)
    return EXIT_OK
  }
  io.out(
    table(
      ['run', 'created', 'workload', 'seed', 'status', 'outcome', 'events', 'violations'],
      runs.map((r) => [String(r.id), r.createdAt.replace('T', ' ').slice(0, 19), r.workload, String(r.seed), r.status, r.outcome ?? '-', formatCount(r.events), String(r.violations)]),
    ),
  )
  return EXIT_OK
}
