// Schema 4's step on the rows already stored: every run's event rows move into batches, with the
// boundaries of the run's per-batch index rows (event_types: the writer's batches, or the
// migration of schema 3's), and each row's hash h unchanged in the batch's hashes. Nothing is
// recomputed, so a run verifies exactly as before, and an altered row still fails at its seq.
// A row that a body cannot hold as it is (a number column that is not an integer, data that is
// not a JSON object) was written by something other than mmsim: the migration stops and names it,
// and the file stays as it was.
import { BODY_FIELDS, bodyElement, scanBody } from './batchBody'
import { hashesBlob } from './eventBatches'
import { INDEX_BATCH_EVENTS } from './eventIndex'
import { StoreError } from './errors'
import type { Db } from './open'
import type { StoredRow } from './readEvents'

type EventRow = StoredRow & { readonly run_id: number }

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const TYPE_NAME = /^[A-Za-z][A-Za-z0-9]*$/

/** Why a body cannot hold `r` as stored, or null. */
const unrepresentable = (r: EventRow): string | null => {
  if (!isCount(r.t)) return `t is ${JSON.stringify(r.t)}`
  for (const [name, v] of [
    ['cpu', r.cpu],
    ['pfn', r.pfn],
    ['npages', r.npages],
    ['cause', r.cause],
  ] as const)
    if (v !== null && !isCount(v)) return `${name} is ${JSON.stringify(v)}`
  if (typeof r.type !== 'string' || !TYPE_NAME.test(r.type)) return `type is ${JSON.stringify(r.type)}`
  if (typeof r.data !== 'string' || !r.data.startsWith('{')) return 'data is not a JSON object'
  return null
}

/** The body of `rows` (dense seqs), checked to read back as exactly these rows. */
const bodyOf = (file: string, rows: readonly EventRow[]): string => {
  const refuse = (r: EventRow, why: string): StoreError =>
    new StoreError(`${file}: run ${r.run_id} seq ${r.seq}: ${why}; it was not written by mmsim, so the file is not migrated (it stays at its schema)`)
  for (const r of rows) {
    const why = unrepresentable(r)
    if (why !== null) throw refuse(r, why)
  }
  const body = `[${rows.map((r) => bodyElement(r.t, r.cpu, r.type, r.pfn, r.npages, r.cause, r.data)).join(',')}]`
  const back = scanBody(body, rows[0]!.seq, () => 0)
  if (!Array.isArray(back)) throw refuse(rows[back.index]!, `data does not read back (${back.problem})`)
  const wrong = rows.findIndex((r, i) => back[i]?.data !== r.data)
  if (wrong >= 0 || back.length !== rows.length) throw refuse(rows[wrong >= 0 ? wrong : 0]!, 'data does not read back as stored')
  try {
    const parsed = JSON.parse(body) as unknown[][]
    if (parsed.every((e) => e.length === BODY_FIELDS)) return body
  } catch {
    /* located below */
  }
  for (const r of rows)
    try {
      JSON.parse(r.data)
    } catch {
      throw refuse(r, 'data is not JSON')
    }
  throw refuse(rows[0]!, 'the batch does not read back')
}

/** Moves every event row into event_batches; the caller drops the events table after. */
export const eventsToBatches = (db: Db): void => {
  const file = db.name
  const insert = db.prepare('INSERT INTO event_batches (run_id, first_seq, last_seq, first_t, last_t, hashes, body) VALUES (?, ?, ?, ?, ?, ?, ?)')
  const nextRun = db.prepare('SELECT min(run_id) FROM events WHERE run_id > ?').pluck()
  const nextSeq = db.prepare('SELECT min(seq) FROM events WHERE run_id = ? AND seq >= ?').pluck()
  const window = db.prepare('SELECT run_id, seq, t, cpu, type, pfn, npages, cause, data, h FROM events WHERE run_id = ? AND seq >= ? AND seq < ? ORDER BY seq')
  const boundaries = db.prepare('SELECT DISTINCT first_seq FROM event_types WHERE run_id = ? ORDER BY first_seq').pluck()
  const store = (rows: readonly EventRow[]): void => {
    if (rows.length === 0) return
    const first = rows[0]!
    const last = rows[rows.length - 1]!
    // A hash that is not a number (an edited file) is kept as NaN: verify fails at its seq, as it did.
    const h = Float64Array.from(rows, (r) => (typeof r.h === 'number' ? r.h : NaN))
    insert.run(first.run_id, first.seq, last.seq, first.t, last.t, hashesBlob(h), bodyOf(file, rows))
  }
  for (let run = nextRun.get(-1) as number | null; run !== null; run = nextRun.get(run) as number | null) {
    const starts = boundaries.all(run) as number[]
    let b = 0
    for (let start = nextSeq.get(run, 1) as number | null; start !== null;) {
      while (b < starts.length && starts[b]! <= start) b++
      const end = Math.min(starts[b] ?? Infinity, start + INDEX_BATCH_EVENTS)
      // A gap (a damaged run) ends a batch: a batch's seqs are dense.
      let piece: EventRow[] = []
      for (const r of window.all(run, start, end) as EventRow[]) {
        if (piece.length > 0 && r.seq !== piece[piece.length - 1]!.seq + 1) {
          store(piece)
          piece = []
        }
        piece.push(r)
      }
      store(piece)
      start = nextSeq.get(run, end) as number | null
    }
  }
}
