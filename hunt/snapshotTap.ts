// Snapshots during `mmsim run`: a sink between the engine and the event writer that, after every
// K-th event, finds the chunks of the live state's arrays that changed since the last snapshot
// (a native compare with a shadow copy, about the cost of copying them once) and the rest of the
// state as JSON, and hands them to the writer thread, which makes the delta or full snapshot,
// compresses, checksums and stores it (storage/snapshotWriter.ts).
import type { EventSink } from '../engine/kernel'
import type { MmEvent } from '../events'
import { assert } from '../lib'
import { StateCapture, type MmState } from '../projections'
import { BLOCK_EVENTS, type EventWriter } from '../storage'

export class SnapshotTap implements EventSink {
  private state: MmState | null = null
  private readonly capture = new StateCapture()
  private count = 0

  constructor(
    private readonly writer: EventWriter,
    private readonly every: number,
  ) {
    assert(every > 0 && every % BLOCK_EVENTS === 0, `snapshots are taken at hash block boundaries (every ${every} events)`)
  }

  /** Snapshots handed to the writer so far. */
  get taken(): number {
    return this.count
  }

  bind(state: MmState): void {
    this.state = state
  }

  append(e: MmEvent): void {
    this.writer.append(e)
    if (e.seq % this.every === 0) this.take(e.seq)
  }

  private take(seq: number): void {
    const s = this.state
    assert(s !== null, 'the sink was bound to the live state')
    this.writer.appendSnapshot({ seq, ...this.capture.capture(s) })
    this.count++
  }
}
