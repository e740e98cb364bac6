// Reading the events of a file of schema 1 to 3, which the read commands open as it is (only a
// write command migrates it): there each event is a row of the `events` table. Schema 3 has the
// per-batch index tables and reads the rows they select by primary key; schemas 1 and 2 have
// SQLite indexes on events for filtered reads.
import { SPAN_PAGES_MAX } from './eventIndex'
import { StoreError } from './errors'
import { hasTable, type Db } from './open'
import type { EventFilter, StoredRow } from './readEvents'

const COLUMNS = 'seq, t, cpu, type, pfn, npages, cause, data, h'

/** Schema 3 keeps the per-batch index tables; an older file has SQLite indexes on events. */
const indexTables = (db: Db): boolean => hasTable(db, 'event_types')

/** A filtered read of a schema 1 or 2 file, through its SQLite indexes on (run_id, pfn) and (run_id, type, seq). */
const indexedByCondition = (db: Db, runId: number, f: EventFilter, fromSeq: number, toSeq: number): IterableIterator<StoredRow> => {
  const where = ['run_id = ?', 'seq >= ?', 'seq <= ?']
  const params: unknown[] = [runId, fromSeq, toSeq]
  if (f.types !== undefined && f.types.length > 0) {
    where.push(`type IN (${f.types.map(() => '?').join(', ')})`)
    params.push(...f.types)
  }
  if (f.pfn !== undefined) {
    where.push('((pfn BETWEEN ? AND ? AND pfn + npages > ?) OR seq IN (SELECT seq FROM event_pfns WHERE run_id = ? AND pfn = ?))')
    params.push(f.pfn - SPAN_PAGES_MAX + 1, f.pfn, f.pfn, runId, f.pfn)
  }
  let sql = `SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY seq`
  if (f.limit !== undefined) sql += ` LIMIT ${Math.floor(f.limit)}`
  return db.prepare(sql).iterate(...params) as IterableIterator<StoredRow>
}

/**
 * The stored rows of a schema 1 to 3 file. `indexed` yields the seqs a filter selects from the
 * per-batch index tables (schema 3), which are read one by one by primary key.
 */
export function* legacyRows(db: Db, runId: number, f: EventFilter, fromSeq: number, toSeq: number, indexed: () => Iterable<number>): Generator<StoredRow> {
  const types = f.types !== undefined && f.types.length > 0 ? new Set(f.types) : null
  if (f.pfn === undefined && types === null) {
    let sql = `SELECT ${COLUMNS} FROM events WHERE run_id = ? AND seq >= ? AND seq <= ? ORDER BY seq`
    if (f.limit !== undefined) sql += ` LIMIT ${Math.floor(f.limit)}`
    yield* db.prepare(sql).iterate(runId, fromSeq, toSeq) as IterableIterator<StoredRow>
    return
  }
  if (!indexTables(db)) {
    yield* indexedByCondition(db, runId, f, fromSeq, toSeq)
    return
  }
  // Point reads by primary key, one per selected seq: an index entry without its row is damage.
  const get = db.prepare(`SELECT ${COLUMNS} FROM events WHERE run_id = ? AND seq = ?`)
  const limit = f.limit ?? Infinity
  let n = 0
  for (const seq of indexed()) {
    if (n >= limit) return
    const r = get.get(runId, seq) as StoredRow | undefined
    if (r === undefined) throw new StoreError(`run ${runId}: the event index lists seq ${seq}, which is not stored`)
    if (types !== null && !types.has(r.type)) continue
    n++
    yield r
  }
}
