// The hashes over a stored run, as pure functions of the stored values (storage/HASHES.md
// specifies each one byte for byte, with test vectors in test/hashChain.test.ts):
//
// - per event, `h` (event_batches.hashes): cyrb53 of the row's canonical text, seeded with the previous row's h
//   (cheap; it locates the first altered or diverging row);
// - per block of BLOCK_EVENTS events, `event_blocks.hash`: SHA-256 of the previous block's hash
//   and the block's row texts, chained from the run's identity (strong);
// - per schedule chunk: SHA-256 of the previous one and the chunk's bytes, its head in
//   `runs.schedule_hash`;
// - the run's head, `runs.head_hash`: SHA-256 of the last block's hash, the head seq, the schedule
//   head and the decision count. This is the value `mmsim run` prints: a copy kept outside the
//   database (the external anchor) then vouches for every event, frame list, the run's identity
//   and its schedule;
// - the run's seal, `runs.seal`: SHA-256 of the row's remaining columns (its name and source,
//   times, process, status, outcome, reason, violations) and its identity.
//
// Schema 1 runs (hash version 1) have only the first two, over fewer columns: rowTextV1 and
// rowHashV1 keep them verifiable. Hash version 3 is version 2 with schedule decision records
// (three words each, events/schedule.ts) instead of bare delays, and the run's lineage (the run it
// was replayed or forked from) under the seal.
import { createHash } from 'node:crypto'

/** The hash version written by this mmsim, stored per run in `runs.hash_version`. */
export const HASH_VERSION = 3 as const

const SEP = '\u001f'

// cyrb53 (bryc, 2018, public domain) with a 53-bit seed: h1 takes the seed's low 32 bits, h2 its
// high 21. With seed 0 it is the published cyrb53. The fields of a row are hashed in turn with a
// U+001F between them, exactly as if their text were joined; h1 and h2 stay locals of one loop
// (V8 keeps them in registers: a third faster than state kept in a closure or the module).
const cyrb53Parts = (parts: readonly string[], seed: number): number => {
  let h1 = 0xdeadbeef ^ (seed >>> 0)
  let h2 = 0x41c6ce57 ^ Math.floor(seed / 4294967296)
  for (let p = 0; p < parts.length; p++) {
    if (p > 0) {
      h1 = Math.imul(h1 ^ 0x1f, 2654435761)
      h2 = Math.imul(h2 ^ 0x1f, 1597334677)
    }
    const text = parts[p]!
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i)
      h1 = Math.imul(h1 ^ ch, 2654435761)
      h2 = Math.imul(h2 ^ ch, 1597334677)
    }
  }
  return cyrb53Final(h1, h2)
}

const cyrb53Final = (h1: number, h2: number): number => {
  const a = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  const b = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(a ^ (a >>> 13), 3266489909)
  return 4294967296 * (2097151 & b) + (a >>> 0)
}

/** cyrb53 of a string's UTF-16 code units, with a seed of up to 53 bits. */
export const cyrb53 = (text: string, seed = 0): number => cyrb53Parts([text], seed)

/**
 * cyrb53 of bytes [from, to), each taken as one code unit: the cyrb53 of their text when every
 * byte is ASCII (a UTF-8 byte of another character is not its code unit). The writer hashes the
 * row texts it writes as bytes (batchEncoder.ts).
 */
export const cyrb53Bytes = (bytes: Uint8Array, from: number, to: number, seed: number): number => {
  let h1 = 0xdeadbeef ^ (seed >>> 0)
  let h2 = 0x41c6ce57 ^ Math.floor(seed / 4294967296)
  for (let i = from; i < to; i++) {
    const ch = bytes[i]!
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  return cyrb53Final(h1, h2)
}

const opt = (n: number | null): string => (n === null ? '' : String(n))

/**
 * The frames an event lists (event_pfns), as the hashes take them: distinct, ascending. The
 * store's rows are a set per event, so duplicates in the event's own list are one frame.
 */
export const eventFrames = (pfns: readonly number[] | null): readonly number[] => {
  if (pfns === null || pfns.length === 0) return NO_FRAMES
  return [...new Set(pfns)].sort((a, b) => a - b)
}

const NO_FRAMES: readonly number[] = Object.freeze([])

/**
 * The canonical text of a row (hash version 2): seq, t, cpu, type, pfn, npages, cause, the listed
 * frames (comma-separated) and data, joined by U+001F; a null is the empty string. The JSON of
 * `data` escapes control characters, so the separator cannot occur inside a field.
 */
export const rowText = (
  seq: number,
  t: number,
  cpu: number | null,
  type: string,
  pfn: number | null,
  npages: number | null,
  cause: number | null,
  frames: readonly number[],
  data: string,
): string =>
  // One template rather than an array join: the writer thread builds one of these per event.
  `${seq}${SEP}${t}${SEP}${cpu ?? ''}${SEP}${type}${SEP}${pfn ?? ''}${SEP}${npages ?? ''}${SEP}${cause ?? ''}${SEP}${frames.length === 0 ? '' : frames.join(',')}${SEP}${data}`

/** A row's chained hash (hash version 2): cyrb53 of the row's text, seeded with the previous row's hash. */
export const rowHash = (
  prev: number,
  seq: number,
  t: number,
  cpu: number | null,
  type: string,
  pfn: number | null,
  npages: number | null,
  cause: number | null,
  frames: readonly number[],
  data: string,
): number => cyrb53(rowText(seq, t, cpu, type, pfn, npages, cause, frames, data), prev)

/** Hash version 1's row text: no pfn, npages or frames. */
export const rowTextV1 = (seq: number, t: number, cpu: number | null, type: string, cause: number | null, data: string): string =>
  [seq, t, opt(cpu), type, opt(cause), data].join(SEP)

/** Hash version 1's row hash: cyrb53(rowTextV1(...), prev). */
export const rowHashV1 = (prev: number, seq: number, t: number, cpu: number | null, type: string, cause: number | null, data: string): number =>
  cyrb53Parts([String(seq), String(t), opt(cpu), type, opt(cause), data], prev)

const sha256 = (...parts: readonly (string | Uint8Array)[]): string => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest('hex')
}

