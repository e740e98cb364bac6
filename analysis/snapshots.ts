// `mmsim snapshot`: (re)builds a run's snapshots by folding its events, for a run stored without
// them (`mmsim run --snapshot-every 0`, or an engine older than snapshots) or to change how often
// they are taken. The same code as a run's writer thread makes the rows (storage/snapshotChain.ts);
// the run's old set is replaced.
import type { MmEvent } from '../events'
import { StateCapture, type MmState } from '../projections'
import {
  BLOCK_EVENTS,
  CHAIN_POLICY_DEFAULT,
  SnapshotChain,
  StoreError,
  blockHashAt,
  deleteSnapshots,
  getRun,
  insertSnapshot,
  isStale,
  listSnapshots,
  openForRead,
  type ChainPolicy,
  type Db,
  type SnapshotRow,
} from '../storage'
import { foldRun } from './fold'

export interface SnapshotSummary {
  readonly run: number
  readonly snapshots: number
  readonly full: number
  readonly delta: number
  /** Their stored (compressed) bytes, and before compression. */
  readonly storedBytes: number
  readonly rawBytes: number
  readonly firstSeq: number | null
  readonly lastSeq: number | null
}

export const snapshotSummary = (db: Db, runId: number): SnapshotSummary => {
  const metas = listSnapshots(db, runId)
  return {
    run: runId,
    snapshots: metas.length,
    full: metas.filter((m) => m.kind === 'full').length,
    delta: metas.filter((m) => m.kind === 'delta').length,
    storedBytes: metas.reduce((a, m) => a + m.storedBytes, 0),
    rawBytes: metas.reduce((a, m) => a + m.rawBytes, 0),
    firstSeq: metas[0]?.seq ?? null,
    lastSeq: metas[metas.length - 1]?.seq ?? null,
  }
}

/** Rows built and not yet stored, at most this many bytes: then they are committed, so memory stays bounded. */
const PENDING_BYTES_MAX = 32 << 20

/** Takes a snapshot of the folded state every `every` events: the rows the writer thread would have stored. */
class Taker {
  private readonly chain: SnapshotChain
  private readonly capture = new StateCapture()

  constructor(
    private readonly db: Db,
    private readonly runId: number,
    policy: ChainPolicy,
  ) {
    this.chain = new SnapshotChain(policy)
  }

  take(s: MmState, seq: number): SnapshotRow {
    const head = blockHashAt(this.db, this.runId, seq)
    if (head === null) throw new StoreError(`run ${this.runId}: no hash block ends at seq ${seq}, so no snapshot can be taken there`)
    return this.chain.next({ seq, ...this.capture.capture(s) }, head)
  }
}

/**
 * Replaces the snapshots of run `runId` with one every `every` events (a multiple of
 * BLOCK_EVENTS), built by folding its events; `db` is a connection that may write to `file`. A
 * run still being written is refused: its writer stores its own.
 */
export const buildSnapshots = (db: Db, file: string, runId: number, every: number, policy: ChainPolicy = CHAIN_POLICY_DEFAULT): SnapshotSummary => {
  if (every <= 0 || every % BLOCK_EVENTS !== 0) throw new StoreError(`snapshots are taken at hash block boundaries: every must be a multiple of ${BLOCK_EVENTS}, not ${every}`)
  const run = getRun(db, file, runId)
  if (run.status === 'running' && !isStale(run)) throw new StoreError(`${file}: run ${runId} is still running (process ${run.pid}); build its snapshots once it has ended`)
  const taker = new Taker(db, runId, policy)
  let pending: SnapshotRow[] = []
  let pendingBytes = 0
  let replaced = false
  const commit = () =>
    db
      .transaction(() => {
        if (!replaced) deleteSnapshots(db, runId)
        for (const r of pending) insertSnapshot(db, runId, r)
      })
      .immediate()
  const onEvent = (s: MmState, e: MmEvent) => {
    if (e.seq % every !== 0) return
    const row = taker.take(s, e.seq)
    pending.push(row)
    pendingBytes += row.bytes.length
    if (pendingBytes < PENDING_BYTES_MAX) return
    commit()
    replaced = true
    pending = []
    pendingBytes = 0
  }
  // The fold reads on a connection of its own: this one commits rows while it goes on.
  const reader = openForRead(file)
  try {
    if (run.head_seq > 0) foldRun(reader, file, runId, run.head_seq, onEvent)
  } finally {
    reader.close()
  }
  commit()
  return snapshotSummary(db, runId)
}
