// `mmsim check` on a run's snapshots: each is verified as a read would (checksum, head hash,
// header), restored on its base, and compared with the state the fold of the events reaches at
// its seq, field by field. A snapshot that differs could quietly change a time-travel answer
// whose checksum it passes (someone rewrote it and its checksum), so it is an integrity failure,
// named by its seq.
import * as E from 'fp-ts/Either'
import type { MmState } from '../projections'
import { listSnapshots, type Db, type SnapshotContent, type SnapshotMeta } from '../storage'
import { Restorer, loadSnapshot } from './restore'

export interface SnapshotFailure {
  readonly seq: number
  readonly problem: string
}

export interface SnapshotCheck {
  /** Snapshots at or before the checked seq. */
  readonly checked: number
  readonly failures: readonly SnapshotFailure[]
}

/** Checks a run's snapshots as a fold from seq 1 passes their seqs (`onEvent` after each event). */
export class SnapshotChecker {
  private readonly metas: SnapshotMeta[]
  private next = 0
  private readonly restorer = new Restorer()
  private readonly failures: SnapshotFailure[] = []

  constructor(
    private readonly db: Db,
    private readonly runId: number,
    upTo: number,
  ) {
    this.metas = listSnapshots(db, runId, upTo)
  }

  onEvent(folded: MmState, seq: number): void {
    while (this.next < this.metas.length && this.metas[this.next]!.seq === seq) this.check(this.metas[this.next++]!, folded)
  }

  private check(m: SnapshotMeta, folded: MmState): void {
    const c = loadSnapshot(this.db, this.runId, m)
    const unusable = E.isLeft(c) ? c.left : this.restorer.apply(c.right)
    if (unusable !== null) return void this.failures.push({ seq: m.seq, problem: unusable })
    const differs = this.restorer.differs((c as E.Right<SnapshotContent>).right, folded)
    if (differs !== null) this.failures.push({ seq: m.seq, problem: `it does not match the fold of events 1..${m.seq}: ${differs}` })
  }

  /** What was checked, up to the last seq the fold reached. */
  report(): SnapshotCheck {
    return { checked: this.next, failures: this.failures }
  }
}
