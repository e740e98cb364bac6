// Editing stored events behind the append-only triggers, as someone with the sqlite3 shell could:
// a batch's body is rewritten in the writer's own spelling (batchBody.ts), so that only the edited
// events differ, and its columns (last_seq, last_t, hashes) follow the edit unless told not to.
import type Database from 'better-sqlite3'
import { bodyElement, hashesBlob, hashesOf, scanBody, type StoredRow } from '../storage'

type Db = Database.Database

/** Drops the append-only triggers of the given tables. */
export const dropTriggers = (db: Db, tables: readonly string[]): void => {
  for (const t of tables) db.exec(`DROP TRIGGER ${t}_no_update; DROP TRIGGER ${t}_no_delete`)
}

interface Batch {
  readonly first_seq: number
  readonly last_seq: number
  readonly hashes: Buffer
  readonly body: string
}

const rowsOf = (b: Batch): StoredRow[] => {
  const rows = scanBody(b.body, b.first_seq, hashesOf(b.hashes))
  if (!Array.isArray(rows)) throw new Error(`batch ${b.first_seq} does not scan: ${rows.problem}`)
  return rows
}

/** The body of `rows`, as the writer spells it. */
export const bodyOf = (rows: readonly StoredRow[]): string => `[${rows.map((r) => bodyElement(r.t, r.cpu, r.type, r.pfn, r.npages, r.cause, r.data)).join(',')}]`

/** Writes a batch's rows back: its body, hashes, last seq and last time follow `rows`. */
const store = (db: Db, runId: number, first: number, rows: readonly StoredRow[]): void => {
  if (rows.length === 0) {
    db.prepare('DELETE FROM event_batches WHERE run_id = ? AND first_seq = ?').run(runId, first)
    return
  }
  db.prepare('UPDATE event_batches SET body = ?, hashes = ?, last_seq = ?, last_t = ? WHERE run_id = ? AND first_seq = ?').run(
    bodyOf(rows),
    hashesBlob(Float64Array.from(rows, (r) => r.h)),
    rows[rows.length - 1]!.seq,
    rows[rows.length - 1]!.t,
    runId,
    first,
  )
}

/** Every batch of the run that holds a seq from `fromSeq` on, in seq order. */
const batchesFrom = (db: Db, runId: number, fromSeq: number): Batch[] =>
  db.prepare('SELECT first_seq, last_seq, hashes, body FROM event_batches WHERE run_id = ? AND last_seq >= ? ORDER BY first_seq').all(runId, fromSeq) as Batch[]

/** The stored row of `seq`. */
export const storedRow = (db: Db, runId: number, seq: number): StoredRow => {
  const b = batchesFrom(db, runId, seq)[0]!
  return rowsOf(b)[seq - b.first_seq]!
}

/** Where the element of `seq` stands in its batch's body: [start, end) of the body text. */
export const elementOf = (db: Db, runId: number, seq: number): { first: number; body: string; start: number; end: number } => {
  const b = batchesFrom(db, runId, seq)[0]!
  const rows = rowsOf(b)
  const start = bodyOf(rows.slice(0, seq - b.first_seq)).length - (seq === b.first_seq ? 1 : 0)
  const r = rows[seq - b.first_seq]!
  return { first: b.first_seq, body: b.body, start, end: start + bodyElement(r.t, r.cpu, r.type, r.pfn, r.npages, r.cause, r.data).length }
}

/**
 * Rewrites the events from `fromSeq` on, in seq order: `edit` returns the row to store instead
 * (or the same row). Needs event_batches' update trigger dropped.
 */
export const rewriteRows = (db: Db, runId: number, fromSeq: number, edit: (r: StoredRow) => StoredRow): void => {
  for (const b of batchesFrom(db, runId, fromSeq))
    store(
      db,
      runId,
      b.first_seq,
      rowsOf(b).map((r) => (r.seq >= fromSeq ? edit(r) : r)),
    )
}

/** Rewrites one event. */
export const rewriteRow = (db: Db, runId: number, seq: number, edit: (r: StoredRow) => StoredRow): void => rewriteRows(db, runId, seq, (r) => (r.seq === seq ? edit(r) : r))

/** Removes the events from `fromSeq` on, as if the run had ended before it. Needs event_batches' triggers dropped. */
export const cutEvents = (db: Db, runId: number, fromSeq: number): void => {
  for (const b of batchesFrom(db, runId, fromSeq)) store(db, runId, b.first_seq, b.first_seq >= fromSeq ? [] : rowsOf(b).filter((r) => r.seq < fromSeq))
}
