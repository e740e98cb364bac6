// Reading events back: streamed in seq order, filtered in SQL (seq range, type, frame), and
// every row decoded through the codecs. A row that does not decode is an error naming the run
// and seq, never a silent skip.
import * as E from 'fp-ts/Either'
import { decodeEvent, type MmEvent } from '../events'
import { SPAN_PAGES_MAX } from './appendEvents'
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

const buildQuery = (runId: number, f: EventFilter): { sql: string; params: unknown[] } => {
  const where = ['run_id = ?']
  const params: unknown[] = [runId]
  if (f.fromSeq !== undefined) {
    where.push('seq >= ?')
    params.push(f.fromSeq)
  }
  if (f.toSeq !== undefined) {
    where.push('seq <= ?')
    params.push(f.toSeq)
  }
  if (f.types !== undefined && f.types.length > 0) {
    where.push(`type IN (${f.types.map(() => '?').join(', ')})`)
    params.push(...f.types)
  }
  if (f.pfn !== undefined) {
    // The index on (run_id, pfn) bounds the scan: no span is longer than SPAN_PAGES_MAX.
    // Events about many scattered frames are found through event_pfns.
    where.push('((pfn BETWEEN ? AND ? AND pfn + npages > ?) OR seq IN (SELECT seq FROM event_pfns WHERE run_id = ? AND pfn = ?))')
    params.push(f.pfn - SPAN_PAGES_MAX + 1, f.pfn, f.pfn, runId, f.pfn)
  }
  let sql = `SELECT seq, t, cpu, type, pfn, npages, cause, data, h FROM events WHERE ${where.join(' AND ')} ORDER BY seq`
  if (f.limit !== undefined) {
    sql += ' LIMIT ?'
    params.push(f.limit)
  }
  return { sql, params }
}

/** Raw rows, for integrity checks and exports that must see exactly what is stored. */
export function* readRows(db: Db, runId: number, f: EventFilter = {}): Generator<StoredRow> {
  const { sql, params } = buildQuery(runId, f)
  yield* db.prepare(sql).iterate(...params) as IterableIterator<StoredRow>
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

/** The recorded schedule decisions of a run, in order. */
export const readDecisions = (db: Db, runId: number): Uint32Array => {
  const chunks = db.prepare('SELECT decisions FROM schedule WHERE run_id = ? ORDER BY chunk').all(runId) as { decisions: Buffer }[]
  const total = chunks.reduce((a, c) => a + c.decisions.byteLength / 4, 0)
  const out = new Uint32Array(total)
  let at = 0
  for (const c of chunks) {
    const b = c.decisions
    const copy = new Uint8Array(b.byteLength)
    copy.set(b)
    out.set(new Uint32Array(copy.buffer), at)
    at += b.byteLength / 4
  }
  return out
}
