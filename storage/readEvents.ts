// Reading events back: streamed in seq order, filtered by seq range, type and frame, batch by
// batch (eventBatches.ts). A seq range reads only the batches that overlap it; a filter by type
// or frame takes its seqs from the per-batch index tables (eventIndex.ts) and reads each batch
// it needs once. Three forms: raw rows (exactly as stored, for integrity checks and exports),
// events through their codecs (what `mmsim events` prints), and events checked structurally
// (the fold's path; batchDecode.ts says why). A row that does not decode is an error naming the
// run and seq, never a silent skip. Files of schema 1 to 3 are read through legacyEvents.ts.
import * as E from 'fp-ts/Either'
import { decodeEvent, type MmEvent } from '../events'
import { scanBody } from './batchBody'
import { decodeChecked, decodeFull, parseBody, type BatchPlace, type ElementDecoder } from './batchDecode'
import { batchHolding, batchesIn, hashesOf, storesBatches, type BatchRow } from './eventBatches'
import { seqsOfFrame, seqsOfTypes } from './eventIndex'
import { StoreError } from './errors'
import { legacyRows } from './legacyEvents'
import type { Db } from './open'

export interface EventFilter {
  readonly fromSeq?: number
  readonly toSeq?: number
  readonly types?: readonly string[]
  /** Events whose span covers this frame. */
  readonly pfn?: number
  readonly limit?: number
}

/** One event as stored: the columns of schema 3's events table, the fields of a batch's element. */
export interface StoredRow {
  readonly seq: number
  readonly t: number
  readonly cpu: number | null
  readonly type: string
  readonly pfn: number | null
  readonly npages: number | null
  readonly cause: number | null
  /** The data JSON text, exactly as stored. */
  readonly data: string
  /** The row hash (hashChain.ts). */
  readonly h: number
}

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

/** A batch as one reader needs it: the event at offset i (seq - first_seq), decoded its way. */
type Loader<T> = (b: BatchRow) => (i: number) => T

/**
 * What a filter selects, a batch at a time (the events of one stored batch, in seq order): a
 * plain seq range batch by batch; a filter by frame or type seq by seq from the indexes, each
 * batch loaded once (the seqs ascend) and kept while its seqs last. A batch at a time, so that a
 * fold pays one generator step per batch rather than per event.
 */
function* selectBatches<T>(db: Db, runId: number, f: EventFilter, load: Loader<T>, typeOf: (x: T) => string): Generator<T[]> {
  const fromSeq = f.fromSeq ?? 1
  const toSeq = f.toSeq ?? Number.MAX_SAFE_INTEGER
  let room = f.limit ?? Infinity
  const types = f.types !== undefined && f.types.length > 0 ? new Set(f.types) : null
  if (room <= 0) return
  if (f.pfn === undefined && types === null) {
    for (const b of batchesIn(db, runId, fromSeq, toSeq)) {
      const at = load(b)
      const first = Math.max(fromSeq, b.first_seq)
      const last = Math.min(toSeq, b.last_seq, first + room - 1)
      const out = new Array<T>(Math.max(0, last - first + 1))
      for (let seq = first; seq <= last; seq++) out[seq - first] = at(seq - b.first_seq)
      yield out
      if ((room -= out.length) <= 0) return
    }
    return
  }
  let batch: BatchRow | undefined
  let at: ((i: number) => T) | undefined
  let out: T[] = []
  for (const seq of indexedSeqs(db, runId, f, fromSeq, toSeq)) {
    if (batch === undefined || seq < batch.first_seq || seq > batch.last_seq) {
      if (out.length > 0) yield out
      out = []
      batch = batchHolding(db, runId, seq)
      if (batch === undefined) throw new StoreError(`${db.name}: run ${runId}: the event index lists seq ${seq}, which is not stored`)
      at = load(batch)
    }
    const x = at!(seq - batch.first_seq)
    if (types !== null && !types.has(typeOf(x))) continue
    out.push(x)
    if (--room <= 0) break
  }
  if (out.length > 0) yield out
}

/** One item at a time. */
function* each<T>(batches: Iterable<T[]>): Generator<T> {
  for (const items of batches) yield* items
}

/** A batch's offset i, or the error that the batch holds fewer events than its seqs say. */
const within = <T>(items: readonly T[], b: BatchRow, place: BatchPlace, i: number): T => {
  if (i >= items.length)
    throw new StoreError(`${place.file}: run ${place.runId} seq ${b.first_seq + i}: its batch (seq ${b.first_seq}..${b.last_seq}) holds ${items.length} events`)
  return items[i]!
}

const rowsLoader =
  (place: BatchPlace): Loader<StoredRow> =>
  (b) => {
    const rows = scanBody(b.body, b.first_seq, hashesOf(b.hashes))
    if (!Array.isArray(rows)) throw new StoreError(`${place.file}: run ${place.runId} seq ${b.first_seq + rows.index}: the stored batch is damaged (${rows.problem})`)
    return (i) => within(rows, b, place, i)
  }

const eventsLoader =
  (place: BatchPlace, decode: ElementDecoder): Loader<MmEvent> =>
  (b) => {
    const elements = parseBody(place, b.first_seq, b.body)
    return (i) => decode(place, b.first_seq + i, within(elements, b, place, i))
  }

/** Raw rows, for integrity checks and exports that must see exactly what is stored. */
export const readRows = (db: Db, runId: number, f: EventFilter = {}): Generator<StoredRow> => {
  if (storesBatches(db)) return each(selectBatches(db, runId, f, rowsLoader({ file: db.name, runId }), (r) => r.type))
  const fromSeq = f.fromSeq ?? 1
  const toSeq = f.toSeq ?? Number.MAX_SAFE_INTEGER
  return legacyRows(db, runId, f, fromSeq, toSeq, () => indexedSeqs(db, runId, f, fromSeq, toSeq))
}

/** A row of a schema 1 to 3 file, through the codecs. */
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

/** Events a batch at a time, each element decoded by `decode`; a file of schema 1 to 3 a row at a time, through the codecs. */
function* decodedBatches(db: Db, file: string, runId: number, f: EventFilter, decode: ElementDecoder): Generator<MmEvent[]> {
  if (storesBatches(db)) {
    yield* selectBatches(db, runId, f, eventsLoader({ file, runId }, decode), (e) => e.type)
    return
  }
  for (const r of readRows(db, runId, f)) yield [decodeRow(file, runId, r)]
}

/** Decoded events in seq order, each through its codec: what `mmsim events` prints. */
export const readEvents = (db: Db, file: string, runId: number, f: EventFilter = {}): Generator<MmEvent> => each(decodedBatches(db, file, runId, f, decodeFull))

/**
 * Events in seq order, a stored batch at a time, with the structural check instead of the codecs
 * (batchDecode.ts), for folds: the stored bytes are what the hash chain covers and `mmsim check`
 * verifies.
 */
export const readEventsForFold = (db: Db, file: string, runId: number, f: EventFilter = {}): Generator<readonly MmEvent[]> => decodedBatches(db, file, runId, f, decodeChecked)

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
