// The secondary indexes of the stored events, kept per committed batch. A SQLite index on events
// (schema 1) cost a B-tree insert per row on the write path (the two indexes of schema 1 took the writer
// from 0.72 to 0.30 of a minimal row's insert rate); instead each batch adds a few rows that
// list, per event type and per bucket of frames, the events of that batch as packed offsets.
// They commit in the batch's own transaction, so a run cut short at any point is indexed up to
// its head, and a query by type or by frame reads one row per batch, never the whole run.
import { MAX_ORDER } from '../events/codecs'
import { scanBody } from './batchBody'
import { batchHolding } from './eventBatches'
import type { Db } from './open'
import type { StoredRow } from './readEvents'

/** The largest span an event may cover; "events of frame X" looks at pfn in [X - this + 1, X]. */
export const SPAN_PAGES_MAX = 1 << (MAX_ORDER - 1)

/** Frames per bucket of the frame index: a span starts in the bucket of X or the one before. */
export const FRAME_BUCKET_PAGES = SPAN_PAGES_MAX

/** Events per index row when schema 3's migration indexed a stored run, and per batch when schema 4's moved events into batches where the index did not say (any size reads the same). */
export const INDEX_BATCH_EVENTS = 16384

export const EVENT_INDEX_SQL = `
-- Per batch (first_seq) and event type: the seqs of that type, as little-endian uint32 offsets
-- from first_seq, ascending.
CREATE TABLE event_types (
  run_id    INTEGER NOT NULL,
  type      TEXT    NOT NULL,
  first_seq INTEGER NOT NULL,
  seqs      BLOB    NOT NULL,
  PRIMARY KEY (run_id, type, first_seq)
) WITHOUT ROWID;

-- Per batch and bucket of FRAME_BUCKET_PAGES (1024) frames (bucket = pfn / 1024): the events whose span
-- starts in the bucket, as uint32 triples (pfn - bucket * 1024, seq - first_seq, npages).
CREATE TABLE event_frames (
  run_id    INTEGER NOT NULL,
  bucket    INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  entries   BLOB    NOT NULL,
  PRIMARY KEY (run_id, bucket, first_seq)
) WITHOUT ROWID;
`

/** One batch's columns, as the writer has them: event i has seq firstSeq + i. */
export interface BatchColumns {
  readonly firstSeq: number
  readonly n: number
  readonly types: readonly string[]
  /** Span start, or -1 for an event without a span. */
  readonly pfn: Float64Array
  readonly npages: Float64Array
}

export interface IndexRows {
  readonly types: [type: string, seqs: Buffer][]
  readonly frames: [bucket: number, entries: Buffer][]
}

const u32 = (a: Uint32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength)

/** The index rows of one batch; the writer inserts them in the batch's transaction. */
export const indexBatch = (b: BatchColumns): IndexRows => {
  const byType = new Map<string, number[]>()
  const byBucket = new Map<number, number[]>()
  for (let i = 0; i < b.n; i++) {
    const type = b.types[i]!
    let list = byType.get(type)
    if (list === undefined) byType.set(type, (list = []))
    list.push(i)
    const pfn = b.pfn[i]!
    if (pfn < 0) continue
    const bucket = Math.floor(pfn / FRAME_BUCKET_PAGES)
    let entries = byBucket.get(bucket)
    if (entries === undefined) byBucket.set(bucket, (entries = []))
    entries.push(pfn - bucket * FRAME_BUCKET_PAGES, i, b.npages[i]!)
  }
  // Sorted keys: the rows go into the B-trees in key order (and the result is deterministic).
  return {
    types: [...byType.keys()].sort().map((k) => [k, u32(Uint32Array.from(byType.get(k)!))]),
    frames: [...byBucket.keys()].sort((a, c) => a - c).map((k) => [k, u32(Uint32Array.from(byBucket.get(k)!))]),
  }
}

const words = (blob: Buffer): Uint32Array => {
  const copy = new Uint8Array(blob.byteLength)
  copy.set(blob)
  return new Uint32Array(copy.buffer)
}

/** Index rows read per query while paging through a run's batches. */
const TYPE_ROWS_PER_PAGE = 256

