// The writer thread's work for one batch: hash the rows (both chains, hashChain.ts), insert them
// with multi-row statements, add the batch's index rows (eventIndex.ts), the multi-frame rows
// and the schedule decisions, and advance the run's head, all in one transaction. Only committed
// rows ever move the head, so whatever a dead process left is a complete, verifiable prefix.
import { assert } from '../lib'
import { DECISION_WORDS } from '../events/schedule'
import { SCHEDULE_GENESIS, blockHash, cyrb53, eventFrames, headHash, rowText, scheduleHash } from './hashChain'
import { indexBatch } from './eventIndex'
import type { Db } from './open'
import { BLOCK_EVENTS } from './schema'
import { chainGenesis } from './runs'
import type { BatchMessage } from './writerProtocol'
import type Database from 'better-sqlite3'

const utf8 = new TextDecoder()

/** Rows per INSERT statement: one native call per this many rows instead of one per row. */
const ROWS_PER_INSERT = 32
const EVENT_COLUMNS = 10

const insertSql = (rows: number): string =>
  `INSERT INTO events (run_id, seq, t, cpu, type, pfn, npages, cause, data, h) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`

export class BatchWriter {
  private readonly inserts = new Map<number, Database.Statement>()
  private readonly insertType: Database.Statement
  private readonly insertFrame: Database.Statement
  private readonly insertPfn: Database.Statement
  private readonly insertBlock: Database.Statement
  private readonly insertDecisions: Database.Statement
  private readonly updateHead: Database.Statement
  private readonly commit: Database.Transaction<(b: BatchMessage) => void>
  private prevH = 0
  private prevBlockHash: string
  private scheduleHead = SCHEDULE_GENESIS
  private head: string
  private blockNo = 0
  private chunkNo = 0
  private decisionsTotal = 0
  private lastSeq = 0

  constructor(
    private readonly db: Db,
    private readonly runId: number,
  ) {
    this.insertType = db.prepare('INSERT INTO event_types (run_id, type, first_seq, seqs) VALUES (?, ?, ?, ?)')
    this.insertFrame = db.prepare('INSERT INTO event_frames (run_id, bucket, first_seq, entries) VALUES (?, ?, ?, ?)')
    this.insertPfn = db.prepare('INSERT OR IGNORE INTO event_pfns (run_id, pfn, seq) VALUES (?, ?, ?)')
    this.insertBlock = db.prepare('INSERT INTO event_blocks (run_id, block, first_seq, last_seq, hash) VALUES (?, ?, ?, ?, ?)')
    this.insertDecisions = db.prepare('INSERT INTO schedule (run_id, chunk, decisions) VALUES (?, ?, ?)')
    this.updateHead = db.prepare('UPDATE runs SET head_seq = ?, head_hash = ?, decisions = ?, schedule_hash = ? WHERE id = ?')
    this.commit = db.transaction((b: BatchMessage) => this.write(b))
    this.prevBlockHash = chainGenesis(db, runId)
    this.head = headHash(this.prevBlockHash, 0, SCHEDULE_GENESIS, 0)
  }

  get headSeq(): number {
    return this.lastSeq
  }

  /** The run's head hash (hashChain.ts headHash) as of the last committed batch. */
  get headHash(): string {
    return this.head
  }

  get decisions(): number {
    return this.decisionsTotal
  }

  private insertN(rows: number): Database.Statement {
    let s = this.inserts.get(rows)
    if (s === undefined) this.inserts.set(rows, (s = this.db.prepare(insertSql(rows))))
    return s
  }

  /** Commits one batch, or throws and commits nothing of it (the head stays where it was). */
  writeBatch(b: BatchMessage): void {
    assert(b.firstSeq === this.lastSeq + 1, `batches arrive in seq order (${b.firstSeq} after ${this.lastSeq})`)
    if (b.n > 0) assert((b.firstSeq - 1) % BLOCK_EVENTS === 0, 'a batch starts a hash block')
    const prev = {
      h: this.prevH,
      block: this.prevBlockHash,
      blockNo: this.blockNo,
      chunkNo: this.chunkNo,
      decisions: this.decisionsTotal,
      schedule: this.scheduleHead,
      head: this.head,
    }
    try {
      // IMMEDIATE: the write lock first, waited for with the busy timeout; a deferred transaction
      // could meet SQLITE_BUSY_SNAPSHOT when another writer commits between its read and its write.
      this.commit.immediate(b)
    } catch (err) {
      // The transaction rolled back: so do the chains.
      this.prevH = prev.h
      this.prevBlockHash = prev.block
      this.blockNo = prev.blockNo
      this.chunkNo = prev.chunkNo
      this.decisionsTotal = prev.decisions
      this.scheduleHead = prev.schedule
      this.head = prev.head
      throw err
    }
    this.lastSeq = b.firstSeq + b.n - 1
  }

