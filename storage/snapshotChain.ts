// Which snapshots of a run are full and which are deltas, and what each holds. Snapshots are
// taken every K events, in two levels of deltas under a full one: every fourth snapshot after a
// full one is a delta on that full snapshot (the chunks of the state's image that changed since
// it, plus the small structures in full), and the three between are deltas on the one before them
// of those (the full one or a first-level delta). A full snapshot is taken instead of a
// first-level delta once that delta would be larger than the last full one, or after 15 of them
// (CHAIN_POLICY_DEFAULT). So a restore reads three rows at most, about twice a full snapshot's
// bytes, and each snapshot costs about the chunks changed in 4K events to compress. Deltas each on
// the one before were smaller to write, but a restore read a chain of up to 64 of them: measured
// on a 2 GiB guest with K = 16384, a restore at the end of a chain of 37 took 85 ms, most of it
// inflating and parsing each link; deltas all on the full one made every restore two rows but
// each delta grew to a full one's size, and compressing them doubled the writer thread's time.
// A full snapshot is itself small when most of memory is as it booted: each array is first filled
// with its commonest element, then only the chunks that differ are kept. Runs on the writer thread
// (snapshotFold.ts, or in `mmsim snapshot`); it knows bytes, not projections.
import { assert } from '../lib'
import { encodeSnapshot, sha256Hex, toHex, type SectionSpec, type SnapshotKind } from './snapshotFormat'

/** What changed in a state's image since the last snapshot, as the simulation thread found it at `seq` (projections/snapshot.ts StateCapture). */
export interface CapturedImage {
  readonly seq: number
  readonly sections: readonly SectionSpec[]
  readonly chunkBytes: number
  readonly imageBytes: number
  /** Ascending indices of the chunks that changed since the previous capture (the first: that are not zero), and their bytes. */
  readonly indices: Uint32Array
  readonly data: Uint8Array
  /** The rest of the state, as JSON. */
  readonly rest: string
}

export interface SnapshotRow {
  readonly seq: number
  readonly kind: SnapshotKind
  readonly baseSeq: number | null
  /** The run's block hash at `seq`: the event prefix the snapshot was built from. */
  readonly headHash: string
  /** SHA-256 of `bytes`. */
  readonly checksum: string
  /** The payload's size before compression: what a restore reads. */
  readonly rawBytes: number
  readonly bytes: Buffer
}

/**
 * Events between two snapshots of a run, by default: a multiple of the hash block (a snapshot's
 * head is the hash of the block that ends at its seq) and of the writer's batch. The writer thread
 * takes them (snapshotFold.ts): on the bench's 2 GiB guest, its fold costs about 0.8 µs per event
 * and each snapshot 5-10 ms more (finding the changed chunks, compressing them), so at this
 * interval the writer thread stays below the simulation thread's time per event, and the state
 * at any seq is a restore of three rows at most plus a fold of fewer than 32,768 events (30 ms at
 * the full fold's rate). `mmsim snapshot --every` takes them more often for a run that is asked
 * about a lot.
 */
export const SNAPSHOT_EVERY_DEFAULT = 32768

/** When a full snapshot is taken instead of a delta, and how deltas are stacked. */
export interface ChainPolicy {
  /** At most this many first-level deltas follow a full snapshot, whatever their size. */
  readonly deltasPerFullMax: number
  /** Second-level deltas between two first-level ones (0: every delta is on the full snapshot). */
  readonly leavesPerDelta: number
  /** A full one is taken when a first-level delta (its payload bytes) would exceed this many times the last full one's. */
  readonly fullRatio: number
}

/** Restoring reads at most about twice a full snapshot's bytes, in three rows. */
export const CHAIN_POLICY_DEFAULT: ChainPolicy = { deltasPerFullMax: 15, leavesPerDelta: 3, fullRatio: 1 }
/** Elements of an array looked at to choose the one it is filled with. */
const FILL_SAMPLES = 64

/** The commonest of a few evenly spaced elements of a section: what it is filled with. */
const fillOf = (image: Uint8Array, [, offset, bytes, size]: SectionSpec): Uint8Array => {
  const n = Math.floor(bytes / size)
  const seen = new Map<string, number>()
  let best = ''
  for (let i = 0; i < Math.min(n, FILL_SAMPLES); i++) {
    const at = offset + Math.floor((i * n) / Math.min(n, FILL_SAMPLES)) * size
    const k = toHex(image.subarray(at, at + size))
    const c = (seen.get(k) ?? 0) + 1
    seen.set(k, c)
    if (c > (seen.get(best) ?? 0)) best = k
  }
  return best === '' ? new Uint8Array(size) : new Uint8Array(Buffer.from(best, 'hex'))
}

/** Bytes compared at once before chunk by chunk (natively, as projections/snapshot.ts StateCapture does). */
const COMPARE_BLOCK_BYTES = 1024

/** The chunks of a section that hold anything but its fill (the bytes past the section's end, padding, are not looked at). */
const chunksUnlikeFill = (image: Buffer, [, offset, bytes]: SectionSpec, fill: Uint8Array, chunkBytes: number, out: number[]): void => {
  // Blocks start at the section's start plus a multiple of COMPARE_BLOCK_BYTES, so on an element boundary.
  const pattern = Buffer.alloc(COMPARE_BLOCK_BYTES)
  for (let i = 0; i < pattern.length; i += fill.length) pattern.set(fill.subarray(0, Math.min(fill.length, pattern.length - i)), i)
  const end = offset + bytes
  for (let at = offset; at < end; at += COMPARE_BLOCK_BYTES) {
    const stop = Math.min(at + COMPARE_BLOCK_BYTES, end)
    if (image.compare(pattern, 0, stop - at, at, stop) === 0) continue
    for (let c = at; c < stop; c += chunkBytes) {
      const ce = Math.min(c + chunkBytes, stop)
      if (image.compare(pattern, c - at, ce - at, c, ce) !== 0) out.push(c / chunkBytes)
    }
  }
}

