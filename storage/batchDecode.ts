// Decoding a stored batch (batchBody.ts) into events. The body is parsed once (JSON.parse), then
// each element becomes an event in one of two ways:
// - structurally (decodeChecked): array length, a known type tag, integer and range checks of the
//   envelope, data an object. This is the fold's path: the bytes are covered by the hash chain
//   that `mmsim check` verifies, and an io-ts decode per event would cost ten times the fold.
// - through the codecs (decodeFull): the structural check, then the event's own codec. This is
//   what `mmsim events` prints and wherever one event is shown.
// Either way a body that is not JSON or an element that fails is a StoreError naming the file,
// the run and the seq.
import * as E from 'fp-ts/Either'
import { decodeEvent, isEventType, type MmEvent } from '../events'
import { BODY_FIELDS, scanBody } from './batchBody'
import { StoreError } from './errors'

/** Where a decode failed: the file, run and seq a message names. */
export interface BatchPlace {
  readonly file: string
  readonly runId: number
}

const fault = (p: BatchPlace, seq: number, problem: string): StoreError => new StoreError(`${p.file}: run ${p.runId} seq ${seq}: ${problem}`)

/** Finds the event of a body that JSON.parse refused: the first whose shape or data breaks. */
const locateBadJson = (body: string, firstSeq: number): number => {
  const scan = scanBody(body, firstSeq, () => 0)
  if (!Array.isArray(scan)) return firstSeq + scan.index
  for (const r of scan)
    try {
      JSON.parse(r.data)
    } catch {
      return r.seq
    }
  return firstSeq
}

/** The body's elements, one per event from `firstSeq`. */
export const parseBody = (p: BatchPlace, firstSeq: number, body: string): unknown[] => {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch (err) {
    throw fault(p, locateBadJson(body, firstSeq), `the stored batch is not JSON (${(err as Error).message})`)
  }
  if (!Array.isArray(parsed)) throw fault(p, firstSeq, 'the stored batch is not a JSON array')
  return parsed
}

const isCount = (u: unknown): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0

/** Largest CPU number an envelope may carry (events/codecs.ts CpuId). */
const CPU_MAX = 255

/** Why an element is not an event, or null when it has the shape of one. */
const shapeProblem = (el: unknown): string | null => {
  if (!Array.isArray(el) || el.length !== BODY_FIELDS) return `expected an array of ${BODY_FIELDS} fields`
  // Indexed reads: array destructuring would go through the iterator protocol, per event.
  const f = el as unknown[]
  const t = f[0]
  const cpu = f[1]
  const type = f[2]
  const pfn = f[3]
  const npages = f[4]
  const cause = f[5]
  const data = f[6]
  if (!isCount(t)) return 't: expected a non-negative integer'
  if (cpu !== null && !(isCount(cpu) && cpu <= CPU_MAX)) return `cpu: expected null or a CPU number 0..${CPU_MAX}`
  if (typeof type !== 'string' || !isEventType(type)) return `type: unknown event type ${JSON.stringify(type)}`
  if (pfn !== null && !isCount(pfn)) return 'pfn: expected null or a non-negative integer'
  if (npages !== null && !isCount(npages)) return 'npages: expected null or a non-negative integer'
  if (cause !== null && !(isCount(cause) && cause > 0)) return 'cause: expected null or a positive integer'
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'data: expected an object'
  return null
}

/**
 * One element as an event after the structural check. The event has the shape the codecs give a
 * stored row: cause only when present, and last, so that `mmsim events --json` prints the same
 * text as it did from schema 3's rows.
 */
export const decodeChecked = (p: BatchPlace, seq: number, el: unknown): MmEvent => {
  const problem = shapeProblem(el)
  if (problem !== null) throw fault(p, seq, problem)
  const f = el as unknown[]
  const cause = f[5]
  // The casts are what the structural check stands for: the codec's own types.
  return (cause === null ? { seq, t: f[0], cpu: f[1], type: f[2], data: f[6] } : { seq, t: f[0], cpu: f[1], type: f[2], data: f[6], cause }) as MmEvent
}

/** One element as an event, through its codec. */
export const decodeFull = (p: BatchPlace, seq: number, el: unknown): MmEvent => {
  const e = decodeChecked(p, seq, el)
  const d = decodeEvent(e)
  if (E.isLeft(d)) throw new StoreError(`${p.file}: run ${p.runId} seq ${seq} (${e.type}): ${d.left}`)
  return d.right
}
