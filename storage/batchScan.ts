// The fold's decoder of a stored batch: one pass over the body's canonical spelling
// (batchBody.ts) that makes each event object as the fold asks for it, with the structural check
// of batchDecode.ts (field count, a known type tag, integers as the writer spells them, CPU and
// cause in range, data an object), and nothing else.
//
// Why not JSON.parse of the body, then a check per element: profiled on a 2.1 M-event run with
// page hinting, parsing whole bodies took 35 % of the fold and the collector another 19 %, for a
// generic array per event and a batch's worth of them alive at once (so they outlived the young
// generation). Here nothing but the event and its data object is made: the body is read as its
// UTF-8 bytes (no string of it is made: SQLite hands over the stored bytes), type tags are found
// by a hash of their bytes, each type's data keys are compared in place with the keys its last
// event had (its shape), short string values are interned (the same few dozen strings recur
// millions of times), numbers are read digit by digit, and a data object that holds anything but
// integers, unescaped strings, booleans and null (a nested list, a fraction) is handed to
// JSON.parse on its own.
import { EVENT_TYPES, type MmEvent } from '../events'
import { BODY_CHARS, BODY_FIELDS } from './batchBody'
import type { BatchPlace } from './batchDecode'
import { StoreError } from './errors'

const { comma: COMMA, quote: QUOTE, openBracket: OPEN_BRACKET, closeBracket: CLOSE_BRACKET, digit0: DIGIT_0 } = BODY_CHARS
const DIGIT_9 = 0x39
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const COLON = 0x3a
const MINUS = 0x2d
const LETTER_N = 0x6e
const LETTER_T = 0x74
const LETTER_F = 0x66
const LETTER_E = 0x65
const LETTER_CAPITAL_E = 0x45
const DOT = 0x2e

/** Largest CPU number an envelope may carry (events/codecs.ts CpuId). */
const CPU_MAX = 255
/** Digits of the largest safe integer: a longer spelling is not one the writer makes. */
const SAFE_DIGITS_MAX = String(Number.MAX_SAFE_INTEGER).length
/** Strings longer than this are sliced, not interned: interning is for names and enum-like values. */
const INTERN_LENGTH_MAX = 48

const utf8 = new TextEncoder()
/** The bytes of a string, as the body spells it. */
const codes = (s: string): Uint8Array => utf8.encode(s)

const TYPE_CODES = EVENT_TYPES.map(codes)
/** Bits of the table that finds a type tag by a hash of its characters (open addressing: at most a sixteenth full). */
const TYPE_TABLE_BITS = Math.max(8, Math.ceil(Math.log2(EVENT_TYPES.length * 16)))
const TYPE_TABLE_MASK = (1 << TYPE_TABLE_BITS) - 1
/** The hash the scan takes of a string's characters as it looks for the string's end. */
const hashStep = (h: number, c: number): number => (Math.imul(h, 31) + c) | 0
const hashOf = (s: string): number => {
  let h = 0
  for (let i = 0; i < s.length; i++) h = hashStep(h, s.charCodeAt(i))
  return h
}

/** Index into EVENT_TYPES by the low bits of a type tag's hash, the next free slot on a collision; -1 where none. */
const TYPE_TABLE = new Int16Array(1 << TYPE_TABLE_BITS).fill(-1)
for (const [k, type] of EVENT_TYPES.entries()) {
  let slot = hashOf(type) & TYPE_TABLE_MASK
  while (TYPE_TABLE[slot] !== -1) slot = (slot + 1) & TYPE_TABLE_MASK
  TYPE_TABLE[slot] = k
}

/** The same string V8 uses as a property name (an object literal's key is internalized), so objects built with it share their shapes fast. */
const internalized = (s: string): string => Object.keys({ [s]: 0 })[0]!

/** Bits of the intern table: short strings of the body by a hash of their characters, the last one seen per slot. */
const INTERN_BITS = 12
const INTERN_MASK = (1 << INTERN_BITS) - 1
const internTable: (string | undefined)[] = new Array<string | undefined>(1 << INTERN_BITS).fill(undefined)

