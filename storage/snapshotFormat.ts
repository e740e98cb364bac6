// The bytes of a stored snapshot (table `snapshots`, column `bytes`): an 8-byte magic that names
// the format, then a raw deflate stream of the payload
//
//   u32 n_header | header JSON (UTF-8) | zeros to a multiple of 4 | u32 chunk index × chunks | chunk bytes × chunks
//
// (little-endian). The header says which prefix of the run it holds (seq, and the head hash of
// that prefix), its kind and base, the image layout (sections: name, offset, bytes, element
// bytes), for a full snapshot the element each section is filled with before its chunks are
// written, and the rest of the state (projections/snapshot.ts) as JSON. A delta's chunks are the
// ones that changed since its base; a full's, the ones that differ from the fills. The checksum
// (SHA-256 of the stored bytes) is kept beside them in the row.
import { createHash } from 'node:crypto'
import * as zlib from 'node:zlib'
import * as t from 'io-ts'
import * as E from 'fp-ts/Either'
import { NonNegInt, PosInt, oneOf } from '../events/codecs'
import { formatErrors } from '../events/report'

export const SNAPSHOT_MAGIC = Buffer.from('mmsnap1\n', 'latin1')
/** zlib level: 1 compresses these images nearly as well as 6, several times faster (bench/timetravel.ts). */
const DEFLATE_LEVEL = 1

export const SNAPSHOT_KINDS = ['full', 'delta'] as const
export type SnapshotKind = (typeof SNAPSHOT_KINDS)[number]

/** A section of the image: [name, offset, bytes, element bytes]. */
export const SectionSpec = t.tuple([t.string, NonNegInt, NonNegInt, PosInt])
export type SectionSpec = t.TypeOf<typeof SectionSpec>

const Header = t.type({
  seq: PosInt,
  kind: oneOf(SNAPSHOT_KINDS),
  base: t.union([PosInt, t.null]),
  head: t.string,
  chunkBytes: PosInt,
  sections: t.array(SectionSpec),
  /** Per section, the hex of the element it is filled with first; full snapshots only. */
  fills: t.union([t.array(t.string), t.null]),
  chunks: NonNegInt,
  rest: t.unknown,
})
export type SnapshotHeader = t.TypeOf<typeof Header>

/** What a snapshot holds, decoded. */
export interface SnapshotContent {
  readonly header: SnapshotHeader
  /** Ascending chunk indices into the image. */
  readonly indices: Uint32Array
  /** `chunkBytes` per index, in the same order. */
  readonly data: Uint8Array
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

const align4 = (n: number): number => (n + 3) & ~3

/**
 * The stored bytes of a snapshot. `restJson` is the state's rest already as JSON text (made on
 * the simulation thread); `chunk(k)` gives the k-th chunk's bytes.
 */
export const encodeSnapshot = (
  header: Omit<SnapshotHeader, 'rest' | 'chunks'>,
  restJson: string,
  indices: readonly number[],
  chunk: (index: number) => Uint8Array,
): { bytes: Buffer; rawBytes: number } => {
  const json = Buffer.from(`${JSON.stringify({ ...header, chunks: indices.length }).slice(0, -1)},"rest":${restJson}}`, 'utf8')
  const at = 4 + align4(json.length)
  const cb = header.chunkBytes
  const payload = Buffer.alloc(at + indices.length * (4 + cb))
  payload.writeUInt32LE(json.length, 0)
  json.copy(payload, 4)
  const dataAt = at + 4 * indices.length
  for (let k = 0; k < indices.length; k++) {
    payload.writeUInt32LE(indices[k]!, at + 4 * k)
    payload.set(chunk(indices[k]!), dataAt + k * cb)
  }
  return { bytes: Buffer.concat([SNAPSHOT_MAGIC, zlib.deflateRawSync(payload, { level: DEFLATE_LEVEL })]), rawBytes: payload.length }
}

/** Decodes stored bytes; the reason when they are not a snapshot of this format. */
export const decodeSnapshot = (bytes: Uint8Array): E.Either<string, SnapshotContent> => {
  if (bytes.length < SNAPSHOT_MAGIC.length || !SNAPSHOT_MAGIC.equals(bytes.subarray(0, SNAPSHOT_MAGIC.length))) return E.left('not a snapshot of a format this mmsim reads')
  let payload: Buffer
  try {
    payload = zlib.inflateRawSync(bytes.subarray(SNAPSHOT_MAGIC.length))
  } catch (err) {
    return E.left(`its bytes do not inflate (${(err as Error).message})`)
  }
  if (payload.length < 4) return E.left('it is cut short')
  const n = payload.readUInt32LE(0)
  if (4 + n > payload.length) return E.left('its header is cut short')
  let u: unknown
  try {
    u = JSON.parse(payload.toString('utf8', 4, 4 + n))
  } catch (err) {
    return E.left(`its header is not JSON (${(err as Error).message})`)
  }
  const h = Header.decode(u)
  if (E.isLeft(h)) return E.left(`its header does not decode: ${formatErrors(h.left)}`)
  const header = h.right
  const at = 4 + align4(n)
  if (payload.length !== at + header.chunks * (4 + header.chunkBytes))
    return E.left(`it holds ${payload.length} bytes, its header says ${header.chunks} chunks of ${header.chunkBytes}`)
  // Copies, so that the typed views are aligned whatever the payload's offset.
  const indices = new Uint32Array(header.chunks)
  for (let k = 0; k < header.chunks; k++) indices[k] = payload.readUInt32LE(at + 4 * k)
  const data = new Uint8Array(payload.buffer, payload.byteOffset + at + 4 * header.chunks, header.chunks * header.chunkBytes)
  return E.right({ header, indices, data })
}

/** An element's bytes as the header keeps them, and back. */
export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
export const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))
