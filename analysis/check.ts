// Checking a stored run: its integrity (both hash chains), the findings it recorded, and every
// state invariant at a chosen seq, each reported with the first seq at which it fails.
import { checkInvariants, stateInvariants, type MmState } from '../projections'
import { StoreError, getRun, verifyRun, type Db, type IntegrityResult } from '../storage'
import { foldRun } from './fold'

export interface StateFinding {
  readonly name: string
  readonly message: string
  /** The first seq after which the invariant does not hold. */
  readonly firstSeq: number
}

export interface CheckReport {
  readonly run: number
  readonly atSeq: number
  readonly integrity: IntegrityResult
  readonly checked: readonly string[]
  readonly recorded: readonly { seq: number; name: string; message: string }[]
  readonly state: readonly StateFinding[]
}

/** Checks spaced so that a run of any length costs about this many full checks, plus a refinement. */
const CHECKPOINTS = 64

const failing = (s: MmState): Map<string, string> => new Map(checkInvariants(stateInvariants, s).map((v) => [v.name, v.message]))

/**
 * Invariant findings at `atSeq`, each with the first seq it fails: a forward fold checked at
 * intervals brackets the first failure, then a second fold steps through that interval one
 * event at a time.
 */
const stateFindings = (db: Db, file: string, runId: number, atSeq: number): StateFinding[] => {
  const every = Math.max(1, Math.floor(atSeq / CHECKPOINTS))
  let lastGood = 0
  let firstBad = -1
  foldRun(db, file, runId, atSeq, (s, e) => {
    if (firstBad >= 0 || (e.seq % every !== 0 && e.seq !== atSeq)) return
    if (failing(s).size === 0) lastGood = e.seq
    else firstBad = e.seq
  })
  if (firstBad < 0) return []
  const found = new Map<string, StateFinding>()
  foldRun(db, file, runId, atSeq, (s, e) => {
    if (e.seq <= lastGood || e.seq > atSeq) return
    for (const [name, message] of failing(s)) if (!found.has(name)) found.set(name, { name, message, firstSeq: e.seq })
  })
  return [...found.values()].sort((a, b) => a.firstSeq - b.firstSeq || (a.name < b.name ? -1 : 1))
}

export const checkRun = (db: Db, file: string, runId: number, at?: number): CheckReport => {
  const run = getRun(db, file, runId)
  const integrity = verifyRun(db, runId, run.head_seq, run.head_hash)
  const atSeq = Math.min(at ?? run.head_seq, run.head_seq)
  const recorded: { seq: number; name: string; message: string }[] = []
  const base = { run: runId, integrity, checked: stateInvariants.map((i) => i.name) }
  // A run that stored no event (its process killed before the first batch) is valid and
  // verifiable: there is nothing to fold, so no invariant can fail.
  if (run.head_seq === 0) return { ...base, atSeq: 0, recorded, state: [] }
  try {
    const { lastSeq } = foldRun(db, file, runId, atSeq, (_s, e) => {
      if (e.type === 'InvariantViolated') recorded.push({ seq: e.seq, name: e.data.name, message: e.data.message })
    })
    return { ...base, atSeq: lastSeq, recorded, state: stateFindings(db, file, runId, lastSeq) }
  } catch (err) {
    // An altered row may no longer fold; the integrity failure already says where.
    if (!integrity.ok && err instanceof StoreError) return { ...base, atSeq: integrity.seq - 1, recorded, state: [] }
    throw err
  }
}
