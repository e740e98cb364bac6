// The event writer: the engine's sink for a run stored in SQLite, on two cores. The simulation
// thread does what needs the event objects (the span, JSON.stringify of the data) and the
// per-row hash chain (which balances the two threads' work; the profile put the writer thread
// behind), and packs each batch into transferable columns; a writer thread (writerWorker.ts)
// computes the block hashes, inserts and indexes it in one transaction that also advances the
// run's head. At most
// MAX_BATCHES_IN_FLIGHT batches wait for the writer: the simulation waits for it beyond that
// (bounded memory), and an interrupt or the end of the run waits for at most that many commits.
import { receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads'
import { type MmEvent } from '../events'
import { eventPfns, eventSpan } from '../events/span'
import { assert } from '../lib'
import { StoreError } from './errors'
import { SPAN_PAGES_MAX } from './eventIndex'
import { chainHash } from './hashChain'
import { BLOCK_EVENTS } from './schema'
import { startWriterThread } from './writerThread'
import { CTRL_CLOSED, CTRL_DONE, CTRL_WORDS, type BatchMessage, type FromWriter } from './writerProtocol'

export { SPAN_PAGES_MAX }

export const DEFAULT_BATCH_EVENTS = BLOCK_EVENTS * 8

/** Batches handed to the writer and not yet committed, at most. */
export const MAX_BATCHES_IN_FLIGHT = 2

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
  private failure: WriteFailed | null = null
  // The pending batch, column by column.
  private n = 0
  private firstSeq = 1
  private t!: Float64Array
  private cpu!: Float64Array
  private pfn!: Float64Array
  private npages!: Float64Array
  private cause!: Float64Array
  private h!: Float64Array
  private prevH = 0
  private text: string[] = []
  private pfnPairs: number[] = []
  private pendingDecisions: Uint32Array[] = []
  /** Column buffers the writer handed back, six per batch. */
  private readonly pool: ArrayBuffer[] = []

  constructor(
    private readonly file: string,
    readonly runId: number,
    private readonly batchEvents = DEFAULT_BATCH_EVENTS,
  ) {
    assert(batchEvents > 0 && batchEvents % BLOCK_EVENTS === 0, 'a batch is whole hash blocks')
    const shared = new SharedArrayBuffer(CTRL_WORDS * Int32Array.BYTES_PER_ELEMENT)
    this.ctrl = new Int32Array(shared)
    const started = startWriterThread({ file, runId, ctrl: shared })
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
    this.pfn = this.column()
    this.npages = this.column()
    this.cause = this.column()
    this.h = this.column()
    this.text = new Array<string>(2 * this.batchEvents)
    this.pfnPairs = []
    this.pendingDecisions = []
    this.firstSeq = this.lastSeq + 1
    this.n = 0
  }

  append(e: MmEvent): void {
    assert(e.seq === this.lastSeq + 1, `events arrive in seq order (${e.seq} after ${this.lastSeq})`)
    this.lastSeq = e.seq
    // After a failure the run is stopped by its caller; what it still emits is not stored.
    if (this.failure !== null) return
    const i = this.n++
    const span = eventSpan(e)
    this.t[i] = e.t
    this.cpu[i] = e.cpu ?? -1
    if (span === null) this.pfn[i] = -1
    else {
      assert(span.npages <= SPAN_PAGES_MAX, `${e.type} spans at most ${SPAN_PAGES_MAX} pages`)
      this.pfn[i] = span.pfn
      this.npages[i] = span.npages
    }
    const cause = e.cause ?? null
    this.cause[i] = cause ?? -1
    const data = JSON.stringify(e.data)
    this.prevH = this.h[i] = chainHash(this.prevH, e.seq, e.t, e.cpu, e.type, cause, data)
    this.text[2 * i] = e.type
    this.text[2 * i + 1] = data
    const many = eventPfns(e)
    if (many !== null) for (const pfn of many) this.pfnPairs.push(pfn, e.seq)
    if (this.n === this.batchEvents) this.send()
  }

  appendDecisions(chunk: Uint32Array): void {
    this.pendingDecisions.push(chunk)
  }

  private send(): void {
    this.poll()
    if (this.failure !== null) return
    const m: BatchMessage = {
      kind: 'batch',
      firstSeq: this.firstSeq,
      n: this.n,
      t: this.t,
      cpu: this.cpu,
      pfn: this.pfn,
      npages: this.npages,
      cause: this.cause,
      h: this.h,
      text: (this.n === this.batchEvents ? this.text : this.text.slice(0, 2 * this.n)).join('\n'),
      pfnPairs: Float64Array.from(this.pfnPairs),
      decisions: this.pendingDecisions,
    }
    const transfer = [m.t.buffer, m.cpu.buffer, m.pfn.buffer, m.npages.buffer, m.cause.buffer, m.h.buffer, m.pfnPairs.buffer, ...m.decisions.map((d) => d.buffer)]
    this.worker.postMessage(m, transfer as ArrayBuffer[])
    this.sent++
    this.newBatch()
    this.waitFor(this.sent - MAX_BATCHES_IN_FLIGHT)
  }

  /** Takes the writer's reports: the committed head, or the failure. */
  private poll(): void {
    for (let r = receiveMessageOnPort(this.reply); r !== undefined; r = receiveMessageOnPort(this.reply)) {
      const m = r.message as FromWriter
      if (m.kind === 'committed') {
        this.committedSeq = m.headSeq
        this.committedHash = m.headHash
        this.committedDecisions = m.decisions
        this.pool.push(...m.columns)
      } else if (this.failure === null) {
        const what = describeWriteError(m.code, m.message)
        this.failure = new WriteFailed(`${this.file}: cannot store run ${this.runId}: ${what}`, m.code, this.committedSeq)
      }
    }
  }

  /** Waits until at least `batches` batches were handled by the writer. */
  private waitFor(batches: number): void {
    for (;;) {
      const done = Atomics.load(this.ctrl, CTRL_DONE)
      if (done >= batches) break
      Atomics.wait(this.ctrl, CTRL_DONE, done, 100)
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

  /** Set once a batch could not be stored; nothing after the head it names is stored. */
  get failed(): WriteFailed | null {
    this.poll()
    return this.failure
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