/** Seqs of events of the given types within [fromSeq, toSeq], ascending, a page of batches at a time. */
export function* seqsOfTypes(db: Db, runId: number, types: readonly string[], fromSeq: number, toSeq: number): Generator<number> {
  const page = db.prepare(
    `SELECT first_seq, seqs FROM event_types WHERE run_id = ? AND type IN (${types.map(() => '?').join(', ')})
     AND first_seq > ? AND first_seq <= ? ORDER BY first_seq LIMIT ?`,
  )
  // A batch is at most 2^32 events: its first_seq is the greatest one not after fromSeq.
  let after = (db.prepare('SELECT max(first_seq) FROM event_types WHERE run_id = ? AND first_seq <= ?').pluck().get(runId, fromSeq) as number | null) ?? 0
  after -= 1
  for (;;) {
    const rows = page.all(runId, ...types, after, toSeq, TYPE_ROWS_PER_PAGE) as { first_seq: number; seqs: Buffer }[]
    if (rows.length === 0) return
    // The page may end inside a batch's rows (several types): keep the whole batches only.
    const lastFirst = rows[rows.length - 1]!.first_seq
    const whole = rows.length === TYPE_ROWS_PER_PAGE && rows[0]!.first_seq !== lastFirst ? rows.filter((r) => r.first_seq !== lastFirst) : rows
    let i = 0
    while (i < whole.length) {
      const first = whole[i]!.first_seq
      const start = i
      const seqs: number[] = []
      for (; i < whole.length && whole[i]!.first_seq === first; i++) for (const off of words(whole[i]!.seqs)) seqs.push(first + off)
      // Several types of one batch: merge their lists.
      if (i - start > 1) seqs.sort((a, c) => a - c)
      for (const seq of seqs) if (seq >= fromSeq && seq <= toSeq) yield seq
    }
    after = whole[whole.length - 1]!.first_seq
  }
}

/** Seqs of events whose span covers frame `pfn`, ascending. */
export const seqsOfFrame = (db: Db, runId: number, pfn: number): number[] => {
  const last = Math.floor(pfn / FRAME_BUCKET_PAGES)
  const first = Math.floor(Math.max(0, pfn - SPAN_PAGES_MAX + 1) / FRAME_BUCKET_PAGES)
  const rows = db.prepare('SELECT bucket, first_seq, entries FROM event_frames WHERE run_id = ? AND bucket BETWEEN ? AND ?').all(runId, first, last) as {
    bucket: number
    first_seq: number
    entries: Buffer
  }[]
  const out: number[] = []
  for (const r of rows) {
    const e = words(r.entries)
    const base = r.bucket * FRAME_BUCKET_PAGES
    for (let i = 0; i < e.length; i += 3) {
      const start = base + e[i]!
      if (start <= pfn && pfn < start + e[i + 2]!) out.push(r.first_seq + e[i + 1]!)
    }
  }
  return out.sort((a, c) => a - c)
}

type IndexedRow = Pick<StoredRow, 'seq' | 'type' | 'pfn' | 'npages'>

/** Inserts the index rows of one stored batch (rows dense from firstSeq), within the caller's transaction. */
const indexRows = (db: Db, runId: number, firstSeq: number, rows: readonly IndexedRow[]): void => {
  const index = indexBatch({
    firstSeq,
    n: rows.length,
    types: rows.map((r) => r.type),
    pfn: Float64Array.from(rows, (r) => r.pfn ?? -1),
    npages: Float64Array.from(rows, (r) => r.npages ?? 0),
  })
  const insertType = db.prepare('INSERT INTO event_types (run_id, type, first_seq, seqs) VALUES (?, ?, ?, ?)')
  const insertFrame = db.prepare('INSERT INTO event_frames (run_id, bucket, first_seq, entries) VALUES (?, ?, ?, ?)')
  for (const [type, seqs] of index.types) insertType.run(runId, type, firstSeq, seqs)
  for (const [bucket, entries] of index.frames) insertFrame.run(runId, bucket, firstSeq, entries)
}

/**
 * Builds the index rows of a stored run from its batches, one index batch per stored batch, as
 * the writer does; within a transaction of the caller's. A stored run is dense from seq 1; a
 * damaged one (a gap or a batch that does not read, which `mmsim check` names) is indexed up to
 * its first missing seq only, so that no index entry points at a wrong seq.
 */
export const indexStoredRun = (db: Db, runId: number): void => {
  // The batches' seqs first, then each batch in turn: a connection cannot insert while a query
  // of it is open, and a run's bodies need not all be in memory at once.
  const firsts = db.prepare('SELECT first_seq FROM event_batches WHERE run_id = ? ORDER BY first_seq').pluck().all(runId) as number[]
  let next = 1
  for (const first of firsts) {
    const b = batchHolding(db, runId, first)
    const rows = b === undefined || first !== next ? null : scanBody(b.body, first, () => 0)
    if (rows === null || !Array.isArray(rows) || rows.length !== b!.last_seq - first + 1) return
    indexRows(db, runId, first, rows)
    next += rows.length
  }
}

/**
 * Schema 3's step: the index rows of a run stored in the events table of schema 1 or 2 (which
 * had SQLite indexes instead), one batch of `batchEvents` at a time from seq 1, up to the run's
 * first missing seq; within the migration's transaction.
 */
export const indexEventRows = (db: Db, runId: number, batchEvents: number): void => {
  const read = db.prepare('SELECT seq, type, pfn, npages FROM events WHERE run_id = ? AND seq BETWEEN ? AND ? ORDER BY seq')
  for (let firstSeq = 1; ; firstSeq += batchEvents) {
    const window = read.all(runId, firstSeq, firstSeq + batchEvents - 1) as IndexedRow[]
    let dense = 0
    while (dense < window.length && window[dense]!.seq === firstSeq + dense) dense++
    if (dense === 0) return
    indexRows(db, runId, firstSeq, window.slice(0, dense))
    if (dense < window.length || dense < batchEvents) return
  }
}
