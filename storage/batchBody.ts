// The stored form of a batch of events (schema 4): one row of event_batches per batch, whose body
// is a JSON array with one element per event, in seq order from the row's first_seq:
//
//   [[t,cpu,"Type",pfn,npages,cause,{data}],...]
//
// null where a field is absent, no whitespace, and {data} the event's data JSON text exactly as
// the row hash takes it (hashChain.ts). The writer spells every number as the row text does, so
// the body of an intact batch is canonical: scanBody splits it back into each event's exact
// fields, which is what verify hashes, and anything the writer never writes (a space, a
// respelt number, a missing bracket) is a fault located at the event where it occurs.
import type { StoredRow } from './readEvents'

/** Fields per event in a body: t, cpu, type, pfn, npages, cause, data. */
export const BODY_FIELDS = 7

/** One event's element of a body. Absent fields are null, as in the stored rows of schema 3. */
export const bodyElement = (t: number, cpu: number | null, type: string, pfn: number | null, npages: number | null, cause: number | null, data: string): string =>
  // One template, like rowText: the writer makes one of these per event.
  `[${t},${cpu},"${type}",${pfn},${npages},${cause},${data}]`

/** A body that does not have the canonical shape: `index` is the element (seq - first_seq) where it breaks. */
export interface BodyFault {
  readonly index: number
  readonly problem: string
  /** The events before it, which read as they should. */
  readonly rows: readonly StoredRow[]
}

/** The characters of a body's structure, as code units (the writer writes them as bytes: batchEncoder.ts). */
export const BODY_CHARS = { comma: 0x2c, quote: 0x22, openBracket: 0x5b, closeBracket: 0x5d, digit0: 0x30 } as const
const { comma: COMMA, quote: QUOTE, openBracket: OPEN_BRACKET, closeBracket: CLOSE_BRACKET, digit0: DIGIT_0 } = BODY_CHARS
const DIGIT_9 = 0x39
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d

/** Digits of the largest safe integer: a longer spelling is not one the writer makes. */
const SAFE_DIGITS_MAX = String(Number.MAX_SAFE_INTEGER).length

/**
 * Where the first `count` elements of a body stand, for reading a few events of a batch without
 * parsing all of it: p[k] is where element k starts, p[count] just past element count - 1, so
 * element k is body.slice(p[k], p[k + 1] - 1) and the last one body.slice(p[count - 1],
 * p[count]). `total` is how many elements the batch says it holds. Null when the body holds fewer
 * than `count`; what an element holds is its reader's to check.
 *
 * Every element ends with its data object's brace and its own bracket, and the next begins with
 * a bracket, so "}],[" marks each boundary, and String.indexOf finds them all at memchr speed. A
 * data string that happens to contain those four characters adds a mark, the count of marks then
 * disagrees with `total`, and a walk of every character that skips strings decides instead.
 */
export const elementBounds = (body: string, count: number, total: number): Uint32Array | null => {
  if (count > total) return walkBounds(body, count)
  const p = new Uint32Array(count + 1)
  if (count === 0) return p
  p[0] = 1
  let marks = 0
  for (let at = body.indexOf(BOUNDARY, 1); at >= 0; at = body.indexOf(BOUNDARY, at + BOUNDARY.length)) {
    if (++marks < count) p[marks] = at + 3
    else if (marks === count) p[count] = at + 2
  }
  if (marks !== total - 1 || body.charCodeAt(0) !== OPEN_BRACKET || !body.endsWith('}]]')) return walkBounds(body, count)
  if (count === total) p[count] = body.length - 1
  return p
}

/** Between two elements of a body: the end of one (its data's brace, its bracket), a comma, the next's bracket. */
const BOUNDARY = '}],['

const walkBounds = (body: string, count: number): Uint32Array | null => {
  const p = new Uint32Array(count + 1)
  if (count === 0) return p
  const end = body.length
  let depth = 0
  let k = 0
  for (let i = 0; i < end; i++) {
    const c = body.charCodeAt(i)
    if (c === QUOTE) {
      for (i++; i < end; i++) {
        const s = body.charCodeAt(i)
        if (s === BACKSLASH) i++
        else if (s === QUOTE) break
      }
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (depth === 1) p[k] = i
      depth++
    } else if ((c === CLOSE_BRACKET || c === CLOSE_BRACE) && --depth === 1 && ++k === count) {
      p[count] = i + 1
      return p
    }
  }
  return null
}

