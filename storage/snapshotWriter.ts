// The writer thread's part in snapshots: the simulation thread finds what changed in the state's
// image at a snapshot seq and hands it over (writerProtocol.ts SnapshotMessage); here it waits until the
// batch holding that seq is committed (its block hash is the snapshot's head), then becomes a row
// (snapshotChain.ts: delta or full, compressed, checksummed), stored in a transaction of its own.
import { assert } from '../lib'
import type { Db } from './open'
import { SnapshotChain, type CapturedImage } from './snapshotChain'
import { blockHashAt, insertSnapshot } from './snapshotStore'

export class SnapshotWriter {
  private readonly chain = new SnapshotChain()
  private readonly pending: CapturedImage[] = []
  private headSeq = 0

  constructor(
    private readonly db: Db,
    private readonly runId: number,
  ) {}

  add(c: CapturedImage): void {
    this.pending.push(c)
    this.writeReady()
  }

  /** The run's events are stored up to `headSeq`. */
  committed(headSeq: number): void {
    this.headSeq = headSeq
    this.writeReady()
  }

  private writeReady(): void {
    while (this.pending.length > 0 && this.pending[0]!.seq <= this.headSeq) {
      const c = this.pending.shift()!
      const head = blockHashAt(this.db, this.runId, c.seq)
      assert(head !== null, `a hash block ends at snapshot seq ${c.seq}`)
      const row = this.chain.next(c, head)
      this.db.transaction(() => insertSnapshot(this.db, this.runId, row)).immediate()
    }
  }
}
