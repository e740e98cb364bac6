// The writer thread's per-event work, done on bytes: each event's row text (hashChain.ts rowText,
// what both hash chains take) and its element of the batch's body (batchBody.ts bodyElement) are
// written as UTF-8 straight into two buffers kept from batch to batch, from the batch's columns
// and the data bytes the simulation thread encoded. Built as strings, they made several short-
// lived strings per event and a rope of the whole body, and the writer thread's collector took a
// third of its time. The bytes are those of rowText and bodyElement, character for character
// (test/batchEncoder.test.ts); the pinned head hashes hold them to it.
import { EVENT_TYPES } from '../events'
import { assert } from '../lib'
import { BODY_CHARS } from './batchBody'
import { blockHashOfText, cyrb53, cyrb53Bytes, eventFrames } from './hashChain'
import type { BatchMessage } from './writerProtocol'

const { comma: COMMA, quote: QUOTE, openBracket: OPEN_BRACKET, closeBracket: CLOSE_BRACKET, digit0: DIGIT_0 } = BODY_CHARS
const SEP = 0x1f
const NEWLINE = 0x0a
const ASCII_MAX = 0x7f
const NULL_TEXT = [0x6e, 0x75, 0x6c, 0x6c]
const QUOTE_TEXT = [QUOTE]

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()
const TYPE_BYTES = EVENT_TYPES.map((type) => utf8.encode(type))

/** Bytes an event's row or element takes besides its data, the frames it lists and its type, at most. */
const FIXED_BYTES_MAX = 7 * 17 + 16

/** 10^0 .. 10^15: the digits of an integer up to 2^53 - 1. */
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i)
const INT31_LIMIT = 2 ** 31

/** A growable byte buffer, written front to back and reused. */
class Bytes {
  buf = new Uint8Array(1 << 16)
  len = 0

  /** Room for `n` more bytes. */
  room(n: number): void {
    if (this.len + n <= this.buf.length) return
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + n))
    bigger.set(this.buf.subarray(0, this.len))
    this.buf = bigger
  }

  /** A non-negative integer (at most 2^53 - 1) in decimal, as `${v}` writes it. */
  uint(v: number): void {
    const b = this.buf
    let digits = 1
    while (digits < POW10.length && v >= POW10[digits]!) digits++
    let p = (this.len += digits)
    // Below 2^31 in integer arithmetic (most fields); above, in doubles (a long run's times).
    if (v < INT31_LIMIT) {
      let x = v | 0
      while (x >= 10) {
        const q = (x / 10) | 0
        b[--p] = DIGIT_0 + x - q * 10
        x = q
      }
      b[--p] = DIGIT_0 + x
      return
    }
    while (v >= 10) {
      const q = Math.floor(v / 10)
      b[--p] = DIGIT_0 + (v - q * 10)
      v = q
    }
    b[--p] = DIGIT_0 + v
  }

  /** `v`, or `absent` when it is (negative in the columns), then `sep`. */
  field(v: number, absent: readonly number[], sep: number): void {
    if (v >= 0) this.uint(v)
    else for (const c of absent) this.buf[this.len++] = c
    this.buf[this.len++] = sep
  }

  /**
   * The fields the row text and the body element share, in the order both have them: t, cpu,
   * type (between `quote`s), pfn, npages, cause, each followed by `sep`, `absent` for null.
   */
  shared(t: number, cpu: number, type: Uint8Array, pfn: number, npages: number, cause: number, absent: readonly number[], sep: number, quote: readonly number[]): void {
    this.field(t, absent, sep)
    this.field(cpu, absent, sep)
    for (const c of quote) this.buf[this.len++] = c
    this.copy(type, 0, type.length)
    for (const c of quote) this.buf[this.len++] = c
    this.buf[this.len++] = sep
    this.field(pfn, absent, sep)
    this.field(npages, absent, sep)
    this.field(cause, absent, sep)
  }

  copy(src: Uint8Array, from: number, to: number): void {
    const b = this.buf
    let p = this.len
    for (let i = from; i < to; i++) b[p++] = src[i]!
    this.len = p
  }
}

const NOTHING: readonly number[] = []

