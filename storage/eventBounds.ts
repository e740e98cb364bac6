// Where each event of a stored batch stands in its body, in bytes (schema 8), so that a query by
// type or by frame reads only the events it selects. The per-batch index (eventIndex.ts) already
// names the few events of a batch a filter wants, but a frame or a rare type has events in nearly
// every batch of a run (a frame of the bench run: all 129 batches of 1.4 MB), and finding them
// meant reading each body whole and walking it: 300 ms for 954 events. With the bounds, a batch
// gives its selected events as substrings of its body (SQLite keeps a large value it loaded for
// the row, so several substr of one body cost little more than one), and nothing is walked.
// Derived data, like the index: written by the writer in the batch's transaction, built for stored
// runs by the migration; a batch without a row is read as before. Each substring is checked to
// stand between the body's delimiters, so a wrong row is an error, never a wrong event.
import type Database from 'better-sqlite3'
import { elementBounds } from './batchBody'
import type { BatchPlace } from './batchDecode'
import { StoreError } from './errors'
import { hasTable, type Db } from './open'

export const EVENT_BOUNDS_SQL = `
-- Per batch: uint32 little-endian byte offsets into its body (UTF-8), one per event and one more:
-- event k is the bytes bounds[k] .. bounds[k + 1] - 2 (a comma follows it), the last one
-- bounds[n - 1] .. bounds[n] - 1 (batchBody.ts elementBounds, in bytes). A rowid table: a row is
-- 64 KiB for a batch of 16,384 events.
CREATE TABLE event_bounds (
  run_id    INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  bounds    BLOB    NOT NULL,
  PRIMARY KEY (run_id, first_seq)
);
`

const u32 = (a: Uint32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength)

/**
 * The bounds of a body of `n` events given as its UTF-8 bytes, or null when it does not hold
 * them. Read as latin1, every byte is one character, so character offsets are byte offsets; the
 * delimiters are ASCII, and no byte of a multi-byte UTF-8 character is mistaken for one.
 */
