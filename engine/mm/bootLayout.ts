// Booting into given free lists (an imported /proc/buddyinfo or /proc/pagetypeinfo): where each
// free block goes so that the zone, once memblock has handed it over, has exactly those blocks on
// exactly those lists. Pageblocks are laid out in runs by migratetype; inside its migratetype's
// run each block takes the lowest naturally aligned place whose buddy is not a free block of the
// same order (__free_one_page would merge the two). Everything else stays reserved, as memory the
// recorded machine had in use: it is never given to the buddy allocator.
import { MAX_ORDER } from '../../events/codecs'
import { FREE_AREA_MIGRATETYPES, type FreeAreaSpec } from '../../workload/codec'

/** Index in MIGRATETYPE_NAMES of each FREE_AREA_MIGRATETYPES entry (Unmovable 0, Movable 1, Reclaimable 2, HighAtomic 3). */
const MT_INDEX: Record<(typeof FREE_AREA_MIGRATETYPES)[number], number> = { Unmovable: 0, Movable: 1, Reclaimable: 2, HighAtomic: 3 }

/** Pageblock runs are laid out in this order: Movable first, as memmap_init_zone marks every pageblock. */
const RUN_ORDER = ['Movable', 'Unmovable', 'Reclaimable', 'HighAtomic'] as const

export interface FreeBlock {
  readonly pfn: number
  readonly order: number
  readonly mt: number
}

export interface FreeLayout {
  /** Runs of pageblocks by migratetype, in pfn order, covering the zone. */
  readonly runs: readonly { readonly pfn: number; readonly pages: number; readonly mt: number }[]
  readonly blocks: readonly FreeBlock[]
}

const MAX_BLOCK = 1 << (MAX_ORDER - 1)

const countsOf = (spec: FreeAreaSpec, name: (typeof FREE_AREA_MIGRATETYPES)[number]): readonly number[] => spec.free?.[name] ?? []

/**
 * Places `counts` (blocks per order) in [start, end), largest first; null when they do not fit.
 * `headOrder` (per frame of the zone, from `base`) marks where free blocks start, so that no block
 * is placed beside a free buddy of its order, in this run or another.
 */
const place = (counts: readonly number[], start: number, end: number, mt: number, base: number, headOrder: Int8Array, used: Uint8Array, out: FreeBlock[]): number | null => {
  let top = start
  for (let order = Math.min(counts.length, MAX_ORDER) - 1; order >= 0; order--) {
    const size = 1 << order
    let cursor = Math.ceil(start / size) * size
    for (let n = counts[order] ?? 0; n > 0; cursor += size) {
      if (cursor + size > end) return null
      let clear = true
      for (let p = cursor; p < cursor + size && clear; p++) if (used[p - base] !== 0) clear = false
      // The largest order never merges; below it a free buddy of the same order would.
      const buddy = cursor ^ size
      if (!clear || (order < MAX_ORDER - 1 && buddy >= base && buddy - base < headOrder.length && headOrder[buddy - base] === order)) continue
      used.fill(1, cursor - base, cursor - base + size)
      headOrder[cursor - base] = order
      out.push({ pfn: cursor, order, mt })
      top = Math.max(top, cursor + size)
      n--
    }
  }
  return top
}

const pagesOf = (counts: readonly number[]): number => counts.reduce((a, n, o) => a + n * (1 << o), 0)

/**
 * The pageblocks each migratetype needs when the spec does not say: what its blocks take when
 * placed from an aligned start, rounded up to whole MAX_ORDER blocks so that runs stay aligned.
 */
export const pageblocksNeeded = (spec: FreeAreaSpec, pageblockOrder: number): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const name of RUN_ORDER) {
    const counts = countsOf(spec, name)
    if (pagesOf(counts) === 0) continue
    const span = Math.max(MAX_BLOCK, 2 * pagesOf(counts) + MAX_BLOCK)
    const top = place(counts, 0, span, 0, 0, new Int8Array(span).fill(-1), new Uint8Array(span), [])
    const pages = Math.ceil((top ?? span) / MAX_BLOCK) * MAX_BLOCK
    out[name] = pages >> pageblockOrder
  }
  return out
}

/** The layout of one zone of `pages` frames from `startPfn`, or why the free lists do not fit in it. */
export const layoutFreeArea = (startPfn: number, pages: number, pageblockOrder: number, spec: FreeAreaSpec): FreeLayout | string => {
  const pbPages = 1 << pageblockOrder
  const zoneBlocks = pages >> pageblockOrder
  const given = spec.pageblocks
  const wanted: Record<string, number> = given === undefined ? pageblocksNeeded(spec, pageblockOrder) : { ...given }
  const listed = RUN_ORDER.reduce((a, n) => a + (wanted[n] ?? 0), 0)
  if (listed > zoneBlocks) return `its free lists need ${listed} pageblocks, the zone has ${zoneBlocks}`
  if (given !== undefined && listed !== zoneBlocks) return `pageblocks add up to ${listed}, the zone has ${zoneBlocks}`
  // Pageblocks nobody asked for are Movable, as memmap_init_zone leaves them.
  wanted.Movable = (wanted.Movable ?? 0) + (zoneBlocks - listed)
  const headOrder = new Int8Array(pages).fill(-1)
  const used = new Uint8Array(pages)
  const runs: { pfn: number; pages: number; mt: number }[] = []
  const blocks: FreeBlock[] = []
  let at = startPfn
  for (const name of RUN_ORDER) {
    const n = wanted[name] ?? 0
    const counts = countsOf(spec, name)
    if (n === 0) {
      if (pagesOf(counts) > 0) return `its ${name} free blocks need pageblocks of type ${name}, and it has none`
      continue
    }
    const end = at + n * pbPages
    runs.push({ pfn: at, pages: n * pbPages, mt: MT_INDEX[name] })
    if (place(counts, at, end, MT_INDEX[name], startPfn, headOrder, used, blocks) === null)
      return `its ${name} free blocks (${pagesOf(counts)} pages) do not fit in its ${n} ${name} pageblocks without merging`
    at = end
  }
  return { runs: runs.filter((r) => r.pages > 0), blocks }
}