  private write(b: BatchMessage): void {
    const run = this.runId
    const text = b.textBytes === 0 ? [] : utf8.decode(b.text.subarray(0, b.textBytes - 1)).split('\n')
    assert(text.length === 2 * b.n, 'one type and one data string per event')
    const types: string[] = new Array<string>(b.n)
    const args: unknown[] = new Array<unknown>(ROWS_PER_INSERT * EVENT_COLUMNS)
    let block: string[] = []
    let inGroup = 0
    // The batch's (pfn, seq) pairs come grouped by event in seq order: one cursor walks them.
    const pairs = b.pfnPairs
    let pair = 0
    for (let i = 0; i < b.n; i++) {
      const seq = b.firstSeq + i
      const t = b.t[i]!
      const cpu = b.cpu[i]! < 0 ? null : b.cpu[i]!
      const type = text[2 * i]!
      const data = text[2 * i + 1]!
      const cause = b.cause[i]! < 0 ? null : b.cause[i]!
      const pfn = b.pfn[i]! < 0 ? null : b.pfn[i]!
      const npages = pfn === null ? null : b.npages[i]!
      types[i] = type
      let listed: number[] | null = null
      while (pair < pairs.length && pairs[pair + 1] === seq) {
        ;(listed ??= []).push(pairs[pair]!)
        pair += 2
      }
      const frames = eventFrames(listed)
      // rowHash is by definition cyrb53 of the row's text: the text the block hash needs anyway.
      const row = rowText(seq, t, cpu, type, pfn, npages, cause, frames, data)
      const h = cyrb53(row, this.prevH)
      this.prevH = h
      block.push(row)
      if (block.length === BLOCK_EVENTS || i === b.n - 1) {
        this.prevBlockHash = blockHash(this.prevBlockHash, block)
        this.insertBlock.run(run, this.blockNo++, seq - block.length + 1, seq, this.prevBlockHash)
        block = []
      }
      let j = inGroup * EVENT_COLUMNS
      args[j++] = run
      args[j++] = seq
      args[j++] = t
      args[j++] = cpu
      args[j++] = type
      args[j++] = pfn
      args[j++] = npages
      args[j++] = cause
      args[j++] = data
      args[j] = h
      if (++inGroup === ROWS_PER_INSERT) {
        this.insertN(ROWS_PER_INSERT).run(args)
        inGroup = 0
      }
    }
    if (inGroup > 0) this.insertN(inGroup).run(args.slice(0, inGroup * EVENT_COLUMNS))
    const index = indexBatch({ firstSeq: b.firstSeq, n: b.n, types, pfn: b.pfn, npages: b.npages })
    for (const [type, seqs] of index.types) this.insertType.run(run, type, b.firstSeq, seqs)
    for (const [bucket, entries] of index.frames) this.insertFrame.run(run, bucket, b.firstSeq, entries)
    for (let i = 0; i < b.pfnPairs.length; i += 2) this.insertPfn.run(run, b.pfnPairs[i], b.pfnPairs[i + 1])
    assert(pair === pairs.length, 'every listed frame belongs to an event of the batch')
    for (const chunk of b.decisions) {
      assert(chunk.length % DECISION_WORDS === 0, 'a schedule chunk holds whole decision records')
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      this.insertDecisions.run(run, this.chunkNo++, bytes)
      this.scheduleHead = scheduleHash(this.scheduleHead, bytes)
      this.decisionsTotal += chunk.length / DECISION_WORDS
    }
    const headSeq = b.firstSeq + b.n - 1
    this.head = headHash(this.prevBlockHash, headSeq, this.scheduleHead, this.decisionsTotal)
    this.updateHead.run(headSeq, this.head, this.decisionsTotal, this.scheduleHead, run)
  }
}
