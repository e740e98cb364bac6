// Reading events back: streamed in seq order, filtered in SQL (seq range, type, frame), and
// every row decoded through the codecs. A row that does not decode is an error naming the run
// and seq, never a silent skip.
import * as E from 'fp-ts/Either'
import { decodeEvent, type MmEvent } from '../events'
import { DECISION_WORDS, type RecordedSchedule } from '../events/schedule'
import { SPAN_PAGES_MAX, seqsOfFrame, seqsOfTypes } from './eventIndex'
import { StoreError } from './errors'
import type { Db } from './open'

export interface EventFilter {
  readonly fromSeq?: number
  readonly toSeq?: number
  readonly types?: readonly string[]
  /** Events whose span covers this frame. */
  readonly pfn?: number
  readonly limit?: number
}

export interface StoredRow {
  readonly seq: number
  readonly t: number
  readonly cpu: number | null
  readonly type: string
  readonly pfn: number | null
  readonly npages: number | null
  readonly cause: number | null
  readonly data: string
  readonly h: number
}

const COLUMNS = 'seq, t, cpu, type, pfn, npages, cause, data, h'

/** Seqs of the events that list `pfn` among many frames (table event_pfns), ascending. */
const seqsListingFrame = (db: Db, runId: number, pfn: number): number[] =>
  db.prepare('SELECT seq FROM event_pfns WHERE run_id = ? AND pfn = ? ORDER BY seq').pluck().all(runId, pfn) as number[]

/** Ascending union of two ascending lists. */
const union = (a: readonly number[], b: readonly number[]): number[] => {
  const out: number[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!
    if (out.length === 0 || out[out.length - 1] !== x) out.push(x)
  }
  return out
}

/** The seqs a filter by frame or by type selects, from the per-batch indexes (eventIndex.ts). */
function* indexedSeqs(db: Db, runId: number, f: EventFilter, fromSeq: number, toSeq: number): Generator<number> {
  if (f.pfn !== undefined) {
    for (const seq of union(seqsOfFrame(db, runId, f.pfn), seqsListingFrame(db, runId, f.pfn))) if (seq >= fromSeq && seq <= toSeq) yield seq
    return
  }
  yield* seqsOfTypes(db, runId, f.types!, fromSeq, toSeq)
}

const hasIndexTables = new WeakMap<Db, boolean>()

/** Schema 3 and later keep the per-batch index tables; an older file, read as it is, has SQLite indexes on events. */
const indexTables = (db: Db): boolean => {
  let has = hasIndexTables.get(db)
  if (has === undefined) {
    has = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'event_types'").pluck().get() === 1
    hasIndexTables.set(db, has)
  }
  return has
}

/** A filtered read of a schema 1 or 2 file, through its SQLite indexes on (run_id, pfn) and (run_id, type, seq). */
const legacyFiltered = (db: Db, runId: number, f: EventFilter, fromSeq: number, toSeq: number): IterableIterator<StoredRow> => {
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

/** Raw rows, for integrity checks and exports that must see exactly what is stored. */
export function* readRows(db: Db, runId: number, f: EventFilter = {}): Generator<StoredRow> {
  const fromSeq = f.fromSeq ?? 1
  const toSeq = f.toSeq ?? Number.MAX_SAFE_INTEGER
  const limit = f.limit ?? Infinity
  const types = f.types !== undefined && f.types.length > 0 ? new Set(f.types) : null
  if ((f.pfn !== undefined || types !== null) && !indexTables(db)) {
    yield* legacyFiltered(db, runId, f, fromSeq, toSeq)
    return
  }
  if (f.pfn === undefined && types === null) {
    let sql = `SELECT ${COLUMNS} FROM events WHERE run_id = ? AND seq >= ? AND seq <= ? ORDER BY seq`
    if (f.limit !== undefined) sql += ` LIMIT ${Math.floor(f.limit)}`
    yield* db.prepare(sql).iterate(runId, fromSeq, toSeq) as IterableIterator<StoredRow>
    return
  }
  // Point reads by primary key, one per selected seq: an index entry without its row is damage.
  const get = db.prepare(`SELECT ${COLUMNS} FROM events WHERE run_id = ? AND seq = ?`)
  let n = 0
  for (const seq of indexedSeqs(db, runId, f, fromSeq, toSeq)) {
    if (n >= limit) return
    const r = get.get(runId, seq) as StoredRow | undefined
    if (r === undefined) throw new StoreError(`run ${runId}: the event index lists seq ${seq}, which is not stored`)
    if (types !== null && !types.has(r.type)) continue
    n++
    yield r
  }
}

export const decodeRow = (file: string, runId: number, r: StoredRow): MmEvent => {
  let data: unknown
  try {
    data = JSON.parse(r.data)
  } catch (err) {
    throw new StoreError(`${file}: run ${runId} seq ${r.seq}: data is not JSON (${(err as Error).message})`)
  }
  const u: Record<string, unknown> = { seq: r.seq, t: r.t, cpu: r.cpu, type: r.type, data }
  if (r.cause !== null) u.cause = r.cause
  const d = decodeEvent(u)
  if (E.isLeft(d)) throw new StoreError(`${file}: run ${runId} seq ${r.seq} (${r.type}): ${d.left}`)
  return d.right
}

/** Decoded events in seq order. */
export function* readEvents(db: Db, file: string, runId: number, f: EventFilter = {}): Generator<MmEvent> {
  for (const r of readRows(db, runId, f)) yield decodeRow(file, runId, r)
}

/**
 * The recorded schedule of a run, in order: decision records for hash version 3, bare delays of
 * CPU steps for older runs. A chunk that does not hold whole records is damage, named as such.
 */
export const readSchedule = (db: Db, file: string, run: { readonly id: number; readonly hash_version: number }): RecordedSchedule => {
  const runId = run.id
  const layout = run.hash_version >= 3 ? 'records' : 'delays'
  const chunks = db.prepare('SELECT chunk, decisions FROM schedule WHERE run_id = ? ORDER BY chunk').all(runId) as { chunk: number; decisions: Buffer }[]
  const recordBytes = layout === 'records' ? 4 * DECISION_WORDS : 4
  let total = 0
  for (const [i, c] of chunks.entries()) {
    if (c.chunk !== i) throw new StoreError(`${file}: run ${runId}: schedule chunk ${i} is missing`)
    if (c.decisions.byteLength % recordBytes !== 0) throw new StoreError(`${file}: run ${runId}: schedule chunk ${i} does not hold whole decisions`)
    total += c.decisions.byteLength / 4
  }
  const words = new Uint32Array(total)
  const bytes = new Uint8Array(words.buffer)
  let at = 0
  for (const c of chunks) {
    bytes.set(c.decisions, at)
    at += c.decisions.byteLength
  }
  return { layout, words }
}