/**
 * A data object's keys in the order one event type's events spell them, with the text before each
 * value (`{"pfn":`, then `,"order":`, ...): an object of that shape is read by comparing those
 * characters in place, then made by `make` from its values. Learnt from the first event of each
 * type (the engine builds each type's data the same way), learnt again when an event of the type
 * differs.
 */
interface Shape {
  readonly texts: readonly Uint8Array[]
  readonly make: (values: readonly unknown[]) => Record<string, unknown>
}

/** Keys an object literal of `makerOf` may name: identifiers, so that the text it compiles is names and indices only. */
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/**
 * A function that makes an object with these keys from its values. For identifier keys, an
 * object literal compiled once per shape: V8 then makes each object at once in its final shape.
 * Built by assigning key after key, as JSON.parse and a generic loop do, the data objects cost a
 * third of the fold's decode (measured on the bench's run: 0.17 of 0.5 µs per event).
 */
const makerOf = (keys: readonly string[]): Shape['make'] => {
  if (keys.every((k) => IDENTIFIER.test(k) && k !== '__proto__')) return new Function('v', `return { ${keys.map((k, j) => `${k}: v[${j}]`).join(', ')} }`) as Shape['make']
  return (values) => {
    const o: Record<string, unknown> = {}
    for (let j = 0; j < keys.length; j++) o[keys[j]!] = values[j]
    return o
  }
}

/** Shapes by their keys (joined by a character a key of a flat object cannot hold unescaped): each is compiled once. */
const shapesByKeys = new Map<string, Shape>()
const shapeOf = (keys: readonly string[]): Shape => {
  const id = keys.join('\n')
  let s = shapesByKeys.get(id)
  if (s === undefined) {
    s = { texts: keys.map((k, j) => codes(`${j === 0 ? '{' : ','}${JSON.stringify(k)}:`)), make: makerOf(keys) }
    shapesByKeys.set(id, s)
  }
  return s
}
/** By index into EVENT_TYPES. Shared by every reader of the process: shapes are the engine's. */
const shapes: (Shape | undefined)[] = new Array<Shape | undefined>(EVENT_TYPES.length).fill(undefined)

/** Whether b[start..end) holds exactly `text`. */
const sameCodes = (b: Uint8Array, start: number, end: number, text: Uint8Array): boolean => {
  if (end - start !== text.length) return false
  for (let m = 0; m < text.length; m++) if (b[start + m] !== text[m]) return false
  return true
}

/** Whether the ASCII string `s` stands in b at `start`. */
const sameText = (b: Uint8Array, start: number, s: string): boolean => {
  for (let m = 0; m < s.length; m++) if (b[start + m] !== s.charCodeAt(m)) return false
  return true
}

/** Between two elements of a body: the end of one (its data's brace, its bracket), a comma, the next's bracket. */
const BOUNDARY = codes('}],[')

/** Thrown inside the scan; the reader turns it into a StoreError naming the seq. */
class Fault {
  constructor(readonly problem: string) {}
}

/** A data object the fast path does not read: JSON.parse takes it. */
const COMPLEX = Symbol('complex')

/**
 * The events of one stored batch from offset `lo` to `hi` (seq - firstSeq), decoded one at a
 * time and in order by `next()`; `count` of them. `body` is the body's UTF-8 bytes; `total` is
 * how many events the batch row says it holds: reading the last one checks that the body ends
 * there. Positions in messages are byte offsets.
 */
export class BatchScanner {
  private i = 0
  private k = 0
  /** The type of the element being read, as an index into EVENT_TYPES. */
  private typeIndex = 0
  /** A shaped object's values, before it is made. */
  private values: unknown[] = new Array<unknown>(16)
  readonly count: number