/** Element k of a body, given elementBounds(body, count) with k < count. */
export const elementText = (body: string, p: Uint32Array, k: number): string => body.slice(p[k]!, k + 1 < p.length - 1 ? p[k + 1]! - 1 : p[p.length - 1]!)

/**
 * Splits a body into its events' stored fields, exactly as written, checking the canonical shape
 * as it goes. `hashes` gives each row its `h` (NaN where the blob is too short; verify says so).
 * Integers must be spelt as the writer spells them (no sign, no leading zero, no fraction or
 * exponent, at most 2^53 - 1), so that a number read back and written again in a row text is
 * the same text that was hashed.
 */
export const scanBody = (body: string, firstSeq: number, hashes: (i: number) => number): StoredRow[] | BodyFault => {
  const rows: StoredRow[] = []
  const end = body.length
  let i = 0
  let k = 0
  let problem = ''
  // Reads an integer or null at i; leaves its value in `num` (null for null) and i after it.
  let num: number | null = null
  const integer = (field: string): boolean => {
    if (body.startsWith('null', i)) {
      num = null
      i += 4
      return true
    }
    const start = i
    let v = 0
    while (i < end) {
      const c = body.charCodeAt(i)
      if (c < DIGIT_0 || c > DIGIT_9) break
      v = v * 10 + (c - DIGIT_0)
      i++
    }
    const digits = i - start
    if (digits === 0 || digits > SAFE_DIGITS_MAX || (digits > 1 && body.charCodeAt(start) === DIGIT_0) || !Number.isSafeInteger(v)) {
      problem = `${field}: expected an integer or null as the writer spells it, at character ${start}`
      return false
    }
    num = v
    return true
  }
  const expect = (c: number, what: string): boolean => {
    if (body.charCodeAt(i) === c) {
      i++
      return true
    }
    problem = `expected ${what} at character ${i}`
    return false
  }
  // The data object: from its brace to the matching one, strings (and their escapes) skipped.
  const object = (): boolean => {
    if (body.charCodeAt(i) !== OPEN_BRACE) {
      problem = `data: expected an object at character ${i}`
      return false
    }
    let depth = 0
    while (i < end) {
      const c = body.charCodeAt(i++)
      if (c === QUOTE) {
        while (i < end) {
          const s = body.charCodeAt(i++)
          if (s === BACKSLASH) i++
          else if (s === QUOTE) break
        }
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth === 0) return c === CLOSE_BRACE || ((problem = `data: unbalanced brackets before character ${i}`), false)
      }
    }
    problem = 'data: the body ends inside it'
    return false
  }
  const element = (): boolean => {
    if (!expect(OPEN_BRACKET, "an event's [")) return false
    if (!integer('t')) return false
    const t: number | null = num
    if (t === null) {
      problem = 't: null'
      return false
    }
    if (!expect(COMMA, ',')) return false
    if (!integer('cpu') || !expect(COMMA, ',')) return false
    const cpu: number | null = num
    if (!expect(QUOTE, 'the type\'s "')) return false
    const typeStart = i
    while (i < end && body.charCodeAt(i) !== QUOTE && body.charCodeAt(i) !== BACKSLASH) i++
    const type = body.slice(typeStart, i)
    if (!expect(QUOTE, 'the end of the type (no escapes)') || !expect(COMMA, ',')) return false
    if (!integer('pfn') || !expect(COMMA, ',')) return false
    const pfn: number | null = num
    if (!integer('npages') || !expect(COMMA, ',')) return false
    const npages: number | null = num
    if (!integer('cause') || !expect(COMMA, ',')) return false
    const cause: number | null = num
    const dataStart = i
    if (!object()) return false
    const data = body.slice(dataStart, i)
    if (!expect(CLOSE_BRACKET, "the event's ]")) return false
    rows.push({ seq: firstSeq + k, t, cpu, type, pfn, npages, cause, data, h: hashes(k) })
    return true
  }
  if (!expect(OPEN_BRACKET, 'the body to be a JSON array')) return { index: 0, problem, rows }
  if (body.charCodeAt(i) === CLOSE_BRACKET && i + 1 === end) return rows
  for (;;) {
    if (!element()) return { index: k, problem, rows }
    k++
    if (body.charCodeAt(i) === COMMA) i++
    else if (body.charCodeAt(i) === CLOSE_BRACKET && i + 1 === end) return rows
    else return { index: k, problem: `expected , or the body's final ] at character ${i}`, rows }
  }
}
