// `mmsim check` on a run's snapshots: each is verified as a read would (checksum, head hash,
// header), restored on its base, and compared with the state the fold of the events reaches at
// its seq, field by field. A snapshot that differs could quietly change a time-travel answer
// whose checksum it passes (someone rewrote it and its checksum), so it is an integrity failure,
// named by its seq.
import * as E from 'fp-ts/Either'
import type { MmState } from '../projections'
import { listSnapshots, snapshotAt, type Db, type SnapshotContent, type SnapshotMeta } from '../storage'
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

  /**
   * Restores `m` on its bases (a delta is on a full snapshot or on a delta on one: three rows at
   * most, storage/snapshotChain.ts), each link verified; the reason when one is not usable. A
   * base that failed its own check fails the snapshots on it too.
   */
  private restore(m: SnapshotMeta): { restorer: Restorer; content: SnapshotContent } | string {
    const chain = [m]
    for (let l = m; l.kind === 'delta';) {
      const base = l.baseSeq === null || l.baseSeq >= l.seq ? null : snapshotAt(this.db, this.runId, l.baseSeq)
      if (base === null) return `the snapshot it is a delta on (seq ${l.baseSeq}) is not stored`
      chain.unshift((l = base))
    }
    const restorer = new Restorer()
    let content: SnapshotContent | null = null
    for (const link of chain) {
      const c = loadSnapshot(this.db, this.runId, link)
      const why = E.isLeft(c) ? c.left : restorer.apply(c.right)
      if (why !== null) return link === m ? why : `its base at seq ${link.seq} is not usable: ${why}`
      content = (c as E.Right<SnapshotContent>).right
    }
    return { restorer, content: content! }
  }

  private check(m: SnapshotMeta, folded: MmState): void {
    const r = this.restore(m)
    if (typeof r === 'string') return void this.failures.push({ seq: m.seq, problem: r })
    const differs = r.restorer.differs(r.content, folded)
    if (differs !== null) this.failures.push({ seq: m.seq, problem: `it does not match the fold of events 1..${m.seq}: ${differs}` })
  }

  /** What was checked, up to the last seq the fold reached. */
  report(): SnapshotCheck {
    return { checked: this.next, failures: this.failures }
  }
}
