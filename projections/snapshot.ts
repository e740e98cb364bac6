// Snapshot and restore of the whole projected state (DESIGN.md: each projection has its initial
// state, evolve, and snapshot / restore). A state is saved as two things: its typed arrays, laid
// out in one byte image (the per-frame arrays are nearly all of a large guest's state), and the
// rest of each projection (counters, lists, Maps in their iteration order, which is state: the
// page cache is an LRU) as JSON. Sections of the image start at chunk boundaries, so that the
// store can keep a snapshot as the chunks that changed since the one before; a restore writes
// chunks straight into the arrays of a state that createState built from the same machine.
// A projection added later is one more entry in SNAPSHOT_PART_OF, whose type demands one per projection.
import * as t from 'io-ts'
import * as E from 'fp-ts/Either'
import { MachineBooted } from '../events/machine'
import { formatErrors } from '../events/report'
import { anonVmaSnapshot } from './anon_vma/snapshot'
import { cpusSnapshot } from './cpus/snapshot'
import { mmsSnapshot } from './mm/snapshot'
import { pagesSnapshot } from './pages/snapshot'
import { createState, type MmState } from './state'
import { statsSnapshot } from './stats'
import { zoneSnapshot } from './zone/snapshot'
import { isolationSnapshot } from './isolation/snapshot'
import { boundarySnapshot } from './boundary/snapshot'
import type { SnapshotPart, StateArray } from './snapshotPart'

export type { SnapshotPart, StateArray } from './snapshotPart'

/**
 * How each projection of MmState is saved; `machine` is saved beside them. The record's type
 * names every projection, so one added to MmState does not compile until it has its entry here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const SNAPSHOT_PART_OF: { readonly [K in Exclude<keyof MmState, 'machine'>]: SnapshotPart<any> } = {
  zone: zoneSnapshot,
  pages: pagesSnapshot,
  cpus: cpusSnapshot,
  mms: mmsSnapshot,
  stats: statsSnapshot,
  anonVma: anonVmaSnapshot,
  isolation: isolationSnapshot,
  boundary: boundarySnapshot,
}

/** The parts in a fixed order (the record's): the order of the image's sections. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const SNAPSHOT_PARTS: readonly (readonly [string, SnapshotPart<any>])[] = Object.entries(SNAPSHOT_PART_OF)

/** Bytes per chunk: the unit in which snapshots record what changed. */
export const SNAPSHOT_CHUNK_BYTES = 256

export interface ImageSection {
  /** `part.array`, e.g. `zone.next`. */
  readonly name: string
  readonly offset: number
  readonly bytes: number
  readonly elementBytes: number
}

/** Where each typed array of a state lies in its image. Fixed by the machine, so one per run. */
export interface ImageLayout {
  readonly sections: readonly ImageSection[]
  readonly chunkBytes: number
  /** A whole number of chunks. */
  readonly imageBytes: number
}

const stateArrays = (s: MmState): StateArray[] => SNAPSHOT_PARTS.flatMap(([, p]) => p.arrays(s).map(([, a]) => a))

export const imageLayout = (s: MmState, chunkBytes = SNAPSHOT_CHUNK_BYTES): ImageLayout => {
  const sections: ImageSection[] = []
  let offset = 0
  for (const [part, p] of SNAPSHOT_PARTS)
    for (const [name, a] of p.arrays(s)) {
      sections.push({ name: `${part}.${name}`, offset, bytes: a.byteLength, elementBytes: a.BYTES_PER_ELEMENT })
      offset += Math.ceil(a.byteLength / chunkBytes) * chunkBytes
    }
  return { sections, chunkBytes, imageBytes: offset }
}

/** The bytes of each typed array of `s`, in layout order: what a capture reads and a restore writes. */
export const sectionViews = (s: MmState): Uint8Array[] => stateArrays(s).map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength))

