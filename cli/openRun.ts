// The preamble every read command shares: open the database read-only, pick the run (the newest
// by default), check that --at and --pfn name something the run has, and close the file after.
// A question about something the run does not have is an error (exit 2), never a quiet clamp.
import type { MachineBooted } from '../events'
import { getRun, latestRunId, openForRead, readEvents, type Db, type RunRow } from '../storage'
import { UsageError } from './args'
import { hex } from './eventText'

export interface OpenRun {
  readonly db: Db
  readonly file: string
  readonly run: RunRow
}

export interface RunQuery {
  readonly file: string
  readonly run?: number | undefined
  /** A seq the command folds to; must be in 1..head_seq. */
  readonly at?: number | undefined
}

/** Runs `body` over the chosen run of an open database; the file is closed however it ends. */
export const withRun = <A>(command: string, q: RunQuery, body: (r: OpenRun) => A): A => {
  const db = openForRead(q.file)
  try {
    const run = getRun(db, q.file, q.run ?? latestRunId(db, q.file))
    if (q.at !== undefined) checkSeq(command, '--at', run, q.at)
    return body({ db, file: q.file, run })
  } finally {
    db.close()
  }
}

/** The newest run's id, for a command that takes --run with that default. */
export const latestRun = (file: string): number => {
  const db = openForRead(file)
  try {
    return latestRunId(db, file)
  } finally {
    db.close()
  }
}

const span = (run: RunRow): string => (run.head_seq === 0 ? 'has no events' : `has events seq 1..${run.head_seq}`)

/** A seq asked for must be one the run stored. */
export const checkSeq = (command: string, flag: string, run: RunRow, seq: number): void => {
  if (seq > run.head_seq) throw new UsageError(`${command}: ${flag} ${seq} is past the end of run ${run.id}, which ${span(run)}${run.status === 'running' ? ' so far' : ''}`)
}

/** The machine a run simulated (its first event), or null for a run that stored none. */
export const machineOf = (r: OpenRun): MachineBooted['data'] | null => {
  for (const e of readEvents(r.db, r.file, r.run.id, { toSeq: 1 })) if (e.type === 'MachineBooted') return e.data
  return null
}

/** A frame asked for must be one of the machine's: inside a zone. */
export const checkPfn = (command: string, r: OpenRun, pfn: number): MachineBooted['data'] => {
  const m = machineOf(r)
  if (m === null) throw new UsageError(`${command}: --pfn: run ${r.run.id} has no events, so no machine to look at`)
  if (m.zones.some((z) => pfn >= z.startPfn && pfn < z.startPfn + z.pages)) return m
  const zones = m.zones.map((z) => `${z.name} ${hex(z.startPfn)}..${hex(z.startPfn + z.pages - 1)}`).join(', ')
  throw new UsageError(`${command}: --pfn ${hex(pfn)} (${pfn}) is outside the machine of run ${r.run.id} (${zones})`)
}