export const boundsOfBody = (body: Uint8Array, n: number): Buffer | null => {
  const p = elementBounds(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1'), n, n)
  return p === null ? null : u32(p)
}

/** Inserts a batch's bounds, within the caller's transaction; a body that does not hold its events gets none. */
export const insertBounds = (db: Db, runId: number, firstSeq: number, body: Uint8Array, n: number): void => {
  const bounds = n > 0 ? boundsOfBody(body, n) : null
  if (bounds !== null) db.prepare('INSERT INTO event_bounds (run_id, first_seq, bounds) VALUES (?, ?, ?)').run(runId, firstSeq, bounds)
}

/** Schema 8's step: the bounds of every batch already stored, one batch in memory at a time. */
export const boundStoredBatches = (db: Db): void => {
  const keys = db.prepare('SELECT run_id, first_seq, last_seq FROM event_batches ORDER BY run_id, first_seq').raw().all() as [number, number, number][]
  const body = db.prepare('SELECT CAST(body AS BLOB) FROM event_batches WHERE run_id = ? AND first_seq = ?').pluck()
  for (const [run, first, last] of keys) insertBounds(db, run, first, body.get(run, first) as Buffer, last - first + 1)
}

/** Ranges read by one statement: a statement per count is prepared once per connection. */
const RANGES_PER_STATEMENT = 16
/** More ranges than this in one batch, and its whole body is cheaper. */
export const RANGES_MAX = 4 * RANGES_PER_STATEMENT

const statements = new WeakMap<Db, Map<number, Database.Statement<unknown[]>>>()

const substrings = (db: Db, k: number): Database.Statement<unknown[]> => {
  let byCount = statements.get(db)
  if (byCount === undefined) statements.set(db, (byCount = new Map()))
  let st = byCount.get(k)
  if (st === undefined) {
    const cols = Array.from({ length: k }, () => 'substr(CAST(body AS BLOB), ?, ?)').join(', ')
    byCount.set(k, (st = db.prepare<unknown[]>(`SELECT ${cols} FROM event_batches WHERE run_id = ? AND first_seq = ?`).raw()))
  }
  return st
}

const BYTE_COMMA = 0x2c
const BYTE_OPEN = 0x5b
const BYTE_CLOSE = 0x5d

const words = (blob: Buffer): Uint32Array => {
  const copy = new Uint8Array(blob.byteLength)
  copy.set(blob)
  return new Uint32Array(copy.buffer)
}

/**
 * The texts of the elements at `offsets` (ascending) of the batch at firstSeq holding `n` events,
 * read through its bounds; null when the batch has no bounds or the offsets make too many ranges
 * (the caller reads the body). Each contiguous run of offsets is one range, read with the
 * delimiter before it and after it, which must be there.
 */
export const elementTextsByBounds = (db: Db, place: BatchPlace, firstSeq: number, n: number, offsets: readonly number[]): string[] | null => {
  if (offsets.length === 0) return []
  if (!hasTable(db, 'event_bounds')) return null
  const blob = db.prepare('SELECT bounds FROM event_bounds WHERE run_id = ? AND first_seq = ?').pluck().get(place.runId, firstSeq) as Buffer | undefined
  if (blob === undefined) return null
  const p = words(blob)
  const damaged = (k: number, why: string) => new StoreError(`${place.file}: run ${place.runId} seq ${firstSeq + k}: the batch's event bounds are damaged (${why})`)
  if (p.length !== n + 1) throw damaged(0, `${p.length - 1} bounds for ${n} events`)
  // In order from the body's first element: two bounds swapped, or one moved past its neighbour, cannot read as another event.
  if (p[0] !== 1) throw damaged(0, 'the first event does not start the body')
  for (let k = 1; k <= n; k++) if (!(p[k]! > p[k - 1]! + 1)) throw damaged(k - 1, 'the bounds are not in order')
  // Runs of contiguous offsets: [lo, hi] pairs.
  const runs: number[] = []
  for (const k of offsets) {
    if (k >= n) throw damaged(k, `no event ${k} in ${n}`)
    if (runs.length > 0 && runs[runs.length - 1] === k - 1) runs[runs.length - 1] = k
    else runs.push(k, k)
  }
  if (runs.length / 2 > RANGES_MAX) return null
  // Element k ends before byte end(k): a comma follows it, or the body's closing bracket.
  const end = (k: number): number => (k + 1 < n ? p[k + 1]! - 1 : p[n]!)
  const out: string[] = []
  for (let r = 0; r < runs.length; r += 2 * RANGES_PER_STATEMENT) {
    const part = runs.slice(r, r + 2 * RANGES_PER_STATEMENT)
    const args: number[] = []
    // From the delimiter before the first element to the one after the last (substr is 1-based).
    for (let i = 0; i < part.length; i += 2) args.push(p[part[i]!]!, end(part[i + 1]!) - p[part[i]!]! + 2)
    const row = substrings(db, part.length / 2).get(...args, place.runId, firstSeq) as Buffer[] | undefined
    if (row === undefined) throw damaged(part[0]!, 'the batch is not stored')
    for (let i = 0; i < part.length; i += 2) {
      const bytes = row[i / 2]!
      const base = p[part[i]!]! - 1
      const before = bytes[0]
      const after = bytes[bytes.length - 1]
      if ((before !== BYTE_OPEN && before !== BYTE_COMMA) || (after !== BYTE_COMMA && after !== BYTE_CLOSE)) throw damaged(part[i]!, 'a range is not between delimiters')
      for (let k = part[i]!; k <= part[i + 1]!; k++) {
        const a = p[k]! - base
        const b = end(k) - base
        if (!(a < b) || bytes[a] !== BYTE_OPEN || bytes[b - 1] !== BYTE_CLOSE || (k < part[i + 1]! && bytes[b] !== BYTE_COMMA))
          throw damaged(k, 'an event is not between delimiters')
        out.push(bytes.toString('utf8', a, b))
      }
    }
  }
  return out
}
