// Anonymous memory's reverse mapping, as mm/rmap.c keeps it (kernel-facts.md §3): anonymous VMAs
// with their anon_vma and anon_vma_chain, the anon_vmas with root, parent, refcount,
// num_children and num_active_vmas and the VMAs in their interval tree, and for every frame the
// anonymous rmap (page->mapping, page->index, the anonymous ptes mapping it). Built only from
// events: the engine reads it to decide, never writes it.
import { DEFAULT_RMAP, type MachineBooted, type RmapConfig } from '../../events/machine'
import type { RmapWalkKind } from '../../events/anon'

/** No anon_vma: page->mapping of a page that is not anonymous (or was freed). */
export const NO_ANON_VMA = -1

export interface Vma {
  readonly id: number
  readonly mm: number
  /** [start, end) in virtual page numbers; pgoff is the linear page index of start (vm_pgoff). */
  start: number
  end: number
  pgoff: number
  writable: boolean
  /** vma->anon_vma: where this VMA's new (exclusive) pages go; null until the first fault. */
  anonVma: number | null
  /** vma->anon_vma_chain: every anon_vma this VMA is linked to, newest first (the root last). */
  readonly chain: number[]
  /**
   * unlink_anon_vmas has run its first pass: the VMA is out of every interval tree and its
   * chain holds only the emptied anon_vmas the second pass still has to put.
   */
  unlinked: boolean
}

export interface AnonVma {
  readonly id: number
  /** The oldest anon_vma of the tree: its lock is the one every user takes. */
  readonly root: number
  /** The anon_vma of the VMA this one was forked from; itself for a root. */
  readonly parent: number
  refcount: number
  /** Child anon_vmas whose tree is not empty, plus one for a root's link to itself. */
  numChildren: number
  /** VMAs whose vma->anon_vma this is. */
  numActiveVmas: number
  /** The interval tree (anon_vma->rb_root): the VMAs linked to it, in the order they were linked. */
  readonly vmas: number[]
  /** Mapped anonymous pages whose page->mapping names this anon_vma. */
  mappedPages: number
}

/** An rmap walk between RmapWalkStarted and RmapWalkFinished, on one CPU. */
export interface WalkInProgress {
  readonly pfn: number
  readonly anonVma: number
  readonly walk: RmapWalkKind
  /** page_mapcount when the walk started: page_referenced stops once it found that many ptes. */
  readonly mapcount: number
  /** The processes whose pte mapped the page when the walk started and still does: it must find each. */
  readonly present: number[]
}

export interface RmapWalkStats {
  walks: number
  /** VMAs visited (rmap_one calls), summed over every walk, and the most in one walk. */
  visited: number
  visitedMax: number
  /** Ptes found. */
  mapped: number
}

export interface AnonVmaState {
  readonly config: RmapConfig
  readonly pfnEnd: number
  /** Every anonymous VMA, by id, in the order they were created. */
  readonly vmas: Map<number, Vma>
  /** Each process's anonymous VMAs by start address (find_vma). */
  readonly mmVmas: Map<number, number[]>
  /** Every anon_vma not yet freed, by id, in the order they were allocated. */
  readonly anonVmas: Map<number, AnonVma>
  /** The id the next VMA and the next anon_vma will get (ids are never reused). */
  nextVma: number
  nextAnonVma: number
  /** page->mapping of each frame's anonymous page: an anon_vma id, or NO_ANON_VMA. It stays (stale) after the last unmap until the page is freed. */
  readonly mapping: Int32Array
  /** page->index: the linear page index of the anonymous page. */
  readonly index: Int32Array
  /** Anonymous ptes mapping the frame (page_mapcount of an anonymous page). */
  readonly mapcount: Int32Array
  /** 1 while a walker holds the page off the LRU (isolate_lru_page): it keeps the page allocated. */
  readonly isolated: Uint8Array
  /** The anonymous LRU, oldest first. */
  readonly lru: Set<number>
  /** Walks in progress, by CPU. */
  readonly walks: Map<number, WalkInProgress>
  readonly stats: RmapWalkStats
  /**
   * Anonymous ptes set on a page that had no anonymous rmap: what runs stored by engines older
   * than this model hold (their anon op mapped pages without anon_vmas). Such a run folds; the
   * invariants that need page->mapping leave those pages alone. This engine never sets one.
   */
  ptesWithoutRmap: number
}

export const rmapConfigOf = (boot: MachineBooted['data']): RmapConfig => boot.rmap ?? DEFAULT_RMAP

export const createAnonVmaState = (config: RmapConfig, pfnEnd: number): AnonVmaState => ({
  config,
  pfnEnd,
  vmas: new Map(),
  mmVmas: new Map(),
  anonVmas: new Map(),
  nextVma: 0,
  nextAnonVma: 0,
  mapping: new Int32Array(pfnEnd).fill(NO_ANON_VMA),
  index: new Int32Array(pfnEnd).fill(-1),
  mapcount: new Int32Array(pfnEnd),
  isolated: new Uint8Array(pfnEnd),
  lru: new Set(),
  walks: new Map(),
  stats: { walks: 0, visited: 0, visitedMax: 0, mapped: 0 },
  ptesWithoutRmap: 0,
})

/** Anonymous memory lives below the first file window (projections/mm/state.ts: FILE_VPN_SPAN). */
export const ANON_VPN_END = 1 << 24

/** find_vma as mmsim needs it: the VMA of `mm` that covers `vpn`, or undefined. */
export const findVma = (s: AnonVmaState, mm: number, vpn: number): Vma | undefined => {
  const ids = s.mmVmas.get(mm)
  if (ids === undefined) return undefined
  for (const id of ids) {
    const v = s.vmas.get(id)!
    if (vpn >= v.start && vpn < v.end) return v
  }
  return undefined
}

/** The VMAs of `mm`, by start address. */
export const vmasOf = (s: AnonVmaState, mm: number): Vma[] => (s.mmVmas.get(mm) ?? []).map((id) => s.vmas.get(id)!)

/** vma_address: where page `index` is mapped in `vma`, or -1 (-EFAULT) when the VMA does not cover it. */
export const vmaAddress = (v: Vma, index: number): number => {
  const vpn = v.start + (index - v.pgoff)
  return vpn >= v.start && vpn < v.end ? vpn : -1
}

/** The anon_vma a page's mapping names, or undefined when the page has none or it was freed. */
export const pageAnonVma = (s: AnonVmaState, pfn: number): AnonVma | undefined => {
  const id = s.mapping[pfn]!
  return id === NO_ANON_VMA ? undefined : s.anonVmas.get(id)
}

/** Whether the anon_vma reuse heuristic is in force (chain linking with reuse on). */
export const reuseOn = (c: RmapConfig): boolean => c.anonVmaLinking === 'chain' && c.anonVmaReuse !== 'off'
