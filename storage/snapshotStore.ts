// The snapshots table: a run's snapshots, their metadata and bytes. Snapshots are derived data
// (a fold of the run's events): every use of one verifies it first (analysis/stateAt.ts), and
// `mmsim snapshot` replaces a run's whole set in one transaction, so rows may be deleted but
// never changed.
import type { Statement } from 'better-sqlite3'
import type { Db } from './open'
import { BLOCK_EVENTS } from './schema'
import type { SnapshotRow } from './snapshotChain'

/** A stored snapshot without its bytes. */
export interface SnapshotMeta extends Omit<SnapshotRow, 'bytes'> {
  /** Its stored (compressed) size. */
  readonly storedBytes: number
}

const hasTable = new WeakMap<Db, boolean>()

/** Prepared statements by connection: a time-travel question looks up a few rows, and preparing them each time was a tenth of a restore. */
const statements = new WeakMap<Db, Map<string, Statement>>()
const prepared = (db: Db, sql: string): Statement => {
  let m = statements.get(db)
  if (m === undefined) statements.set(db, (m = new Map()))
  let st = m.get(sql)
  if (st === undefined) m.set(sql, (st = db.prepare(sql)))
  return st
}

/** Schema 4 and later have the table; an older file, read as it is, has no snapshots. */
export const hasSnapshotsTable = (db: Db): boolean => {
  let has = hasTable.get(db)
  if (has === undefined) {
    has = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'snapshots'").pluck().get() === 1
    hasTable.set(db, has)
  }
  return has
}

export const insertSnapshot = (db: Db, runId: number, r: SnapshotRow): void => {
  db.prepare('INSERT INTO snapshots (run_id, seq, kind, base_seq, head_hash, checksum, raw_bytes, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    runId,
    r.seq,
    r.kind,
    r.baseSeq,
    r.headHash,
    r.checksum,
    r.rawBytes,
    r.bytes,
  )
}

const META = 'seq, kind, base_seq AS baseSeq, head_hash AS headHash, checksum, raw_bytes AS rawBytes, length(bytes) AS storedBytes'

/** A run's snapshots at or before `upTo`, by seq. */
export const listSnapshots = (db: Db, runId: number, upTo = Number.MAX_SAFE_INTEGER): SnapshotMeta[] =>
  hasSnapshotsTable(db) ? (db.prepare(`SELECT ${META} FROM snapshots WHERE run_id = ? AND seq <= ? ORDER BY seq`).all(runId, upTo) as SnapshotMeta[]) : []

/** The run's snapshot at `seq`, if any. */
export const snapshotAt = (db: Db, runId: number, seq: number): SnapshotMeta | null =>
  hasSnapshotsTable(db) ? ((prepared(db, `SELECT ${META} FROM snapshots WHERE run_id = ? AND seq = ?`).get(runId, seq) as SnapshotMeta | undefined) ?? null) : null

/** The run's last snapshot before `seq`, if any (one index lookup: a run may have thousands). */
export const snapshotBefore = (db: Db, runId: number, seq: number): SnapshotMeta | null =>
  hasSnapshotsTable(db)
    ? ((prepared(db, `SELECT ${META} FROM snapshots WHERE run_id = ? AND seq < ? ORDER BY seq DESC LIMIT 1`).get(runId, seq) as SnapshotMeta | undefined) ?? null)
    : null

export const snapshotBytes = (db: Db, runId: number, seq: number): Buffer | null =>
  (prepared(db, 'SELECT bytes FROM snapshots WHERE run_id = ? AND seq = ?').pluck().get(runId, seq) as Buffer | undefined) ?? null

export const deleteSnapshots = (db: Db, runId: number): number => db.prepare('DELETE FROM snapshots WHERE run_id = ?').run(runId).changes

/** The hash of the run's block that ends at `seq` (a snapshot's head), or null when no block ends there. */
export const blockHashAt = (db: Db, runId: number, seq: number): string | null => {
  if (seq % BLOCK_EVENTS !== 0) return null
  const b = prepared(db, 'SELECT last_seq, hash FROM event_blocks WHERE run_id = ? AND block = ?').get(runId, seq / BLOCK_EVENTS - 1) as
    { last_seq: number; hash: string } | undefined
  return b !== undefined && b.last_seq === seq ? b.hash : null
}
