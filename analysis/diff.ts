// Two stored runs side by side (`mmsim diff`): the first seq at which they differ, then what each
// run came to: events by type, page-state transitions, the zone's free blocks at its end
// (/proc/buddyinfo), and the findings it recorded. Read side only: folds, never a simulator.
import { eventsByType, renderBuddyinfo, type MmState } from '../projections'
import { getRun, type Db, type RunRow } from '../storage'
import { compareByFor, firstDivergence, firstDivergenceAfterBoot, type CompareBy, type Divergence } from './compare'
import { stateAt } from './stateAt'

/** Findings listed per run; the rest are counted. */
const FINDINGS_LISTED = 20

export interface RunSide {
  readonly id: number
  readonly workload: string
  readonly seed: number
  readonly events: number
  readonly headHash: string
  readonly hashVersion: number
  readonly outcome: string | null
  readonly eventsByType: Record<string, number>
  /** Page-state transitions by "from>to" (guest page hinting); empty when the guest does not hint. */
  readonly transitions: Record<string, number>
  /** The zone's free blocks per order at the run's last event, as /proc/buddyinfo prints them. */
  readonly buddyinfo: string
  readonly findings: { readonly count: number; readonly first: readonly { seq: number; name: string; message: string }[] }
}

export interface RunDiff {
  readonly a: RunSide
  readonly b: RunSide
  /** hash: by the per-event chain hash (both runs hash rows alike); row: by the rows' columns. */
  readonly by: CompareBy
  /** The same events, seq for seq. */
  readonly identical: boolean
  readonly divergence: Divergence | null
  /**
   * When the runs differ at seq 1 only in the variants the machine names (the same workload under
   * another variant), the first seq after it where they differ, by the rows' columns; else null.
   */
  readonly afterBoot: Divergence | null
}

const sorted = (m: ReadonlyMap<string, number>): Record<string, number> => Object.fromEntries([...m.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))

const side = (run: RunRow, s: MmState | null): RunSide => ({
  id: run.id,
  workload: run.workload_name,
  seed: run.seed,
  events: run.head_seq,
  headHash: run.head_hash,
  hashVersion: run.hash_version,
  outcome: run.outcome,
  eventsByType: s === null ? {} : eventsByType(s.stats),
  transitions: s?.pages ? sorted(s.pages.transitions) : {},
  buddyinfo: s === null ? '' : renderBuddyinfo(s.zone),
  findings: { count: s?.stats.violations.length ?? 0, first: s?.stats.violations.slice(0, FINDINGS_LISTED) ?? [] },
})

/** The run's state at its head: from its nearest snapshot that verifies (stateAt.ts), folded from seq 1 only without one. */
const folded = (db: Db, file: string, run: RunRow): MmState | null => (run.head_seq === 0 ? null : stateAt(db, file, run.id, run.head_seq).state)

/** Compares runs `aId` and `bId` of one database; identical runs are folded once. */
export const diffRuns = (db: Db, file: string, aId: number, bId: number): RunDiff => {
  const a = getRun(db, file, aId)
  const b = getRun(db, file, bId)
  const by = compareByFor(a, b)
  const { divergence } = firstDivergence(db, a, b, by)
  const afterBoot = divergence?.seq === 1 ? (firstDivergenceAfterBoot(db, a, b)?.divergence ?? null) : null
  const sa = folded(db, file, a)
  const sb = divergence === null ? sa : folded(db, file, b)
  return { a: side(a, sa), b: side(b, sb), by, identical: divergence === null, divergence, afterBoot }
}
