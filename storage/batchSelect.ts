// Which stored batches a read needs, and how much of each it parses. A seq range reads only the
// batches that overlap it; a filter by type or frame takes its seqs from the per-batch index
// tables (eventIndex.ts) and reads each batch they point into once, with all the seqs it holds.
// A read that wants most of a batch parses its whole body; one that wants a few events finds
// where they stand in the body (elementBounds) and parses only those. A batch that does not hold
// what its columns or the index say is an error naming the file, run and seq.
import { elementBounds, elementText, scanBody } from './batchBody'
import { parseBody, type BatchPlace } from './batchDecode'
import { batchHeadHolding, batchesIn, hashesOf, type BatchRow } from './eventBatches'
import { elementTextsByBounds } from './eventBounds'
import { seqsOfFrame, seqsOfTypes } from './eventIndex'
import { StoreError } from './errors'
import type { Db } from './open'
import type { EventFilter, StoredRow } from './readEvents'

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
export function* indexedSeqs(db: Db, runId: number, f: EventFilter, fromSeq: number, toSeq: number): Generator<number> {
  if (f.pfn !== undefined) {
    for (const seq of union(seqsOfFrame(db, runId, f.pfn), seqsListingFrame(db, runId, f.pfn))) if (seq >= fromSeq && seq <= toSeq) yield seq
    return
  }
  yield* seqsOfTypes(db, runId, f.types!, fromSeq, toSeq)
}

/** Offsets lo..hi (seq - first_seq). */
export const offsetRange = (lo: number, hi: number): number[] => {
  const out = new Array<number>(Math.max(0, hi - lo + 1))
  for (let k = 0; k < out.length; k++) out[k] = lo + k
  return out
}

/** A batch as one reader needs it: the events at the given offsets (seq - first_seq, ascending), in its form. */
export type Loader<T> = (b: BatchRow, offsets: readonly number[]) => T[]

/**
 * What a filter selects, a batch at a time (the selected events of one stored batch, in seq
 * order), so that a loader knows how much of a batch is wanted and a caller pays one generator
 * step per batch rather than per event.
 */
export function* selectBatches<T>(db: Db, runId: number, f: EventFilter, load: Loader<T>, typeOf: (x: T) => string): Generator<T[]> {
  const fromSeq = f.fromSeq ?? 1
  const toSeq = f.toSeq ?? Number.MAX_SAFE_INTEGER
  let room = f.limit ?? Infinity
  const types = f.types !== undefined && f.types.length > 0 ? new Set(f.types) : null
  if (room <= 0) return
  if (f.pfn === undefined && types === null) {
    for (const b of batchesIn(db, runId, fromSeq, toSeq)) {
      const first = Math.max(fromSeq, b.first_seq)
      const out = load(b, offsetRange(first - b.first_seq, Math.min(toSeq, b.last_seq, first + room - 1) - b.first_seq))
      yield out
      if ((room -= out.length) <= 0) return
    }
    return
  }
  const seqs = indexedSeqs(db, runId, f, fromSeq, toSeq)
  const place = { file: db.name, runId }
  const texts = (b: BatchRow, offsets: readonly number[]) => elementTextsByBounds(db, place, b.first_seq, b.last_seq - b.first_seq + 1, offsets)
  for (let next = seqs.next(); next.done !== true;) {
    const b = batchHeadHolding(db, runId, next.value, texts)
    if (b === undefined) throw new StoreError(`${db.name}: run ${runId}: the event index lists seq ${next.value}, which is not stored`)
    const offsets: number[] = []
    for (; next.done !== true && next.value <= b.last_seq; next = seqs.next()) offsets.push(next.value - b.first_seq)
    const out = types === null ? load(b, offsets) : load(b, offsets).filter((x) => types.has(typeOf(x)))
    if (out.length >= room) {
      yield out.slice(0, room)
      return
    }
    if (out.length > 0) yield out
    room -= out.length
  }
}