  constructor(
    private readonly place: BatchPlace,
    private readonly body: Uint8Array,
    private readonly firstSeq: number,
    lo: number,
    private readonly hi: number,
    private readonly total: number,
  ) {
    this.count = Math.max(0, hi - lo + 1)
    if (this.count > 0) this.i = this.startOf(lo)
    this.k = lo
  }

  /** The next event; a StoreError naming the file, run and seq when the body does not hold one there. */
  next(): MmEvent {
    const seq = this.firstSeq + this.k
    if (this.k > this.hi) throw this.fault(seq, 'read past the events asked for')
    try {
      const e = this.element(seq)
      this.afterElement()
      this.k++
      return e
    } catch (err) {
      if (err instanceof Fault) throw this.fault(seq, err.problem)
      throw err
    }
  }

  private fault(seq: number, problem: string): StoreError {
    return new StoreError(`${this.place.file}: run ${this.place.runId} seq ${seq}: ${problem}`)
  }

  /**
   * Where element `k` starts. Past the first, by the marks between elements (as batchBody.ts
   * elementBounds finds them, natively) when the body has exactly one mark per boundary; else (a
   * data string that holds the mark, a damaged body) by a walk that names the event where it breaks.
   */
  private startOf(k: number): number {
    const b = this.body
    if (b[0] !== OPEN_BRACKET) throw this.fault(this.firstSeq, 'the stored batch is not a JSON array')
    if (k === 0) return 1
    const bytes = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
    let marks = 0
    let start = -1
    for (let at = bytes.indexOf(BOUNDARY, 1); at >= 0; at = bytes.indexOf(BOUNDARY, at + BOUNDARY.length)) if (++marks === k) start = at + 3
    if (marks === this.total - 1 && start >= 0) return start
    this.i = 1
    for (this.k = 0; this.k < k; this.k++) {
      try {
        this.skipElement()
        this.afterElement()
      } catch (err) {
        if (err instanceof Fault) throw this.fault(this.firstSeq + this.k, err.problem)
        throw err
      }
    }
    return this.i
  }

  /** After element k: a comma, or the body's final bracket when k is the batch's last. */
  private afterElement(): void {
    const b = this.body
    const last = this.k === this.total - 1
    const c = b[this.i]
    if (!last && c === COMMA) {
      this.i++
      return
    }
    if (last && c === CLOSE_BRACKET && this.i + 1 === b.length) return
    if (c === COMMA || c === CLOSE_BRACKET)
      throw new Fault(last ? `the batch holds more than the ${this.total} events its row says` : `the batch holds ${this.k + 1} events, its row says ${this.total}`)
    throw new Fault(`expected , or the body's final ] at byte ${this.i}`)
  }

  private expect(c: number, what: string): void {
    if (this.body[this.i] !== c) throw new Fault(`expected ${what} at byte ${this.i}`)
    this.i++
  }

  /** A non-negative integer as the writer spells it, or -1 for null. */
  private count_(field: string): number {
    const b = this.body
    let i = this.i
    if (b[i] === LETTER_N) {
      if (!sameText(b, i, 'null')) throw new Fault(`${field}: expected an integer or null at byte ${i}`)
      this.i = i + 4
      return -1
    }
    const start = i
    let v = 0
    for (let c = b[i]!; c >= DIGIT_0 && c <= DIGIT_9; c = b[++i]!) v = v * 10 + (c - DIGIT_0)
    const digits = i - start
    if (digits === 0 || digits > SAFE_DIGITS_MAX || (digits > 1 && b[start] === DIGIT_0) || v > Number.MAX_SAFE_INTEGER)
      throw new Fault(`${field}: expected an integer or null as the writer spells it, at byte ${start}`)
    this.i = i
    return v
  }