/** The genesis of a hash version 1 block chain. */
export const GENESIS_HASH = ''

/** A block's hash: SHA-256 of the previous block's hash (hex), a newline, and the rows' texts joined by newlines. */
export const blockHash = (prevHex: string, rows: readonly string[]): string => sha256(prevHex, '\n', rows.join('\n'))

/** blockHash of rows given as the UTF-8 of their texts joined by newlines (the writer's form). */
export const blockHashOfText = (prevHex: string, rowsUtf8: Uint8Array): string => sha256(prevHex, '\n', rowsUtf8)

/** What makes a run re-executable: the genesis of its block chain (hash version 2). */
export interface RunIdentity {
  readonly engineVersion: string
  readonly seed: number
  /** The stored JSON text, exactly. */
  readonly config: string
  /** The stored JSON text, exactly. */
  readonly workload: string
}

/**
 * SHA-256 of "mmsim-run-identity-v2" and the four fields, each on its own line. Only what decides
 * the events goes in, so the same workload, seed and configuration give the same head hash in any
 * database, on any machine.
 */
export const identityHash = (r: RunIdentity): string => sha256(['mmsim-run-identity-v2', r.engineVersion, String(r.seed), r.config, r.workload].join('\n'))

/** The head of an empty schedule chain. */
export const SCHEDULE_GENESIS = ''

/** A schedule chunk's hash: SHA-256 of the previous chunk's hash (hex), a newline, and the chunk's bytes as stored. */
export const scheduleHash = (prevHex: string, chunk: Uint8Array): string => sha256(prevHex, '\n', chunk)

/**
 * The run's head hash: SHA-256 of "mmsim-run-head-v2" (hash version 2: a schedule of delays) or
 * "mmsim-run-head-v3" (version 3: of decision records), the last block's hash (the identity hash
 * when there is no block), the head seq, the schedule head and the decision count, one per line.
 */
export const headHash = (blockHead: string, headSeq: number, scheduleHead: string, decisions: number, version: number = HASH_VERSION): string =>
  sha256([version >= 3 ? 'mmsim-run-head-v3' : 'mmsim-run-head-v2', blockHead, String(headSeq), scheduleHead, String(decisions)].join('\n'))

/** The columns of `runs` that the head does not cover. */
export interface RunSealed {
  readonly identity: string
  readonly workloadName: string
  readonly workloadSource: string
  readonly createdAt: string
  readonly pid: number | null
  readonly host: string | null
  readonly status: string
  readonly outcome: string | null
  readonly reason: string | null
  readonly violations: number
  readonly finishedAt: string | null
}

/** Where a run came from (hash version 3): the run it replays or forks, and how it followed its schedule. */
export interface RunLineage {
  readonly parentRun: number | null
  readonly derivation: 'replay' | 'fork' | null
  readonly forkSeq: number | null
  readonly scheduleSeed: number | null
  /** The seq and decision index at which it stopped following the parent's schedule; null when it never did. */
  readonly departedSeq: number | null
  readonly departedDecision: number | null
}

/**
 * The run's seal: SHA-256 of "mmsim-run-seal-v2" and the JSON array of the sealed columns in the
 * interface's order; from hash version 3, "mmsim-run-seal-v3" and the same array followed by the
 * lineage's columns in RunLineage's order.
 */
export const sealHash = (s: RunSealed, lineage: RunLineage | null = null): string => {
  const sealed = [s.identity, s.workloadName, s.workloadSource, s.createdAt, s.pid, s.host, s.status, s.outcome, s.reason, s.violations, s.finishedAt]
  if (lineage === null) return sha256('mmsim-run-seal-v2\n', JSON.stringify(sealed))
  const l = lineage
  return sha256('mmsim-run-seal-v3\n', JSON.stringify([...sealed, l.parentRun, l.derivation, l.forkSeq, l.scheduleSeed, l.departedSeq, l.departedDecision]))
}
