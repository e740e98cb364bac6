// Reading events back: streamed in seq order, filtered by seq range, type and frame, from the
// stored batches (batchSelect.ts says which and how much of each). Three forms: raw rows (exactly
// as stored, for integrity checks and exports), events through their codecs (what `mmsim events`
// prints), and events checked structurally (the fold's path; batchDecode.ts says why). A row
// that does not decode is an error naming the run and seq, never a silent skip. Files of schema
// 1 to 3 are read through legacyEvents.ts.
import * as E from 'fp-ts/Either'
import { decodeEvent, type MmEvent } from '../events'
import { DECISION_WORDS, type RecordedSchedule } from '../events/schedule'
import { decodeFull } from './batchDecode'
import { BatchScanner } from './batchScan'
import { elementsAt, indexedSeqs, rowsAt, selectBatches } from './batchSelect'
import { batchBytesIn, storesBatches } from './eventBatches'
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

/** One item at a time. */
function* each<T>(batches: Iterable<T[]>): Generator<T> {
  for (const items of batches) yield* items
}

/** Raw rows, for integrity checks and exports that must see exactly what is stored. */
export const readRows = (db: Db, runId: number, f: EventFilter = {}): Generator<StoredRow> => {
  const place = { file: db.name, runId }
  if (storesBatches(db))
    return each(
      selectBatches(
        db,
        runId,
        f,
        (b, offsets) => rowsAt(place, b, offsets),
        (r) => r.type,
      ),
    )
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

/** Decoded events in seq order, each through its codec: what `mmsim events` prints. */
export const readEvents = (db: Db, file: string, runId: number, f: EventFilter = {}): Generator<MmEvent> => {
  if (!storesBatches(db)) return legacyEvents(db, file, runId, f)
  const place = { file, runId }
  return each(
    selectBatches(
      db,
      runId,
      f,
      (b, offsets) => {
        const elements = elementsAt(place, b, offsets)
        return offsets.map((k, i) => decodeFull(place, b.first_seq + k, elements[i]))
      },
      (e) => e.type,
    ),
  )
}

function* legacyEvents(db: Db, file: string, runId: number, f: EventFilter): Generator<MmEvent> {
  for (const r of readRows(db, runId, f)) yield decodeRow(file, runId, r)
}

/** Some events in seq order, each decoded when asked for, in order: a fold keeps none alive longer than it needs. */
export interface EventsOfBatch {
  readonly count: number
  /** The next event; called at most `count` times. */
  next(): MmEvent
}

/**
 * The events of a seq range in order, a stored batch at a time, decoded by batchScan.ts (the
 * structural check instead of the codecs, batchDecode.ts says why), for folds: the stored bytes
 * are what the hash chain covers and `mmsim check` verifies. Each event is made when the fold
 * asks for it, so that it dies young: made a batch at a time, they outlived two scavenges and a
 * fold spent a quarter of its time collecting them.
 */
export function* readEventsForFold(db: Db, file: string, runId: number, range: Pick<EventFilter, 'fromSeq' | 'toSeq'> = {}): Generator<EventsOfBatch> {
  const fromSeq = range.fromSeq ?? 1
  const toSeq = range.toSeq ?? Number.MAX_SAFE_INTEGER
  if (!storesBatches(db)) {
    for (const e of legacyEvents(db, file, runId, { fromSeq, toSeq })) yield { count: 1, next: () => e }
    return
  }
  const place = { file, runId }
  for (const b of batchBytesIn(db, runId, fromSeq, toSeq)) {
    const lo = Math.max(fromSeq, b.first_seq) - b.first_seq
    const hi = Math.min(toSeq, b.last_seq) - b.first_seq
    yield new BatchScanner(place, b.body, b.first_seq, lo, hi, b.last_seq - b.first_seq + 1)
  }
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
