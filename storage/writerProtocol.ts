// What the simulation thread and the writer thread say to each other. A batch travels as
// transferable buffers only: numeric columns (the type as its index in EVENT_TYPES), and the JSON
// data of each event as UTF-8, each followed by a newline (JSON.stringify escapes control
// characters). Encoding the strings a few events at a time lets them die young: holding a
// batch's strings until it is sent promoted them to the old generation, where collecting them
// cost more.

export interface BatchMessage {
  readonly kind: 'batch'
  readonly firstSeq: number
  readonly n: number
  readonly t: Float64Array
  /** -1 for null. */
  readonly cpu: Float64Array
  /** The event's type, as its index in EVENT_TYPES. */
  readonly type: Float64Array
  /** -1 for an event without a span. */
  readonly pfn: Float64Array
  readonly npages: Float64Array
  /** -1 for null. */
  readonly cause: Float64Array
  /** UTF-8 of "data\n" per event, in bytes [0, textBytes). */
  readonly text: Uint8Array
  readonly textBytes: number
  /** Each event's data length in UTF-16 code units: its length in bytes too when `ascii`. */
  readonly dataLength: Float64Array
  /** Every character of the text is ASCII (one byte each). */
  readonly ascii: boolean
  /** (pfn, seq) pairs of events that list many frames (table event_pfns). */
  readonly pfnPairs: Float64Array
  readonly decisions: Uint32Array[]
}

export interface CloseMessage {
  readonly kind: 'close'
}

export type ToWriter = BatchMessage | CloseMessage

/** After each committed batch, and once on failure, on the reply port. */
export type FromWriter =
  | {
      readonly kind: 'committed'
      readonly headSeq: number
      readonly headHash: string
      readonly decisions: number
      /** Snapshots stored so far (storage/snapshotFold.ts). */
      readonly snapshots: number
      /** The batch's buffers, handed back for the next batches (fewer allocations, less GC). */
      readonly columns: ArrayBuffer[]
      readonly text: ArrayBuffer
    }
  | { readonly kind: 'failed'; readonly message: string; readonly code: string | null }

export interface WriterInit {
  readonly file: string
  readonly runId: number
  /** Events between two snapshots, taken on the writer thread (snapshotFold.ts); 0: none. */
  readonly snapshotEvery: number
  /** Int32 words: see CTRL_*. */
  readonly ctrl: SharedArrayBuffer
}

/** Batches handled so far (committed, or refused after a failure); notified after each. */
export const CTRL_DONE = 0
/** 1 once a batch failed; the writer commits nothing after that. */
export const CTRL_FAILED = 1
/** 1 once the writer closed its connection (also notified on CTRL_DONE). */
export const CTRL_CLOSED = 2
/** 1 once the run was interrupted: batches not yet begun are dropped, so the stop waits for one commit at most. */
export const CTRL_ABANDON = 3
export const CTRL_WORDS = 4
