// The writer thread's work for one batch: hash the events (both chains, hashChain.ts), store the
// batch as one row of event_batches (its body and its events' hashes, eventBatches.ts), add its
// hash blocks, its index rows (eventIndex.ts), the multi-frame rows and the schedule decisions,
// and advance the run's head, all in one transaction. Only committed batches ever move the
// head, so whatever a dead process left is a complete, verifiable prefix.
import { EVENT_TYPES } from '../events'
import { assert } from '../lib'
import { DECISION_WORDS } from '../events/schedule'
import { BatchEncoder } from './batchEncoder'
import { SCHEDULE_GENESIS, headHash, scheduleHash } from './hashChain'
import { hashesBlob } from './eventBatches'
import { boundsOfBody } from './eventBounds'
import { indexBatch } from './eventIndex'
import type { Db } from './open'
import { BLOCK_EVENTS } from './schema'
import { chainGenesis } from './runs'
import type { BatchMessage } from './writerProtocol'
import type Database from 'better-sqlite3'

export class BatchWriter {
  private readonly insertBatch: Database.Statement
  private readonly insertType: Database.Statement
  private readonly insertFrame: Database.Statement
  private readonly insertBounds: Database.Statement
  private readonly insertPfn: Database.Statement
  private readonly insertBlock: Database.Statement
  private readonly insertDecisions: Database.Statement
  private readonly updateHead: Database.Statement
  private readonly commit: Database.Transaction<(b: BatchMessage) => void>
  private readonly encoder = new BatchEncoder(BLOCK_EVENTS)
  private prevH = 0
  private prevBlockHash: string
  private scheduleHead = SCHEDULE_GENESIS
  private head: string
  private blockNo = 0
  private chunkNo = 0
  private decisionsTotal = 0
  private lastSeq = 0
  private body: Uint8Array = new Uint8Array(0)

  constructor(
    db: Db,
    private readonly runId: number,
  ) {
    // The body goes in as its UTF-8 bytes and is stored as text as it is (CAST of a blob to
    // text keeps its bytes): made into a JavaScript string, it was decoded and encoded again.
    this.insertBatch = db.prepare('INSERT INTO event_batches (run_id, first_seq, last_seq, first_t, last_t, hashes, body) VALUES (?, ?, ?, ?, ?, ?, CAST(? AS TEXT))')
    this.insertType = db.prepare('INSERT INTO event_types (run_id, type, first_seq, seqs) VALUES (?, ?, ?, ?)')
    this.insertFrame = db.prepare('INSERT INTO event_frames (run_id, bucket, first_seq, entries) VALUES (?, ?, ?, ?)')
    this.insertBounds = db.prepare('INSERT INTO event_bounds (run_id, first_seq, bounds) VALUES (?, ?, ?)')
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

  /** The body of the last batch written, as stored; valid until the next batch. */
  get lastBody(): Uint8Array {
    return this.body
  }

  get decisions(): number {
    return this.decisionsTotal
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
    const encoded = this.encoder.encode(b, b.text.subarray(0, b.textBytes), this.prevH, this.prevBlockHash)
    if (b.n > 0) {
      this.prevH = encoded.hashes[b.n - 1]!
      this.body = encoded.body
      const body = Buffer.from(encoded.body.buffer, encoded.body.byteOffset, encoded.body.byteLength)
      this.insertBatch.run(run, b.firstSeq, b.firstSeq + b.n - 1, b.t[0], b.t[b.n - 1], hashesBlob(encoded.hashes), body)
      // The encoder wrote the body canonically: it holds its n events.
      this.insertBounds.run(run, b.firstSeq, boundsOfBody(body, b.n))
    }
    let first = b.firstSeq
    for (const [last, hash] of encoded.blocks) {
      this.insertBlock.run(run, this.blockNo++, first, last, hash)
      this.prevBlockHash = hash
      first = last + 1
    }
    const types = Array.from(b.type.subarray(0, b.n), (code) => EVENT_TYPES[code]!)
    const index = indexBatch({ firstSeq: b.firstSeq, n: b.n, types, pfn: b.pfn, npages: b.npages })
    for (const [type, seqs] of index.types) this.insertType.run(run, type, b.firstSeq, seqs)
    for (const [bucket, entries] of index.frames) this.insertFrame.run(run, bucket, b.firstSeq, entries)
    for (let i = 0; i < b.pfnPairs.length; i += 2) this.insertPfn.run(run, b.pfnPairs[i], b.pfnPairs[i + 1])
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