/** A set of chunk indices: a flag per chunk, and the indices in the order they were first marked. */
class ChangedChunks {
  private readonly flags: Uint8Array
  private list: number[] = []

  constructor(chunks: number) {
    this.flags = new Uint8Array(chunks)
  }

  get count(): number {
    return this.list.length
  }

  mark(indices: Uint32Array): void {
    for (const i of indices)
      if (this.flags[i] === 0) {
        this.flags[i] = 1
        this.list.push(i)
      }
  }

  sorted(): number[] {
    return [...this.list].sort((a, b) => a - b)
  }

  clear(): void {
    for (const i of this.list) this.flags[i] = 0
    this.list = []
  }
}

export class SnapshotChain {
  constructor(private readonly policy: ChainPolicy = CHAIN_POLICY_DEFAULT) {}

  private prevSeq: number | null = null
  /** The image as of the last snapshot: each capture's chunks are written into it. */
  private image = new Uint8Array(0)
  private fullRawBytes = 0
  private deltas = 0
  private leaves = 0
  /** What changed since the last full snapshot (first-level deltas hold it) and since the last snapshot of either (second-level deltas). */
  private sinceFull = new ChangedChunks(0)
  private sinceDelta = new ChangedChunks(0)
  private fullSeq: number | null = null
  /** The last full snapshot or first-level delta: what a second-level delta is on. */
  private deltaSeq: number | null = null

  /** The row for a captured image, taken after the previous one. */
  next(c: CapturedImage, headHash: string): SnapshotRow {
    const cb = c.chunkBytes
    assert(cb % 4 === 0 && c.imageBytes % cb === 0 && c.data.length === c.indices.length * cb, 'an image is whole chunks of whole words')
    assert(this.prevSeq === null || c.seq > this.prevSeq, 'snapshots are taken in seq order')
    if (this.image.length !== c.imageBytes) {
      assert(this.prevSeq === null, "a run's snapshots share one layout")
      this.image = new Uint8Array(c.imageBytes)
      this.sinceFull = new ChangedChunks(c.imageBytes / cb)
      this.sinceDelta = new ChangedChunks(c.imageBytes / cb)
    }
    // Runs of consecutive chunks are written at once (a first capture is one run).
    for (let k = 0, j = 1; k < c.indices.length; k = j++) {
      while (j < c.indices.length && c.indices[j] === c.indices[j - 1]! + 1) j++
      this.image.set(c.data.subarray(k * cb, j * cb), c.indices[k]! * cb)
    }
    this.sinceFull.mark(c.indices)
    this.sinceDelta.mark(c.indices)
    const base = { seq: c.seq, head: headHash, chunkBytes: cb, sections: [...c.sections] }
    const chunk = (i: number) => this.image.subarray(i * cb, (i + 1) * cb)
    const allowed = this.policy.fullRatio * this.fullRawBytes
    const fits = (changed: ChangedChunks) => changed.count * (cb + 4) + c.rest.length <= allowed
    const delta = (on: number, changed: ChangedChunks) => encodeSnapshot({ ...base, kind: 'delta', base: on, fills: null }, c.rest, changed.sorted(), chunk)
    let encoded: { bytes: Buffer; rawBytes: number } | null = null
    let kind: SnapshotKind = 'delta'
    let baseSeq: number | null = null
    if (this.fullSeq !== null && this.leaves < this.policy.leavesPerDelta && fits(this.sinceDelta)) {
      encoded = delta(this.deltaSeq!, this.sinceDelta)
      baseSeq = this.deltaSeq
      this.leaves++
    } else if (this.fullSeq !== null && this.deltas < this.policy.deltasPerFullMax && fits(this.sinceFull)) {
      encoded = delta(this.fullSeq, this.sinceFull)
      if (encoded.rawBytes > allowed) encoded = null
      else {
        baseSeq = this.fullSeq
        this.deltaSeq = c.seq
        this.sinceDelta.clear()
        this.deltas++
        this.leaves = 0
      }
    }
    if (encoded === null) {
      kind = 'full'
      const fills = c.sections.map((s) => fillOf(this.image, s))
      const unlike: number[] = []
      const image = Buffer.from(this.image.buffer, this.image.byteOffset, this.image.byteLength)
      c.sections.forEach((s, i) => chunksUnlikeFill(image, s, fills[i]!, cb, unlike))
      encoded = encodeSnapshot({ ...base, kind, base: null, fills: fills.map(toHex) }, c.rest, unlike, chunk)
      this.fullRawBytes = encoded.rawBytes
      this.fullSeq = this.deltaSeq = c.seq
      this.sinceFull.clear()
      this.sinceDelta.clear()
      this.deltas = 0
      this.leaves = 0
    }
    const row: SnapshotRow = {
      seq: c.seq,
      kind,
      baseSeq,
      headHash,
      checksum: sha256Hex(encoded.bytes),
      rawBytes: encoded.rawBytes,
      bytes: encoded.bytes,
    }
    this.prevSeq = c.seq
    return row
  }
}
