// Comparing two stored runs event by event: the first seq at which they differ. Runs whose rows
// are hashed alike (hash version 2 and later) compare by the per-event chain hash, which covers
// every column and the frames an event lists, so the first differing hash is the first differing
// row; across hash versions they compare by the rows' columns. A replay compares both: its own
// hashes were just computed from the events it made, while the run it replays may have been
// altered without its hashes (the columns then differ at the altered row).
import { readRows, type Db, type RunRow, type StoredRow } from '../storage'

/** How rows are compared: by chain hash, by their columns, or both (a replay checking its parent). */
export type CompareBy = 'hash' | 'row' | 'row+hash'

export interface Divergence {
  readonly seq: number
  /** row: the columns differ; hash: the columns are equal but the chain hashes are not; missing: one run has no event there. */
  readonly what: 'row' | 'hash' | 'missing'
  /** The columns that differ (what: row). */
  readonly columns: readonly string[]
  readonly a: StoredRow | null
  readonly b: StoredRow | null
}

export interface Comparison {
  readonly by: CompareBy
  /** The first seq compared (2 when seq 1, the machine booted, is known to differ: another variant). */
  readonly fromSeq: number
  /** Seqs compared, up to and including the divergence. */
  readonly compared: number
  readonly divergence: Divergence | null
}

/** Hash version 1 hashed fewer columns; versions 2 and 3 hash a row alike (storage/HASHES.md §1). */
const rowHashVersion = (r: RunRow): number => (r.hash_version === 1 ? 1 : 2)

/** By chain hash when both runs hash rows alike, else by the rows' columns. */
export const compareByFor = (a: RunRow, b: RunRow): CompareBy => (rowHashVersion(a) === rowHashVersion(b) ? 'hash' : 'row')

const sameRow = (x: StoredRow, y: StoredRow): boolean =>
  x.t === y.t && x.cpu === y.cpu && x.type === y.type && x.pfn === y.pfn && x.npages === y.npages && x.cause === y.cause && x.data === y.data

const COLUMNS = ['t', 'cpu', 'type', 'pfn', 'npages', 'cause', 'data'] as const

/** The columns in which two rows differ. */
const differing = (x: StoredRow, y: StoredRow): string[] => COLUMNS.filter((c) => x[c] !== y[c])

export interface CompareRange {
  readonly fromSeq?: number
  readonly toSeq?: number
}

/**
 * The first seq (in `range`, default both runs whole) at which runs `a` and `b` differ, or null
 * when they are the same event for event. A run that ends earlier diverges at its first missing
 * seq. Chain hashes compare only from seq 1: past a divergence every later hash differs.
 */
export const firstDivergence = (db: Db, a: RunRow, b: RunRow, by: CompareBy = compareByFor(a, b), range: CompareRange = {}): Comparison => {
  const fromSeq = range.fromSeq ?? 1
  const f = { fromSeq, toSeq: range.toSeq ?? Number.MAX_SAFE_INTEGER }
  const ra = readRows(db, a.id, f)
  const rb = readRows(db, b.id, f)
  let compared = 0
  const found = (divergence: Divergence): Comparison => ({ by, fromSeq, compared, divergence })
  try {
    for (;;) {
      const x = ra.next()
      const y = rb.next()
      if (x.done === true && y.done === true) return { by, fromSeq, compared, divergence: null }
      compared++
      if (x.done === true || y.done === true) {
        const seq = x.done === true ? y.value!.seq : x.value.seq
        return found({ seq, what: 'missing', columns: [], a: x.done === true ? null : x.value, b: y.done === true ? null : y.value })
      }
      const r = x.value
      const s = y.value
      // A gap in one run (damage) is where they part.
      if (r.seq !== s.seq) return found({ seq: Math.min(r.seq, s.seq), what: 'missing', columns: [], a: r.seq < s.seq ? r : null, b: s.seq < r.seq ? s : null })
      const rowDiffers = by !== 'hash' && !sameRow(r, s)
      const hashDiffers = by !== 'row' && r.h !== s.h
      // A differing hash over equal columns is a differing frame list or a differing earlier row's hash.
      if (rowDiffers || hashDiffers) {
        const columns = differing(r, s)
        return found({ seq: r.seq, what: columns.length > 0 ? 'row' : 'hash', columns, a: r, b: s })
      }
    }
  } finally {
    ra.return(undefined)
    rb.return(undefined)
  }
}

/**
 * Where two runs of the same workload under other variants first behave differently: their
 * first events (the machine booted) differ in the variants they name, so the rows are compared
 * by their columns from seq 2. Null when seq 1 differs in anything else, or is not a boot.
 */
export const firstDivergenceAfterBoot = (db: Db, a: RunRow, b: RunRow, toSeq?: number): Comparison | null => {
  const boot = (r: RunRow): StoredRow | undefined => {
    for (const row of readRows(db, r.id, { toSeq: 1 })) return row
    return undefined
  }
  const x = boot(a)
  const y = boot(b)
  if (x === undefined || y === undefined || x.type !== 'MachineBooted' || y.type !== 'MachineBooted') return null
  const machine = (r: StoredRow): string => JSON.stringify({ ...(JSON.parse(r.data) as Record<string, unknown>), hinting: null })
  if (machine(x) !== machine(y)) return null
  return firstDivergence(db, a, b, 'row', { fromSeq: 2, ...(toSeq !== undefined ? { toSeq } : {}) })
}
