// The table of stored batches (schema 4): one row per batch of events, its body (batchBody.ts)
// and each event's chain hash. Readers find batches by seq through the primary key; first_t and
// last_t let a reader find a batch by simulated time the same way.
import { hasTable, type Db } from './open'

export const EVENT_BATCHES_SQL = `
-- One row per batch of a run's events, seqs first_seq..last_seq (dense). hashes: each event's row
-- hash h (hashChain.ts), float64 little-endian, one per event; it comes before the body so that
-- reading it alone does not walk the body's overflow pages. body: the events as a JSON array
-- (storage/batchBody.ts). A rowid table, not WITHOUT ROWID: a row is megabytes, and a WITHOUT
-- ROWID table keeps whole rows in its interior pages (it is a B-tree, not a B+tree), so each
-- append moved kilobytes of cells about; measured on the default run's batches, SQLite spent 15 %
-- more CPU and 25 % more time per batch on it (SQLite's own advice: WITHOUT ROWID suits rows
-- under a twentieth of a page).
CREATE TABLE event_batches (
  run_id    INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq  INTEGER NOT NULL,
  first_t   INTEGER NOT NULL,
  last_t    INTEGER NOT NULL,
  hashes    BLOB    NOT NULL,
  body      TEXT    NOT NULL,
  PRIMARY KEY (run_id, first_seq)
);
`

/**
 * The per-event rows a sqlite3 user queries, as a view over the batches: json_each walks a body's
 * elements. json_extract rather than the ->> operator: an SQLite older than 3.38 reading the
 * file must still parse its schema.
 */
export const EVENTS_VIEW_SQL = `
CREATE VIEW events AS
  SELECT b.run_id AS run_id, b.first_seq + j.key AS seq,
         json_extract(j.value, '$[0]') AS t, json_extract(j.value, '$[1]') AS cpu, json_extract(j.value, '$[2]') AS type,
         json_extract(j.value, '$[3]') AS pfn, json_extract(j.value, '$[4]') AS npages, json_extract(j.value, '$[5]') AS cause,
         json_extract(j.value, '$[6]') AS data
  FROM event_batches b, json_each(b.body) j;
`

export interface BatchRow {
  readonly first_seq: number
  readonly last_seq: number
  readonly first_t: number
  readonly last_t: number
  readonly hashes: Buffer
  readonly body: string
  /**
   * The texts of the elements at some offsets without the whole body (eventBounds.ts), or null
   * where the batch cannot give them so; only a row of batchHeadHolding has it.
   */
  readonly texts?: (offsets: readonly number[]) => string[] | null
}

const BATCH_COLUMNS = 'first_seq, last_seq, first_t, last_t, hashes, body'

/** Schema 4 and later store batches; an older file, read as it is, has one row per event. */
export const storesBatches = (db: Db): boolean => hasTable(db, 'event_batches')

/** The batches that hold any seq of [fromSeq, toSeq], in seq order. */
export const batchesIn = (db: Db, runId: number, fromSeq: number, toSeq: number): IterableIterator<BatchRow> =>
  db
    .prepare(
      // The batch holding fromSeq is the last one starting at or before it (batches are dense).
      `SELECT ${BATCH_COLUMNS} FROM event_batches
       WHERE run_id = $run AND first_seq >= coalesce((SELECT max(first_seq) FROM event_batches WHERE run_id = $run AND first_seq <= $from), 0) AND first_seq <= $to
       ORDER BY first_seq`,
    )
    .iterate({ run: runId, from: fromSeq, to: toSeq }) as IterableIterator<BatchRow>

/** A batch's seqs and its body's stored bytes (UTF-8), for the fold's decoder (batchScan.ts): no string of the body is made. */
export interface BatchBytes {
  readonly first_seq: number
  readonly last_seq: number
  readonly body: Buffer
}

/** batchesIn, with the bodies as bytes. */
export const batchBytesIn = (db: Db, runId: number, fromSeq: number, toSeq: number): IterableIterator<BatchBytes> =>
  db
    .prepare(
      `SELECT first_seq, last_seq, CAST(body AS BLOB) AS body FROM event_batches
       WHERE run_id = $run AND first_seq >= coalesce((SELECT max(first_seq) FROM event_batches WHERE run_id = $run AND first_seq <= $from), 0) AND first_seq <= $to
       ORDER BY first_seq`,
    )
    .iterate({ run: runId, from: fromSeq, to: toSeq }) as IterableIterator<BatchBytes>

/** The batch that holds `seq`, if one does. */
export const batchHolding = (db: Db, runId: number, seq: number): BatchRow | undefined => {
  const b = db.prepare(`SELECT ${BATCH_COLUMNS} FROM event_batches WHERE run_id = ? AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1`).get(runId, seq) as BatchRow | undefined
  return b !== undefined && b.last_seq >= seq ? b : undefined
}

/**
 * batchHolding without reading the body until it is asked for: a filtered read wants a few events
 * of each batch, which `texts` gives from the body's bounds (eventBounds.ts).
 */
export const batchHeadHolding = (db: Db, runId: number, seq: number, texts: (b: BatchRow, offsets: readonly number[]) => string[] | null): BatchRow | undefined => {
  const head = db
    .prepare('SELECT first_seq, last_seq, first_t, last_t, hashes FROM event_batches WHERE run_id = ? AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1')
    .get(runId, seq) as Omit<BatchRow, 'body'> | undefined
  if (head === undefined || head.last_seq < seq) return undefined
  let body: string | undefined
  const row: BatchRow = {
    ...head,
    get body() {
      return (body ??= db.prepare('SELECT body FROM event_batches WHERE run_id = ? AND first_seq = ?').pluck().get(runId, head.first_seq) as string)
    },
    texts: (offsets) => texts(row, offsets),
  }
  return row
}

/** Bytes per stored hash. */
export const HASH_BYTES = 8

/** The row hashes of a batch, event by event; NaN past the end of the blob. */
export const hashesOf = (blob: Buffer): ((i: number) => number) => {
  const n = Math.floor(blob.byteLength / HASH_BYTES)
  return (i) => (i < n ? blob.readDoubleLE(i * HASH_BYTES) : NaN)
}

const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f

/** A batch's hashes blob: float64 little-endian, one per event. */
export const hashesBlob = (h: Float64Array): Buffer => {
  if (LITTLE_ENDIAN) return Buffer.from(h.buffer, h.byteOffset, h.byteLength)
  const out = Buffer.allocUnsafe(h.length * HASH_BYTES)
  for (let i = 0; i < h.length; i++) out.writeDoubleLE(h[i]!, i * HASH_BYTES)
  return out
}
