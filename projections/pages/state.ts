// Per-frame page state for guest page hinting: the s390 state pair, struct page flags, the
// reference and map counts, page cache identity, and users relying on the content. Typed
// arrays, like the zone's; absent entirely when the guest does not hint.
import { PAGE_FLAGS, PAGE_STATES, type PageFlag } from '../../events/hinting'
import { type HintingConfig } from '../../events/machine'
import { Sz } from './states'

export const FLAG_BIT: Readonly<Record<PageFlag, number>> = Object.fromEntries(PAGE_FLAGS.map((f, i) => [f, 1 << i])) as Record<PageFlag, number>
export const PG_locked = FLAG_BIT.PG_locked
export const PG_uptodate = FLAG_BIT.PG_uptodate
export const PG_dirty = FLAG_BIT.PG_dirty
export const PG_lru = FLAG_BIT.PG_lru
export const PG_writeback = FLAG_BIT.PG_writeback
export const PG_private = FLAG_BIT.PG_private
export const PG_mlocked = FLAG_BIT.PG_mlocked
export const PG_discarded = FLAG_BIT.PG_discarded
export const PG_writable = FLAG_BIT.PG_writable
export const PG_anon = FLAG_BIT.PG_anon
export const SK_changed = FLAG_BIT.SK_changed

export const flagNames = (bits: number): PageFlag[] => PAGE_FLAGS.filter((f) => (bits & FLAG_BIT[f]) !== 0)

/** Page cache keys: (file, index) in one number. */
export const CACHE_INDEX_MAX = 1 << 24
export const cacheKey = (file: number, index: number): number => file * CACHE_INDEX_MAX + index

export interface PagesState {
  readonly config: HintingConfig
  /** Index into PAGE_STATES. Every frame starts Sz: stable, logically zero (never backed). */
  readonly pstate: Uint8Array
  readonly flags: Uint16Array
  readonly refcount: Int32Array
  readonly mapcount: Int32Array
  /** Users relying on the content right now (PageUseStarted minus PageUseEnded). */
  readonly uses: Int32Array
  /** Page cache identity; -1 when the page is not in the page cache. */
  readonly file: Int32Array
  readonly index: Int32Array
  /** The page cache (radix tree): cacheKey(file, index) -> pfn. */
  readonly cache: Map<number, number>
  /** Frames per state (index into PAGE_STATES): the distribution the GPH09 cover letter reports. */
  readonly stateCounts: number[]
  /** Transitions by "from>to", and host actions: the counts a run summary shows. */
  readonly transitions: Map<string, number>
  hostDiscards: number
  hostPagedOut: number
}

export const createPagesState = (config: HintingConfig, pfnEnd: number): PagesState => ({
  config,
  pstate: new Uint8Array(pfnEnd).fill(Sz),
  flags: new Uint16Array(pfnEnd),
  refcount: new Int32Array(pfnEnd),
  mapcount: new Int32Array(pfnEnd),
  uses: new Int32Array(pfnEnd),
  file: new Int32Array(pfnEnd).fill(-1),
  index: new Int32Array(pfnEnd).fill(-1),
  cache: new Map(),
  stateCounts: PAGE_STATES.map((st) => (st === 'Sz' ? pfnEnd : 0)),
  transitions: new Map(),
  hostDiscards: 0,
  hostPagedOut: 0,
})