/** A state as a snapshot takes it: the chunks of its image that changed since the last capture, the layout, and its rest as JSON. */
export interface CapturedState {
  /** [name, offset, bytes, element bytes] per section. */
  readonly sections: [string, number, number, number][]
  readonly chunkBytes: number
  readonly imageBytes: number
  /** Ascending indices of the chunks that changed, and their bytes (chunkBytes each). */
  readonly indices: Uint32Array
  readonly data: Uint8Array
  readonly rest: string
}

/**
 * Bytes compared at once before looking chunk by chunk: most of a large guest's image does not
 * change between snapshots. Both compares are native (Buffer.compare); 1 KiB blocks measured
 * fastest on a 2 GiB guest with about a thousand changed chunks (1.6 ms for 10 MiB).
 */
const COMPARE_BLOCK_BYTES = 1024

/**
 * Captures the states of one run (one machine, so one layout) as what changed since the last
 * capture: it keeps a shadow of the image, compares the live arrays with it block by block, then
 * chunk by chunk in a block that differs, and copies only the chunks that differ. The first
 * capture is the whole image. Padding between sections is never written: it stays zero.
 */
export class StateCapture {
  private layout: ImageLayout | null = null
  private sections: [string, number, number, number][] = []
  private shadow = Buffer.alloc(0)
  private first = true

  capture(s: MmState): CapturedState {
    if (this.layout === null) {
      this.layout = imageLayout(s)
      this.sections = this.layout.sections.map((x) => [x.name, x.offset, x.bytes, x.elementBytes])
      this.shadow = Buffer.alloc(this.layout.imageBytes)
    }
    const { sections, chunkBytes: cb } = this.layout
    const shadow = this.shadow
    if (this.first) return this.captureAll(s)
    const changed: number[] = []
    sectionViews(s).forEach((v, i) => {
      const live = Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      const { offset, bytes } = sections[i]!
      for (let at = 0; at < bytes; at += COMPARE_BLOCK_BYTES) {
        const end = Math.min(at + COMPARE_BLOCK_BYTES, bytes)
        if (live.compare(shadow, offset + at, offset + end, at, end) === 0) continue
        for (let c = at; c < end; c += cb) {
          const ce = Math.min(c + cb, end)
          if (live.compare(shadow, offset + c, offset + ce, c, ce) === 0) continue
          live.copy(shadow, offset + c, c, ce)
          changed.push((offset + c) / cb)
        }
      }
    })
    const data = new Uint8Array(changed.length * cb)
    const out = Buffer.from(data.buffer)
    changed.forEach((c, k) => shadow.copy(out, k * cb, c * cb, (c + 1) * cb))
    return { sections: this.sections, chunkBytes: cb, imageBytes: this.layout.imageBytes, indices: Uint32Array.from(changed), data, rest: JSON.stringify(saveRest(s)) }
  }

  /** The first capture: the whole image, copied without comparing (nearly every chunk of a fresh state differs from zeros). */
  private captureAll(s: MmState): CapturedState {
    const { sections, chunkBytes: cb, imageBytes } = this.layout!
    sectionViews(s).forEach((v, i) => this.shadow.set(v, sections[i]!.offset))
    this.first = false
    const indices = new Uint32Array(imageBytes / cb).map((_, i) => i)
    return { sections: this.sections, chunkBytes: cb, imageBytes, indices, data: new Uint8Array(this.shadow), rest: JSON.stringify(saveRest(s)) }
  }
}

/** The rest of a state: what the image does not hold. */
export interface SnapshotRest {
  readonly machine: MachineBooted['data']
  readonly parts: Record<string, unknown>
}

export const saveRest = (s: MmState): SnapshotRest => ({ machine: s.machine, parts: Object.fromEntries(SNAPSHOT_PARTS.map(([part, p]) => [part, p.save(s)])) })

const RestShape = t.type({ machine: MachineBooted.props.data, parts: t.UnknownRecord })

