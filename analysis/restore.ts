// Reading snapshots back: each is verified before it is used (its checksum, its head hash
// against the run's stored hash chain, its header against its row), then a chain of them, a full
// snapshot and the deltas on it in order, is written into a state that createState built from
// the snapshot's machine. Used by stateAt (time travel) and by check (which compares each
// snapshot with the fold of the events).
import * as E from 'fp-ts/Either'
import {
  applyChunks,
  diffStates,
  fillSection,
  imageLayout,
  layoutMismatch,
  loadRest,
  restMachine,
  restoreTarget,
  saveRest,
  sectionViews,
  type ImageLayout,
  type MmState,
} from '../projections'
import { blockHashAt, decodeSnapshot, fromHex, sha256Hex, snapshotBytes, type Db, type SnapshotContent, type SnapshotMeta } from '../storage'

/** Reads snapshot `m` of run `runId` and verifies it; the reason when it does not verify. */
export const loadSnapshot = (db: Db, runId: number, m: SnapshotMeta): E.Either<string, SnapshotContent> => {
  const bytes = snapshotBytes(db, runId, m.seq)
  if (bytes === null) return E.left('it is gone')
  if (sha256Hex(bytes) !== m.checksum) return E.left('its bytes do not match its checksum')
  const head = blockHashAt(db, runId, m.seq)
  if (head === null) return E.left(`no hash block of the run ends at seq ${m.seq}`)
  if (head !== m.headHash) return E.left(`its head hash is not the run's hash at seq ${m.seq}: it was built from other events`)
  const c = decodeSnapshot(bytes)
  if (E.isLeft(c)) return c
  const h = c.right.header
  if (h.seq !== m.seq || h.kind !== m.kind || h.base !== m.baseSeq || h.head !== m.headHash) return E.left('its header does not match its row')
  return c
}

/** Writes a chain of verified snapshots (a full one, then deltas each on the one before) into a state. */
export class Restorer {
  private s: MmState | null = null
  private layout: ImageLayout | null = null
  private views: Uint8Array[] = []
  /** The seq whose image the state holds, or null. */
  private at: number | null = null

  /** Applies the next link's arrays; the reason when it does not fit, after which the restorer holds nothing. */
  apply(c: SnapshotContent): string | null {
    const why = this.applyImage(c)
    if (why !== null) {
      this.s = null
      this.at = null
    } else this.at = c.header.seq
    return why
  }

  private applyImage({ header: h, indices, data }: SnapshotContent): string | null {
    if (h.kind === 'full') {
      const m = restMachine(h.rest)
      if (E.isLeft(m)) return m.left
      this.s = restoreTarget(m.right)
      this.layout = imageLayout(this.s, h.chunkBytes)
      this.views = sectionViews(this.s)
      const mismatch = layoutMismatch(this.layout, h.sections, h.chunkBytes)
      if (mismatch !== null) return mismatch
      if (h.fills === null || h.fills.length !== h.sections.length) return 'it is full but does not say what each array holds first'
      for (const [i, f] of h.fills.entries()) {
        const fill = fromHex(f)
        if (fill.length !== this.layout.sections[i]!.elementBytes) return `the fill of ${h.sections[i]![0]} is not one element`
        fillSection(this.views, i, fill)
      }
    } else {
      if (this.s === null || this.layout === null || this.at !== h.base) return `its base, seq ${h.base}, is not restored`
      const mismatch = layoutMismatch(this.layout, h.sections, h.chunkBytes)
      if (mismatch !== null) return `its base's layout differs: ${mismatch}`
    }
    return applyChunks(this.views, this.layout, indices, data)
  }

  /** The restored state with the rest of link `c` (the last applied); the reason when it does not fit. */
  finish(c: SnapshotContent): E.Either<string, MmState> {
    if (this.s === null || this.at !== c.header.seq) return E.left('it is not restored')
    const why = loadRest(this.s, c.header.rest)
    return why === null ? E.right(this.s) : E.left(why)
  }

  /** Where the restored link `c` differs from `folded` (the state the events give at its seq), or null when it does not. */
  differs(c: SnapshotContent, folded: MmState): string | null {
    if (this.s === null || this.at !== c.header.seq) return 'it is not restored'
    const theirs = sectionViews(folded)
    const same = theirs.length === this.views.length && theirs.every((v, i) => Buffer.compare(v, this.views[i]!) === 0)
    if (same && JSON.stringify(c.header.rest) === JSON.stringify(saveRest(folded))) return null
    const restored = this.finish(c)
    return E.isLeft(restored) ? restored.left : diffStates(restored.right, folded, 3).join('; ') || 'its saved structures differ'
  }
}