/** Wanting more than this part of a batch's events, a reader parses the whole body. */
const DENSE_FRACTION = 0.5

const isDense = (b: BatchRow, offsets: readonly number[]): boolean => offsets.length > (b.last_seq - b.first_seq + 1) * DENSE_FRACTION

const missing = (place: BatchPlace, b: BatchRow, offset: number, holds: string): StoreError =>
  new StoreError(`${place.file}: run ${place.runId} seq ${b.first_seq + offset}: its batch (seq ${b.first_seq}..${b.last_seq}) ${holds}`)

const damaged = (place: BatchPlace, seq: number, problem: string): StoreError =>
  new StoreError(`${place.file}: run ${place.runId} seq ${seq}: the stored batch is damaged (${problem})`)

/** Where the elements up to offset `last` stand in the body; a body that ends before names the event where it breaks. */
const boundsTo = (place: BatchPlace, b: BatchRow, last: number): Uint32Array => {
  const p = elementBounds(b.body, last + 1, b.last_seq - b.first_seq + 1)
  if (p !== null) return p
  const scan = scanBody(b.body, b.first_seq, () => 0)
  throw Array.isArray(scan) ? missing(place, b, scan.length, `holds ${scan.length} events`) : damaged(place, b.first_seq + scan.index, scan.problem)
}

/** The parsed elements at `offsets`. A contiguous run of them is parsed as one slice of the body. */
export const elementsAt = (place: BatchPlace, b: BatchRow, offsets: readonly number[]): unknown[] => {
  if (offsets.length === 0) return []
  const lo = offsets[0]!
  const hi = offsets[offsets.length - 1]!
  if (isDense(b, offsets)) {
    const all = parseBody(place, b.first_seq, b.body)
    if (hi >= all.length) throw missing(place, b, all.length, `holds ${all.length} events`)
    return offsets.length === all.length ? all : offsets.map((k) => all[k])
  }
  const texts = b.texts?.(offsets)
  if (texts != null) return texts.map((text, i) => parseBody(place, b.first_seq + offsets[i]!, `[${text}]`)[0])
  const p = boundsTo(place, b, hi)
  if (hi - lo + 1 === offsets.length) {
    const run = parseBody(place, b.first_seq + lo, `[${b.body.slice(p[lo]!, p[hi + 1]!)}]`)
    if (run.length !== offsets.length) throw damaged(place, b.first_seq + lo, `seq ${b.first_seq + lo}..${b.first_seq + hi} read as ${run.length} events`)
    return run
  }
  return offsets.map((k) => parseBody(place, b.first_seq + k, `[${elementText(b.body, p, k)}]`)[0])
}

const scanned = (place: BatchPlace, body: string, firstSeq: number, hashes: (i: number) => number): StoredRow[] => {
  const rows = scanBody(body, firstSeq, hashes)
  if (!Array.isArray(rows)) throw damaged(place, firstSeq + rows.index, rows.problem)
  return rows
}

/** The stored rows at `offsets`, exactly as stored (scanBody). */
export const rowsAt = (place: BatchPlace, b: BatchRow, offsets: readonly number[]): StoredRow[] => {
  const h = hashesOf(b.hashes)
  if (isDense(b, offsets)) {
    const rows = scanned(place, b.body, b.first_seq, h)
    if (offsets[offsets.length - 1]! >= rows.length) throw missing(place, b, rows.length, `holds ${rows.length} events`)
    return offsets.map((k) => rows[k]!)
  }
  if (offsets.length === 0) return []
  const texts = b.texts?.(offsets)
  if (texts != null) return texts.map((text, i) => scanned(place, `[${text}]`, b.first_seq + offsets[i]!, () => h(offsets[i]!))[0]!)
  const p = boundsTo(place, b, offsets[offsets.length - 1]!)
  return offsets.map((k) => scanned(place, `[${elementText(b.body, p, k)}]`, b.first_seq + k, () => h(k))[0]!)
}
