// The event writer: the engine's sink for a run stored in SQLite. Events are encoded as they
// arrive and written in batched transactions; each batch also advances the run's head (seq and
// integrity hash), so whatever was committed when a process dies is a complete, verifiable prefix.
import { type MmEvent } from '../events'
import { MAX_ORDER } from '../events/codecs'
import { eventPfns, eventSpan } from '../events/span'
import { assert } from '../lib'
import { BLOCK_EVENTS } from './schema'
import { SCHEDULE_GENESIS, blockHash, eventFrames, headHash, rowHash, rowText, scheduleHash } from './hashChain'
import { chainGenesis } from './runs'
import type { Db } from './open'
import type Database from 'better-sqlite3'

/** The largest span an event may cover; "events of frame X" scans pfn in [X - this + 1, X]. */
export const SPAN_PAGES_MAX = 1 << (MAX_ORDER - 1)

export const DEFAULT_BATCH_EVENTS = BLOCK_EVENTS * 8

export class EventWriter {
  private readonly insertEvent: Database.Statement
  private readonly insertPfn: Database.Statement
  private readonly insertBlock: Database.Statement
  private readonly insertDecisions: Database.Statement
  private readonly updateHead: Database.Statement
  private readonly commitBatch: (n: number) => void
  // The pending batch, column by column.
  private seqs: number[] = []
  private times: number[] = []
  private cpus: (number | null)[] = []
  private types: string[] = []
  private pfns: (number | null)[] = []
  private npages: (number | null)[] = []
  private causes: (number | null)[] = []
  private datas: string[] = []
  private hs: number[] = []
  private frames: (readonly number[])[] = []
  private pendingDecisions: Uint32Array[] = []
  /** (pfn, seq) pairs of multi-frame events not yet written. */
  private pendingPfns: number[] = []
  private prevH = 0
  private prevBlockHash: string
  private scheduleHead = SCHEDULE_GENESIS
  private head: string
  private blockNo = 0
  private chunkNo = 0
  private decisionsTotal = 0
  private lastSeq = 0

  constructor(
    db: Db,
    readonly runId: number,
    private readonly batchEvents = DEFAULT_BATCH_EVENTS,
  ) {
    assert(batchEvents % BLOCK_EVENTS === 0, 'a batch is whole hash blocks')
    this.insertEvent = db.prepare(
      'INSERT INTO events (run_id, seq, t, cpu, type, pfn, npages, cause, data, h) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    this.insertPfn = db.prepare('INSERT OR IGNORE INTO event_pfns (run_id, pfn, seq) VALUES (?, ?, ?)')
    this.insertBlock = db.prepare('INSERT INTO event_blocks (run_id, block, first_seq, last_seq, hash) VALUES (?, ?, ?, ?, ?)')
    this.insertDecisions = db.prepare('INSERT INTO schedule (run_id, chunk, decisions) VALUES (?, ?, ?)')
    this.updateHead = db.prepare('UPDATE runs SET head_seq = ?, head_hash = ?, decisions = ?, schedule_hash = ? WHERE id = ?')
    this.commitBatch = db.transaction((n: number) => this.writeRows(n))
    this.prevBlockHash = chainGenesis(db, runId)
    this.head = headHash(this.prevBlockHash, 0, SCHEDULE_GENESIS, 0)
  }

  append(e: MmEvent): void {
    assert(e.seq === this.lastSeq + 1, `events arrive in seq order (${e.seq} after ${this.lastSeq})`)
    this.lastSeq = e.seq
    const span = eventSpan(e)
    const data = JSON.stringify(e.data)
    const cause = e.cause ?? null
    const pfn = span === null ? null : span.pfn
    const npages = span === null ? null : span.npages
    if (span !== null) assert(span.npages <= SPAN_PAGES_MAX, `${e.type} spans at most ${SPAN_PAGES_MAX} pages`)
    const frames = eventFrames(eventPfns(e))
    const h = rowHash(this.prevH, e.seq, e.t, e.cpu, e.type, pfn, npages, cause, frames, data)
    this.prevH = h
    this.seqs.push(e.seq)
    this.times.push(e.t)
    this.cpus.push(e.cpu)
    this.types.push(e.type)
    this.pfns.push(pfn)
    this.npages.push(npages)
    this.causes.push(cause)
    for (const f of frames) this.pendingPfns.push(f, e.seq)
    this.frames.push(frames)
    this.datas.push(data)
    this.hs.push(h)
    if (this.seqs.length >= this.batchEvents) this.flushWhole()
  }

  appendDecisions(chunk: Uint32Array): void {
    this.pendingDecisions.push(chunk)
  }

  get decisions(): number {
    return this.decisionsTotal
  }

  /** Writes the whole blocks pending; the tail of a partial block waits for more events. */
  private flushWhole(): void {
    const n = this.seqs.length - (this.seqs.length % BLOCK_EVENTS)
    if (n > 0) this.commitBatch(n)
  }

  /** Writes everything pending, ending with a partial block if need be (end of run, interrupt). */
  flush(): void {
    this.commitBatch(this.seqs.length)
  }

  /** The run's head hash (hashChain.ts headHash) as of the last committed batch. */
  get headHash(): string {
    return this.head
  }

  private writeRows(n: number): void {
    const ins = this.insertEvent
    const run = this.runId
    for (let i = 0; i < n; i++)
      ins.run(run, this.seqs[i], this.times[i], this.cpus[i], this.types[i], this.pfns[i], this.npages[i], this.causes[i], this.datas[i], this.hs[i])
    for (let b = 0; b < n; b += BLOCK_EVENTS) {
      const end = Math.min(n, b + BLOCK_EVENTS)
      const rows: string[] = new Array<string>(end - b)
      for (let i = b; i < end; i++)
        rows[i - b] = rowText(this.seqs[i]!, this.times[i]!, this.cpus[i]!, this.types[i]!, this.pfns[i]!, this.npages[i]!, this.causes[i]!, this.frames[i]!, this.datas[i]!)
      this.prevBlockHash = blockHash(this.prevBlockHash, rows)
      this.insertBlock.run(run, this.blockNo++, this.seqs[b], this.seqs[end - 1], this.prevBlockHash)
    }
    const pairs = this.pendingPfns
    let keep = 0
    for (let i = 0; i < pairs.length; i += 2) {
      if (n > 0 && pairs[i + 1]! <= this.seqs[n - 1]!) this.insertPfn.run(run, pairs[i], pairs[i + 1])
      else {
        pairs[keep++] = pairs[i]!
        pairs[keep++] = pairs[i + 1]!
      }
    }
    pairs.length = keep
    for (const chunk of this.pendingDecisions) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      this.insertDecisions.run(run, this.chunkNo++, bytes)
      this.scheduleHead = scheduleHash(this.scheduleHead, bytes)
      this.decisionsTotal += chunk.length
    }
    this.pendingDecisions = []
    const head = n > 0 ? this.seqs[n - 1]! : this.lastSeq - this.seqs.length
    this.head = headHash(this.prevBlockHash, head, this.scheduleHead, this.decisionsTotal)
    this.updateHead.run(head, this.head, this.decisionsTotal, this.scheduleHead, run)
    this.seqs = this.seqs.slice(n)
    this.times = this.times.slice(n)
    this.cpus = this.cpus.slice(n)
    this.types = this.types.slice(n)
    this.pfns = this.pfns.slice(n)
    this.npages = this.npages.slice(n)
    this.causes = this.causes.slice(n)
    this.datas = this.datas.slice(n)
    this.hs = this.hs.slice(n)
    this.frames = this.frames.slice(n)
  }
}