  private element(seq: number): MmEvent {
    this.expect(OPEN_BRACKET, "an event's [")
    const t = this.count_('t')
    if (t < 0) throw new Fault('t: expected a non-negative integer')
    this.expect(COMMA, ',')
    const cpuV = this.count_('cpu')
    if (cpuV > CPU_MAX) throw new Fault(`cpu: expected null or a CPU number 0..${CPU_MAX}`)
    this.expect(COMMA, ',')
    const type = this.typeTag()
    this.expect(COMMA, ',')
    this.count_('pfn')
    this.expect(COMMA, ',')
    this.count_('npages')
    this.expect(COMMA, ',')
    const causeV = this.count_('cause')
    if (causeV === 0) throw new Fault('cause: expected null or a positive integer')
    this.expect(COMMA, ',')
    const data = this.data()
    this.expect(CLOSE_BRACKET, `the event's ] (an event has ${BODY_FIELDS} fields)`)
    const cpu = cpuV < 0 ? null : cpuV
    // The shape decodeChecked gives: cause only when present, and last. The casts are what the
    // structural check stands for: the codec's own types.
    return (causeV < 0 ? { seq, t, cpu, type, data } : { seq, t, cpu, type, data, cause: causeV }) as MmEvent
  }

  /** The type tag, one of EVENT_TYPES, found in place; its index is left in `typeIndex`. */
  private typeTag(): string {
    const b = this.body
    this.expect(QUOTE, 'the type\'s "')
    const start = this.i
    let h = 0
    let i = start
    for (let c = b[i]; c !== QUOTE && c !== undefined; c = b[++i]) h = hashStep(h, c)
    if (i < b.length)
      for (let slot = h & TYPE_TABLE_MASK, k = TYPE_TABLE[slot]!; k >= 0; slot = (slot + 1) & TYPE_TABLE_MASK, k = TYPE_TABLE[slot]!)
        if (sameCodes(b, start, i, TYPE_CODES[k]!)) {
          this.i = i + 1
          this.typeIndex = k
          return EVENT_TYPES[k]!
        }
    throw new Fault(`type: unknown event type ${i >= b.length ? 'at the end of the body' : JSON.stringify(this.text(start, i))}`)
  }

  private text(start: number, end: number): string {
    return Buffer.from(this.body.buffer, this.body.byteOffset, this.body.byteLength).toString('utf8', start, end)
  }

  /** The data object: read in place when it is flat (by its type's shape when it has that), else by JSON.parse of its text. */
  private data(): Record<string, unknown> {
    const start = this.i
    if (this.body[start] !== OPEN_BRACE) throw new Fault(`data: expected an object at byte ${start}`)
    const shape = shapes[this.typeIndex]
    if (shape !== undefined) {
      const o = this.shaped(shape)
      if (o !== null) return o
      this.i = start
    }
    const flat = this.flatObject()
    if (flat !== COMPLEX) return flat
    this.i = start
    this.skipObject()
    try {
      return JSON.parse(this.text(start, this.i)) as Record<string, unknown>
    } catch (err) {
      throw new Fault(`data: not JSON (${(err as Error).message})`)
    }
  }

  /** An object spelt as `shape` says, with flat values; null for any other (the caller starts again). */
  private shaped(shape: Shape): Record<string, unknown> | null {
    const b = this.body
    const texts = shape.texts
    const values = this.values
    for (let j = 0; j < texts.length; j++) {
      const text = texts[j]!
      if (!sameCodes(b, this.i, this.i + text.length, text)) return null
      this.i += text.length
      const v = this.value()
      if (v === COMPLEX) return null
      values[j] = v
    }
    if (b[this.i] !== CLOSE_BRACE) return null
    this.i++
    return shape.make(values)
  }