/** One batch's outputs: the body, each event's row hash, each full or final block's hash. */
export interface EncodedBatch {
  /** The body's UTF-8, valid until the next batch is encoded. */
  readonly body: Uint8Array
  readonly hashes: Float64Array
  /** [last seq of the block, its hash], in order. */
  readonly blocks: [number, string][]
}

export class BatchEncoder {
  private readonly body = new Bytes()
  private readonly rows = new Bytes()

  constructor(private readonly blockEvents: number) {}

  /**
   * Hashes and encodes batch `b`, chaining from the previous event's hash `prevH` and the previous
   * block's hash `prevBlock`; a block ends every blockEvents events of the run and at the batch's end.
   */
  encode(b: BatchMessage, data: Uint8Array, prevH: number, prevBlock: string): EncodedBatch {
    const body = this.body
    const rows = this.rows
    const hashes = new Float64Array(b.n)
    const blocks: [number, string][] = []
    body.len = 0
    rows.len = 0
    body.room(1)
    body.buf[body.len++] = OPEN_BRACKET
    let dataStart = 0
    let blockRows = 0
    // The batch's (pfn, seq) pairs come grouped by event in seq order: one cursor walks them.
    const pairs = b.pfnPairs
    let pair = 0
    for (let i = 0; i < b.n; i++) {
      const seq = b.firstSeq + i
      // An ASCII batch says where each data string ends; otherwise its newline does.
      let dataEnd = dataStart
      if (b.ascii) dataEnd += b.dataLength[i]!
      else while (data[dataEnd] !== NEWLINE) dataEnd++
      let listed: number[] | null = null
      while (pair < pairs.length && pairs[pair + 1] === seq) {
        ;(listed ??= []).push(pairs[pair]!)
        pair += 2
      }
      const frames = eventFrames(listed)
      const type = TYPE_BYTES[b.type[i]!]!
      const t = b.t[i]!
      const cpu = b.cpu[i]!
      const pfn = b.pfn[i]!
      const npages = pfn < 0 ? -1 : b.npages[i]!
      const cause = b.cause[i]!
      const room = FIXED_BYTES_MAX + type.length + dataEnd - dataStart + frames.length * 17
      // The row text: seq ␟ t ␟ cpu ␟ type ␟ pfn ␟ npages ␟ cause ␟ frames ␟ data.
      rows.room(room)
      if (blockRows > 0) rows.buf[rows.len++] = NEWLINE
      const rowStart = rows.len
      rows.field(seq, NOTHING, SEP)
      rows.shared(t, cpu, type, pfn, npages, cause, NOTHING, SEP, NOTHING)
      for (let f = 0; f < frames.length; f++) {
        if (f > 0) rows.buf[rows.len++] = COMMA
        rows.uint(frames[f]!)
      }
      rows.buf[rows.len++] = SEP
      let ascii = b.ascii
      if (!ascii) {
        let or = 0
        for (let j = dataStart; j < dataEnd; j++) or |= data[j]!
        ascii = or <= ASCII_MAX
      }
      rows.copy(data, dataStart, dataEnd)
      // cyrb53 takes code units: a row with other characters than ASCII is hashed as its text.
      const h = ascii ? cyrb53Bytes(rows.buf, rowStart, rows.len, prevH) : cyrb53(fromUtf8.decode(rows.buf.subarray(rowStart, rows.len)), prevH)
      hashes[i] = prevH = h
      // The body's element: [t,cpu,"type",pfn,npages,cause,data].
      body.room(room)
      if (i > 0) body.buf[body.len++] = COMMA
      body.buf[body.len++] = OPEN_BRACKET
      body.shared(t, cpu, type, pfn, npages, cause, NULL_TEXT, COMMA, QUOTE_TEXT)
      body.copy(data, dataStart, dataEnd)
      body.buf[body.len++] = CLOSE_BRACKET
      dataStart = dataEnd + 1
      if (++blockRows === this.blockEvents || i === b.n - 1) {
        prevBlock = blockHashOfText(prevBlock, rows.buf.subarray(0, rows.len))
        blocks.push([seq, prevBlock])
        rows.len = 0
        blockRows = 0
      }
    }
    assert(pair === pairs.length, 'every listed frame belongs to an event of the batch')
    body.room(1)
    body.buf[body.len++] = CLOSE_BRACKET
    return { body: body.buf.subarray(0, body.len), hashes, blocks }
  }
}
