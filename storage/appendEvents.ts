// The event writer: the engine's sink for a run stored in SQLite, on two cores. The simulation
// thread does only what needs the event objects (the span, JSON.stringify of the data) and packs
// each batch into transferable columns; a writer thread (writerWorker.ts) hashes (both chains),
// stores the batch as one row and indexes it in one transaction that also advances the run's
// head. Up to MAX_BATCHES_IN_FLIGHT batches wait for the writer, so that neither thread waits on
// the other's time slice on a busy machine; beyond that the simulation waits (bounded memory).
// An interrupt drops the batches not yet begun and waits for one commit.
import { receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads'
import { EVENT_TYPES, type EventType, type MmEvent } from '../events'
import { eventPfns, eventSpan } from '../events/span'
import { assert } from '../lib'
import { StoreError } from './errors'
import { SPAN_PAGES_MAX } from './eventIndex'
import { DECISION_WORDS } from '../events/schedule'
import { BLOCK_EVENTS } from './schema'
import { startWriterThread } from './writerThread'
import { CTRL_ABANDON, CTRL_CLOSED, CTRL_DONE, CTRL_WORDS, type BatchMessage, type FromWriter } from './writerProtocol'

export { SPAN_PAGES_MAX }

/** Events per batch: one commit's time is what an interrupt waits for, at most. */
export const DEFAULT_BATCH_EVENTS = BLOCK_EVENTS * 4

/** Batches handed to the writer and not yet committed, at most. */
export const MAX_BATCHES_IN_FLIGHT = 8

/** The writer thread could not store a batch (disk full, I/O error): the run ends at its head. */
export class WriteFailed extends StoreError {
  constructor(
    message: string,
    readonly code: string | null,
    /** The last seq that is stored. */
    readonly headSeq: number,
  ) {
    super(message)
  }
}

/** What a user should read for SQLite's write errors: a size limit shows as an I/O error. */
const describeWriteError = (code: string | null, message: string): string => {
  if (code === 'SQLITE_FULL') return 'the disk is full'
  if (code !== null && code.startsWith('SQLITE_IOERR')) return `${message} while writing (is the disk full, or a file size limit reached?)`
  return message
}

/** Atomics.waitAsync (Node 16 and later; not in the ES2022 library typings). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync: (a: Int32Array, index: number, value: number, timeoutMs: number) => { async: boolean; value: Promise<string> | string }
  }
).waitAsync

/** Room for an event's JSON data in a new batch's text buffer (it grows if need be). */
const TEXT_BYTES_PER_EVENT = 128
const utf8 = new TextEncoder()

/**
 * Events whose data strings are joined before they are encoded: one native call per this many
 * events instead of one per event, and the joined text still dies young.
 */
const EVENTS_PER_ENCODE = 64

/** Each type's index in EVENT_TYPES: the type column of a batch. */
const TYPE_CODES = Object.fromEntries(EVENT_TYPES.map((type, i) => [type, i])) as Record<EventType, number>

/** How long close() waits for the writer to close its connection. */
const CLOSE_WAIT_MS = 60_000

export class EventWriter {
  private readonly worker: Worker
  private readonly reply: MessagePort
  private readonly ctrl: Int32Array
  private sent = 0
  private lastSeq = 0
  private committedSeq = 0
  private committedHash = ''
  private committedDecisions = 0
  private snapshotsStored = 0
  private failure: WriteFailed | null = null
  /** Set once the writer reported its connection open (the empty run's head) or its failure. */
  private reported = false
  // The pending batch, column by column.
  private n = 0
  private firstSeq = 1
  private t!: Float64Array
  private cpu!: Float64Array
  private type!: Float64Array
  private pfn!: Float64Array
  private npages!: Float64Array
  private cause!: Float64Array
  private dataLength!: Float64Array
  private ascii = true
  private text = new Uint8Array(0)
  private textBytes = 0
  /** Data strings not yet encoded, each followed by a newline, and how many. */
  private pending = ''
  private pendingEvents = 0
  private pfnPairs: number[] = []
  private pendingDecisions: Uint32Array[] = []
  /**
   * The decision chunks of batches handed over and not yet reported committed, with the run's
   * decision count after each batch: an interrupt drops those batches' events, not their
   * decisions (abandon).
   */
  private unconfirmed: { readonly chunks: Uint32Array[]; readonly upTo: number }[] = []
  private sentDecisions = 0
  /** Column buffers the writer handed back, seven per batch; and text buffers. */
  private readonly pool: ArrayBuffer[] = []
  private readonly textPool: ArrayBuffer[] = []

  constructor(
    private readonly file: string,
    readonly runId: number,
    private readonly batchEvents = DEFAULT_BATCH_EVENTS,
    snapshotEvery = 0,
  ) {
    assert(batchEvents > 0 && batchEvents % BLOCK_EVENTS === 0, 'a batch is whole hash blocks')
    assert(snapshotEvery >= 0 && snapshotEvery % BLOCK_EVENTS === 0, `snapshots are taken at hash block boundaries (every ${snapshotEvery} events)`)
    const shared = new SharedArrayBuffer(CTRL_WORDS * Int32Array.BYTES_PER_ELEMENT)
    this.ctrl = new Int32Array(shared)
    const started = startWriterThread({ file, runId, snapshotEvery, ctrl: shared })
    this.worker = started.worker
    this.reply = started.reply
    this.newBatch()
  }

  private column(): Float64Array {
    const b = this.pool.pop()
    return b === undefined ? new Float64Array(this.batchEvents) : new Float64Array(b)
  }

  private newBatch(): void {
    this.t = this.column()
    this.cpu = this.column()
    this.type = this.column()
    this.pfn = this.column()
    this.npages = this.column()
    this.cause = this.column()
    this.dataLength = this.column()
    this.ascii = true
    const t = this.textPool.pop()
    this.text = t === undefined ? new Uint8Array(this.batchEvents * TEXT_BYTES_PER_EVENT) : new Uint8Array(t)
    this.textBytes = 0
    this.pending = ''
    this.pendingEvents = 0
    this.pfnPairs = []
    this.pendingDecisions = []
    this.firstSeq = this.lastSeq + 1
    this.n = 0
  }

  append(e: MmEvent): void {
    // The messages are made only on failure, not for every event whose assertion holds.
    if (e.seq !== this.lastSeq + 1) assert(false, `events arrive in seq order (${e.seq} after ${this.lastSeq})`)
    this.lastSeq = e.seq
    // After a failure the run is stopped by its caller; what it still emits is not stored.
    if (this.failure !== null) return
    // Everything that may throw comes before the event takes its place in the batch, so a bad
    // event never leaves a batch whose columns and text disagree (the writer would refuse it all).
    const span = eventSpan(e)
    if (span !== null && span.npages > SPAN_PAGES_MAX) assert(false, `${e.type} spans at most ${SPAN_PAGES_MAX} pages`)
    const data = JSON.stringify(e.data)
    const i = this.n++
    this.t[i] = e.t
    this.cpu[i] = e.cpu ?? -1
    this.type[i] = TYPE_CODES[e.type]
    if (span === null) this.pfn[i] = -1
    else {
      this.pfn[i] = span.pfn
      this.npages[i] = span.npages
    }
    this.cause[i] = e.cause ?? -1
    this.dataLength[i] = data.length
    this.pending += `${data}\n`
    if (++this.pendingEvents === EVENTS_PER_ENCODE) this.encodePending()
    const many = eventPfns(e)
    if (many !== null) for (const pfn of many) this.pfnPairs.push(pfn, e.seq)
    if (this.n === this.batchEvents) this.send()
  }

  /** Appends the pending data strings to the batch's text, growing it when full. */
  private encodePending(): void {
    const s = this.pending
    this.pending = ''
    this.pendingEvents = 0
    for (;;) {
      const r = utf8.encodeInto(s, this.text.subarray(this.textBytes))
      if (r.read === s.length) {
        this.textBytes += r.written
        // One byte per code unit only when every character is ASCII.
        if (r.written !== r.read) this.ascii = false
        return
      }
      const bigger = new Uint8Array(this.text.length * 2)
      bigger.set(this.text.subarray(0, this.textBytes))
      this.text = bigger
    }
  }

  appendDecisions(chunk: Uint32Array): void {
    this.pendingDecisions.push(chunk)
  }

  private send(): void {
    this.poll()
    if (this.failure !== null) return
    this.encodePending()
    const m: BatchMessage = {
      kind: 'batch',
      firstSeq: this.firstSeq,
      n: this.n,
      t: this.t,
      cpu: this.cpu,
      type: this.type,
      pfn: this.pfn,
      npages: this.npages,
      cause: this.cause,
      text: this.text,
      textBytes: this.textBytes,
      dataLength: this.dataLength,
      ascii: this.ascii,
      pfnPairs: Float64Array.from(this.pfnPairs),
      decisions: this.pendingDecisions,
    }
    const transfer = [m.t.buffer, m.cpu.buffer, m.type.buffer, m.pfn.buffer, m.npages.buffer, m.cause.buffer, m.dataLength.buffer, m.text.buffer, m.pfnPairs.buffer]
    // The decision chunks are copied, not moved: they are kept until their batch commits.
    this.sentDecisions += m.decisions.reduce((sum, d) => sum + d.length / DECISION_WORDS, 0)
    if (m.decisions.length > 0) this.unconfirmed.push({ chunks: m.decisions, upTo: this.sentDecisions })
    this.worker.postMessage(m, transfer as ArrayBuffer[])
    this.sent++
    this.newBatch()
    this.waitFor(this.sent - MAX_BATCHES_IN_FLIGHT)
  }

  /** Takes the writer's reports: the committed head, or the failure. */
  private poll(): void {
    for (let r = receiveMessageOnPort(this.reply); r !== undefined; r = receiveMessageOnPort(this.reply)) {
      const m = r.message as FromWriter
      this.reported = true
      if (m.kind === 'committed') {
        this.committedSeq = m.headSeq
        this.committedHash = m.headHash
        this.committedDecisions = m.decisions
        while (this.unconfirmed.length > 0 && this.unconfirmed[0]!.upTo <= m.decisions) this.unconfirmed.shift()
        this.snapshotsStored = m.snapshots
        this.pool.push(...m.columns)
        if (m.text.byteLength === this.batchEvents * TEXT_BYTES_PER_EVENT) this.textPool.push(m.text)
      } else if (this.failure === null) {
        const what = describeWriteError(m.code, m.message)
        this.failure = new WriteFailed(`${this.file}: cannot store run ${this.runId}: ${what}`, m.code, this.committedSeq)
      }
    }
  }

  /**
   * Resolves once fewer than MAX_BATCHES_IN_FLIGHT batches wait for the writer. A caller that
   * awaits this between slices of the simulation (runToStore) never blocks in append, so its
   * event loop, and with it a signal handler, runs while the writer catches up.
   */
  async room(): Promise<void> {
    for (;;) {
      const done = Atomics.load(this.ctrl, CTRL_DONE)
      if (this.sent - done < MAX_BATCHES_IN_FLIGHT) return
      const w = waitAsync(this.ctrl, CTRL_DONE, done, 100)
      if (w.async) await w.value
    }
  }

  /** Waits until at least `batches` batches were handled by the writer. */
  private waitFor(batches: number): void {
    for (;;) {
      const done = Atomics.load(this.ctrl, CTRL_DONE)
      if (done >= batches && this.reported) break
      // The writer's first report (the empty run's head) does not move CTRL_DONE: look often for it.
      Atomics.wait(this.ctrl, CTRL_DONE, done, this.reported ? 100 : 5)
      this.poll()
    }
    this.poll()
  }

  /**
   * Hands over everything pending (ending with a partial block if need be: end of run,
   * interrupt) and waits until the writer committed it. Returns the failure, if any.
   */
  flush(): WriteFailed | null {
    if (this.failure === null && (this.n > 0 || this.pendingDecisions.length > 0)) this.send()
    this.waitFor(this.sent)
    return this.failure
  }

  /**
   * Stops storing at once (an interrupt): the batch being written commits, the others handed
   * over and the pending one are dropped. Their schedule decisions are not: they are stored after
   * the head as the end of a completed run stores its last ones, since the events up to the head
   * were made by decisions the recorder had not yet handed over (it hands them over 65,536 at a
   * time), and a replay needs them all. The run is then complete up to headSeq, its schedule
   * with it (and perhaps a few decisions past it, which a replay to the head does not reach).
   */
  abandon(): WriteFailed | null {
    Atomics.store(this.ctrl, CTRL_ABANDON, 1)
    this.waitFor(this.sent)
    const decisions = [...this.unconfirmed.flatMap((u) => u.chunks), ...this.pendingDecisions]
    this.unconfirmed = []
    this.lastSeq = this.committedSeq
    this.newBatch()
    if (this.failure === null && decisions.length > 0) {
      // Every batch handed over was handled (committed or dropped): the writer may take this one.
      Atomics.store(this.ctrl, CTRL_ABANDON, 0)
      this.pendingDecisions = decisions
      this.send()
      this.waitFor(this.sent)
    }
    return this.failure
  }

  /** Set once a batch could not be stored; nothing after the head it names is stored. */
  get failed(): WriteFailed | null {
    this.poll()
    return this.failure
  }

  /** Snapshots the writer thread stored, as of its last report. */
  get snapshots(): number {
    return this.snapshotsStored
  }

  /** The last seq committed, and the integrity hash of the run up to it. */
  get headSeq(): number {
    this.poll()
    return this.committedSeq
  }

  get headHash(): string {
    this.poll()
    return this.committedHash
  }

  get decisions(): number {
    this.poll()
    return this.committedDecisions
  }

  /** Waits for the writer to close its connection; the writer thread then ends. */
  close(): void {
    this.worker.postMessage({ kind: 'close' })
    const deadline = performance.now() + CLOSE_WAIT_MS
    while (Atomics.load(this.ctrl, CTRL_CLOSED) === 0 && performance.now() < deadline) Atomics.wait(this.ctrl, CTRL_DONE, Atomics.load(this.ctrl, CTRL_DONE), 100)
    this.poll()
    this.reply.close()
    this.worker.unref()
  }
}