/** The machine a saved rest was taken on, decoded; or why it does not decode. */
export const restMachine = (rest: unknown): E.Either<string, MachineBooted['data']> => {
  const r = RestShape.decode(rest)
  return E.isLeft(r) ? E.left(`its machine does not decode: ${formatErrors(r.left)}`) : E.right(r.right.machine)
}

/** Why a saved layout ([name, offset, bytes, element bytes] per section) is not `want`'s, or null when it is. */
export const layoutMismatch = (want: ImageLayout, got: readonly (readonly [string, number, number, number])[], chunkBytes: number): string | null => {
  if (chunkBytes !== want.chunkBytes) return `its chunks are ${chunkBytes} bytes, not ${want.chunkBytes}`
  if (want.sections.length !== got.length) return `it has ${got.length} arrays, the machine's state has ${want.sections.length}`
  for (let i = 0; i < got.length; i++) {
    const a = want.sections[i]!
    const [name, offset, bytes, size] = got[i]!
    if (a.name !== name || a.offset !== offset || a.bytes !== bytes || a.elementBytes !== size)
      return `array ${i} is ${name} of ${bytes} bytes at ${offset}, the machine's state has ${a.name} of ${a.bytes} bytes at ${a.offset}`
  }
  return null
}

/**
 * A state to restore into: createState of the machine, its arrays to be written by fills and
 * chunks (restoreImage), its rest by loadRest.
 */
export const restoreTarget = (machine: MachineBooted['data']): MmState => createState(machine)

/** Fills section `i` of a state with repeats of `pattern` (one element's bytes): the pattern once, then copies that double. */
export const fillSection = (views: readonly Uint8Array[], i: number, pattern: Uint8Array): void => {
  const v = views[i]!
  if (pattern.every((b) => b === pattern[0])) {
    v.fill(pattern[0]!)
    return
  }
  if (v.length < pattern.length) return
  v.set(pattern, 0)
  for (let have = pattern.length; have < v.length; have *= 2) v.copyWithin(have, 0, Math.min(have, v.length - have))
}

/**
 * Writes chunks of an image into the arrays of a state: `indices[k]` is the chunk's index in the
 * image, its bytes are `data[k * chunkBytes ..]`. A chunk lies within one section (sections start
 * at chunk boundaries); the part of it past the section's end is padding.
 */
export const applyChunks = (views: readonly Uint8Array[], layout: ImageLayout, indices: Uint32Array, data: Uint8Array): string | null => {
  const cb = layout.chunkBytes
  let sec = 0
  // Runs of consecutive chunks within one array are written at once.
  for (let k = 0, j = 1; k < indices.length; k = j++) {
    const at = indices[k]! * cb
    if (k > 0 && indices[k]! <= indices[k - 1]!) return `chunk ${indices[k]} is out of order`
    while (sec < layout.sections.length && at >= layout.sections[sec]!.offset + layout.sections[sec]!.bytes) sec++
    const s = layout.sections[sec]
    if (s === undefined || at < s.offset) return `chunk ${indices[k]} lies outside every array`
    const end = s.offset + s.bytes
    while (j < indices.length && indices[j] === indices[j - 1]! + 1 && indices[j]! * cb < end) j++
    const n = Math.min((j - k) * cb, end - at)
    views[sec]!.set(data.subarray(k * cb, k * cb + n), at - s.offset)
  }
  return null
}

/** Decodes a saved rest and puts it into `s`; the reason when it does not fit. */
export const loadRest = (s: MmState, rest: unknown): string | null => {
  const r = RestShape.decode(rest)
  if (E.isLeft(r)) return `its saved state does not decode: ${formatErrors(r.left)}`
  if (JSON.stringify(r.right.machine) !== JSON.stringify(s.machine)) return 'it was taken on another machine'
  for (const [part, p] of SNAPSHOT_PARTS) {
    const v = p.codec.decode(r.right.parts[part])
    if (E.isLeft(v)) return `its ${part} does not decode: ${formatErrors(v.left)}`
    const why = p.load(s, v.right)
    if (why !== null) return `its ${part} does not fit the machine: ${why}`
  }
  return null
}