  /**
   * An object of integers, unescaped strings, booleans and null, its keys read one by one; COMPLEX
   * for anything else (the caller starts again). Its keys become its type's shape.
   */
  private flatObject(): Record<string, unknown> | typeof COMPLEX {
    const b = this.body
    const o: Record<string, unknown> = {}
    const keys: string[] = []
    this.i++
    if (b[this.i] === CLOSE_BRACE) {
      this.i++
      return o
    }
    for (;;) {
      if (b[this.i] !== QUOTE) return COMPLEX
      const key = this.string()
      // A key JSON.parse makes an own property, and an assignment would make a prototype.
      if (key === null || key === '__proto__' || b[this.i] !== COLON || keys.includes(key)) return COMPLEX
      this.i++
      const v = this.value()
      if (v === COMPLEX) return COMPLEX
      o[key] = v
      keys.push(key)
      const sep = b[this.i++]
      if (sep === CLOSE_BRACE) break
      if (sep !== COMMA) return COMPLEX
    }
    shapes[this.typeIndex] = shapeOf(keys)
    if (this.values.length < keys.length) this.values = new Array<unknown>(keys.length)
    return o
  }

  /** A flat value (an integer, a string without escapes, true, false, null); COMPLEX for any other. */
  private value(): unknown {
    const b = this.body
    const c = b[this.i]!
    if ((c >= DIGIT_0 && c <= DIGIT_9) || c === MINUS) return this.integer()
    if (c === QUOTE) return this.string() ?? COMPLEX
    if (c === LETTER_T && sameText(b, this.i, 'true')) {
      this.i += 4
      return true
    }
    if (c === LETTER_F && sameText(b, this.i, 'false')) {
      this.i += 5
      return false
    }
    if (c === LETTER_N && sameText(b, this.i, 'null')) {
      this.i += 4
      return null
    }
    return COMPLEX
  }

  /** An integer JSON.parse reads exactly (at most 15 digits, no leading zero); COMPLEX for any other number. */
  private integer(): number | typeof COMPLEX {
    const b = this.body
    let i = this.i
    const negative = b[i] === MINUS
    if (negative) i++
    const start = i
    let v = 0
    for (let c = b[i]!; c >= DIGIT_0 && c <= DIGIT_9; c = b[++i]!) v = v * 10 + (c - DIGIT_0)
    const digits = i - start
    if (digits === 0 || digits > SAFE_DIGITS_MAX - 1 || (digits > 1 && b[start] === DIGIT_0)) return COMPLEX
    const next = b[i]
    // A fraction or an exponent: JSON.parse's rounding, not ours.
    if (next === DOT || next === LETTER_E || next === LETTER_CAPITAL_E) return COMPLEX
    this.i = i
    return negative ? -v : v
  }

  /**
   * A string without escapes at a quote; null when it has an escape, a control character or no
   * end. A short ASCII one is interned (the table holds the last string seen per slot of the hash).
   */
  private string(): string | null {
    const b = this.body
    const start = this.i + 1
    let h = 0
    let ascii = 0
    let i = start
    for (let c = b[i]; c !== QUOTE; c = b[++i]) {
      if (c === undefined || c === BACKSLASH || c < 0x20) return null
      ascii |= c
      h = hashStep(h, c)
    }
    this.i = i + 1
    if (i - start > INTERN_LENGTH_MAX || ascii >= 0x80) return this.text(start, i)
    const slot = h & INTERN_MASK
    const held = internTable[slot]
    if (held !== undefined && held.length === i - start && sameText(b, start, held)) return held
    const s = internalized(this.text(start, i))
    internTable[slot] = s
    return s
  }

  /** From a data object's brace to just past the matching one, strings and their escapes skipped. */
  private skipObject(): void {
    const b = this.body
    const end = b.length
    let depth = 0
    let i = this.i
    while (i < end) {
      const c = b[i++]
      if (c === QUOTE) {
        while (i < end) {
          const s = b[i++]
          if (s === BACKSLASH) i++
          else if (s === QUOTE) break
        }
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth === 0) {
          if (c !== CLOSE_BRACE) throw new Fault(`data: unbalanced brackets before byte ${i}`)
          this.i = i
          return
        }
      }
    }
    throw new Fault('data: the body ends inside it')
  }

  /** Reads one element for its place: what it holds is checked as when it is wanted. */
  private skipElement(): void {
    this.element(0)
  }
}
