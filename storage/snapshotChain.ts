// Which snapshots of a run are full and which are deltas, and what each holds. Snapshots are
// taken every K events; each is a delta on the one before (the chunks of the state's image that
// changed, plus the small structures in full) until the deltas since the last full snapshot would
// add up to more than that full snapshot, or 63 of them follow it (CHAIN_POLICY_DEFAULT); then a full
// one is taken. So restoring any snapshot reads at most about twice a full snapshot's bytes, and
// the snapshots of a run are about its deltas' bytes. A full snapshot is itself small when most
// of memory is as it booted: each array is first filled with its commonest element, then only
// the chunks that differ are kept. Runs on the writer thread (or in `mmsim snapshot`); it knows
// bytes, not projections.
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
 * head is the hash of the block that ends at its seq) and of the writer's batch. Taking one costs
 * a native compare of the state's arrays with a copy (about 3.5 ms for a 2 GiB guest) and
 * compressing what changed (a delta about 1.5 ms, a full snapshot 20-30 ms about every twelfth):
 * about 2% of a run's CPU time at this interval. `mmsim snapshot --every` takes them more often
 * for a run that is asked about a lot.
 */
export const SNAPSHOT_EVERY_DEFAULT = 65536

/** When a full snapshot is taken instead of a delta. */
export interface ChainPolicy {
  /** At most this many deltas follow a full snapshot, whatever their size. */
  readonly deltasPerFullMax: number
  /** A full one is taken when the deltas since the last (their payload bytes) would exceed this many times its own. */
  readonly fullRatio: number
}

/** Restoring reads at most about twice a full snapshot's bytes, and at most 64 rows. */
export const CHAIN_POLICY_DEFAULT: ChainPolicy = { deltasPerFullMax: 63, fullRatio: 1 }
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

export class SnapshotChain {
  constructor(private readonly policy: ChainPolicy = CHAIN_POLICY_DEFAULT) {}

  private prevSeq: number | null = null
  /** The image as of the last snapshot: each capture's chunks are written into it. */
  private image = new Uint8Array(0)
  private fullRawBytes = 0
  private deltas = 0
  private deltaRawBytes = 0

  /** The row for a captured image, taken after the previous one. */
  next(c: CapturedImage, headHash: string): SnapshotRow {
    const cb = c.chunkBytes
    assert(cb % 4 === 0 && c.imageBytes % cb === 0 && c.data.length === c.indices.length * cb, 'an image is whole chunks of whole words')
    assert(this.prevSeq === null || c.seq > this.prevSeq, 'snapshots are taken in seq order')
    if (this.image.length !== c.imageBytes) {
      assert(this.prevSeq === null, "a run's snapshots share one layout")
      this.image = new Uint8Array(c.imageBytes)
    }
    // Runs of consecutive chunks are written at once (a first capture is one run).
    for (let k = 0, j = 1; k < c.indices.length; k = j++) {
      while (j < c.indices.length && c.indices[j] === c.indices[j - 1]! + 1) j++
      this.image.set(c.data.subarray(k * cb, j * cb), c.indices[k]! * cb)
    }
    const base = { seq: c.seq, head: headHash, chunkBytes: cb, sections: [...c.sections] }
    const chunk = (i: number) => this.image.subarray(i * cb, (i + 1) * cb)
    let encoded: { bytes: Buffer; rawBytes: number } | null = null
    let kind: SnapshotKind = 'delta'
    const allowed = this.policy.fullRatio * this.fullRawBytes
    if (this.prevSeq !== null && this.deltas < this.policy.deltasPerFullMax && this.deltaRawBytes + c.indices.length * (cb + 4) + c.rest.length <= allowed)
      encoded = encodeSnapshot({ ...base, kind, base: this.prevSeq, fills: null }, c.rest, [...c.indices], chunk)
    if (encoded === null || this.deltaRawBytes + encoded.rawBytes > allowed) {
      kind = 'full'
      const fills = c.sections.map((s) => fillOf(this.image, s))
      const unlike: number[] = []
      const image = Buffer.from(this.image.buffer, this.image.byteOffset, this.image.byteLength)
      c.sections.forEach((s, i) => chunksUnlikeFill(image, s, fills[i]!, cb, unlike))
      encoded = encodeSnapshot({ ...base, kind, base: null, fills: fills.map(toHex) }, c.rest, unlike, chunk)
      this.fullRawBytes = encoded.rawBytes
      this.deltas = 0
      this.deltaRawBytes = 0
    } else {
      this.deltas++
      this.deltaRawBytes += encoded.rawBytes
    }
    const row: SnapshotRow = {
      seq: c.seq,
      kind,
      baseSeq: kind === 'full' ? null : this.prevSeq,
      headHash,
      checksum: sha256Hex(encoded.bytes),
      rawBytes: encoded.rawBytes,
      bytes: encoded.bytes,
    }
    this.prevSeq = c.seq
    return row
  }
}
