// Guest page hinting events (s390 CMMA / "guest page hinting" v4 2006 and v7 2009; reference:
// guest-page-hinting-*.txt and kernel-facts.md §1). A page's state is a pair: the guest's usage
// (Stable, Unused, Volatile, Potentially volatile) and the host's content (resident, preserved,
// zero). "Discarded" is Vz.
import * as t from 'io-ts'
import { CpuId, NonNegInt, Pfn, PosInt, oneOf } from './codecs'

/** The eight valid (usage, content) pairs; Up, Vp, Pp and Pz never occur. */
export const PAGE_STATES = ['Sr', 'Sp', 'Sz', 'Ur', 'Uz', 'Vr', 'Vz', 'Pr'] as const
export const PageState = oneOf(PAGE_STATES, 'a page state (Sr Sp Sz Ur Uz Vr Vz Pr)')
export type PageState = t.TypeOf<typeof PageState>

/** Who changed a page's state, and through which kernel function (the ESSA call site). */
export const STATE_CHANGE_REASONS = [
  'arch_free_page', // ESSA SET_UNUSED on every page freed to the buddy allocator
  'arch_alloc_page', // ESSA SET_STABLE on every page handed out
  'page_make_volatile', // SET_VOLATILE (or SET_POT_VOLATILE when mapped writable)
  'page_make_stable', // SET_STABLE_IF_NOT_DISCARDED
  'first-touch', // host: a logically zero page is backed on first access (Sz -> Sr)
  'swap-in', // host: a preserved page is read back on access (Sp -> Sr)
] as const
export const StateChangeReason = oneOf(STATE_CHANGE_REASONS)
export type StateChangeReason = t.TypeOf<typeof StateChangeReason>

/** A guest ESSA state change (or a host change caused by a guest access) on [pfn, pfn + npages). */
export const PageStateChanged = t.type({
  type: t.literal('PageStateChanged'),
  data: t.type({ pfn: Pfn, npages: PosInt, from: PageState, to: PageState, reason: StateChangeReason }),
})
export type PageStateChanged = t.TypeOf<typeof PageStateChanged>

/** The host dropped a page's content under its own memory pressure: Ur->Uz, Vr->Vz, clean Pr->Vz. */
export const HostDiscarded = t.type({
  type: t.literal('HostDiscarded'),
  data: t.type({ pfn: Pfn, from: PageState, to: PageState }),
})
export type HostDiscarded = t.TypeOf<typeof HostDiscarded>

/** The host wrote a page out and took its frame: Sr->Sp, dirty Pr->Sp. */
export const HostPagedOut = t.type({
  type: t.literal('HostPagedOut'),
  data: t.type({ pfn: Pfn, from: PageState, to: PageState }),
})
export type HostPagedOut = t.TypeOf<typeof HostPagedOut>

/** struct page flags mmsim models, by their kernel names. */
export const PAGE_FLAGS = [
  'PG_locked',
  'PG_uptodate',
  'PG_dirty',
  'PG_lru',
  'PG_writeback',
  'PG_private',
  'PG_mlocked',
  'PG_discarded',
  'PG_writable',
  'PG_anon',
  // Not a struct page flag: the storage key's change bit, set by the CPU on every write. s390
  // keeps the dirty bit per frame, which is why a writably mapped page is only potentially volatile.
  'SK_changed',
] as const
export const PageFlag = oneOf(PAGE_FLAGS)
export type PageFlag = t.TypeOf<typeof PageFlag>

/** Flags set and cleared in one step (unlock_page, set_page_dirty, TestSetPageDiscarded, ...). */
export const PageFlagsChanged = t.type({
  type: t.literal('PageFlagsChanged'),
  data: t.type({ pfn: Pfn, set: t.array(PageFlag), clear: t.array(PageFlag), why: t.string }),
})
export type PageFlagsChanged = t.TypeOf<typeof PageFlagsChanged>

/** add_to_page_cache_lru: a fresh page becomes (file, index), locked, on the LRU; the cache owns its reference. */
export const PageCacheAdded = t.type({
  type: t.literal('PageCacheAdded'),
  data: t.type({ pfn: Pfn, file: NonNegInt, index: NonNegInt }),
})
export type PageCacheAdded = t.TypeOf<typeof PageCacheAdded>

/**
 * __remove_from_page_cache: the page leaves its file and the LRU; the cache's reference moves to
 * the remover, who puts it. PG_discarded stays set when the host had discarded the page.
 */
export const PageCacheRemoved = t.type({
  type: t.literal('PageCacheRemoved'),
  data: t.type({ pfn: Pfn, file: NonNegInt, index: NonNegInt, discarded: t.boolean }),
})
export type PageCacheRemoved = t.TypeOf<typeof PageCacheRemoved>

/** get_page / get_page_unless_zero: one more reference. */
export const PageGot = t.type({ type: t.literal('PageGot'), data: t.type({ pfn: Pfn }) })
export type PageGot = t.TypeOf<typeof PageGot>

/** put_page that leaves the page referenced (the last put frees it instead). */
export const PagePut = t.type({ type: t.literal('PagePut'), data: t.type({ pfn: Pfn }) })
export type PagePut = t.TypeOf<typeof PagePut>

/**
 * A user that made the page stable starts (or stops) relying on its content: a read copying it,
 * a write filling it. While any such use lasts, the page must not be discarded.
 */
export const PageUseStarted = t.type({ type: t.literal('PageUseStarted'), data: t.type({ pfn: Pfn, what: t.string }) })
export type PageUseStarted = t.TypeOf<typeof PageUseStarted>
export const PageUseEnded = t.type({ type: t.literal('PageUseEnded'), data: t.type({ pfn: Pfn }) })
export type PageUseEnded = t.TypeOf<typeof PageUseEnded>

/** A pte of process `mm` at `vpn` now maps the page (page_add_file_rmap / page_dup_rmap / anon). */
export const PteSet = t.type({
  type: t.literal('PteSet'),
  data: t.type({ pfn: Pfn, mm: NonNegInt, vpn: NonNegInt, writable: t.boolean }),
})
export type PteSet = t.TypeOf<typeof PteSet>

/** The pte is cleared (unmap, page_unmap_all, exit); the mapping's reference is put unless `freed`. */
export const PteCleared = t.type({
  type: t.literal('PteCleared'),
  data: t.type({ pfn: Pfn, mm: NonNegInt, vpn: NonNegInt }),
})
export type PteCleared = t.TypeOf<typeof PteCleared>

/** A process comes to exist (fork duplicates its parent's file mappings into i_mmap). */
export const MmCreated = t.type({
  type: t.literal('MmCreated'),
  data: t.type({ mm: NonNegInt, parent: t.union([NonNegInt, t.null]) }),
})
export type MmCreated = t.TypeOf<typeof MmCreated>

/** mmap of a file: the process joins the file's i_mmap (at the head: the walk visits newest first). */
export const FileMapped = t.type({ type: t.literal('FileMapped'), data: t.type({ mm: NonNegInt, file: NonNegInt }) })
export type FileMapped = t.TypeOf<typeof FileMapped>

/** The process is gone: it leaves every i_mmap (its ptes were cleared before). */
export const MmExited = t.type({ type: t.literal('MmExited'), data: t.type({ mm: NonNegInt }) })
export type MmExited = t.TypeOf<typeof MmExited>

/**
 * Program check 0x1a: the CPU touched a discarded page and the fault delivers the frame's
 * absolute address, not a virtual one. The handler runs with interrupts off from here.
 */
export const DiscardFault = t.type({
  type: t.literal('DiscardFault'),
  data: t.type({ pfn: Pfn, absoluteAddress: NonNegInt, mm: NonNegInt, vpn: NonNegInt }),
})
export type DiscardFault = t.TypeOf<typeof DiscardFault>

/** get_page_unless_zero on the faulting frame: a reference when the page is still in use. */
export const DiscardFaultPinned = t.type({
  type: t.literal('DiscardFaultPinned'),
  data: t.type({ pfn: Pfn, pinned: t.boolean }),
})
export type DiscardFaultPinned = t.TypeOf<typeof DiscardFaultPinned>

/** free_hot_cold_page found PG_discarded: the page goes on this CPU's discarded-page list. */
export const DiscardQueued = t.type({ type: t.literal('DiscardQueued'), data: t.type({ zone: NonNegInt, pfn: Pfn }) })
export type DiscardQueued = t.TypeOf<typeof DiscardQueued>

/** page_shrink_discards starts: on_each_cpu(__page_shrink_discards) is about to be called. */
export const DiscardCollectionStarted = t.type({
  type: t.literal('DiscardCollectionStarted'),
  data: t.type({ priority: NonNegInt }),
})
export type DiscardCollectionStarted = t.TypeOf<typeof DiscardCollectionStarted>

/** __page_shrink_discards on one CPU: its list is spliced onto the collector's list (the envelope's cpu is the spliced CPU). */
export const DiscardListSpliced = t.type({
  type: t.literal('DiscardListSpliced'),
  data: t.type({ collector: CpuId, pfns: t.array(Pfn) }),
})
export type DiscardListSpliced = t.TypeOf<typeof DiscardListSpliced>

/**
 * The pages at the head of the collection's list get ClearPageDiscarded and free_cold_page
 * (arch_free_page: Vz -> Uz, then the tail of the collector's pcp list for pcp migratetype
 * `mts[i]`); `perCpu[c]` of them came from CPU c. page_shrink_discards emits one per page (an
 * empty one when nothing was gathered); the collection ends with its list empty.
 */
export const DiscardCollectionFreed = t.type({
  type: t.literal('DiscardCollectionFreed'),
  data: t.type({ pfns: t.array(Pfn), perCpu: t.array(NonNegInt), mts: t.array(NonNegInt) }),
})
export type DiscardCollectionFreed = t.TypeOf<typeof DiscardCollectionFreed>

/** CPU_DEAD: the dead CPU's discarded-page list is spliced onto the current CPU's. */
export const DiscardListMoved = t.type({
  type: t.literal('DiscardListMoved'),
  data: t.type({ from: CpuId, to: CpuId, count: NonNegInt }),
})
export type DiscardListMoved = t.TypeOf<typeof DiscardListMoved>

export const CpuWentOffline = t.type({ type: t.literal('CpuWentOffline'), data: t.type({ target: CpuId }) })
export type CpuWentOffline = t.TypeOf<typeof CpuWentOffline>
export const CpuWentOnline = t.type({ type: t.literal('CpuWentOnline'), data: t.type({ target: CpuId }) })
export type CpuWentOnline = t.TypeOf<typeof CpuWentOnline>

/** One try_to_free_pages call: what it reclaimed, from the discard lists and from the page cache. Changes nothing itself. */
export const ReclaimRan = t.type({
  type: t.literal('ReclaimRan'),
  data: t.type({ discards: NonNegInt, cache: NonNegInt, passes: NonNegInt }),
})
export type ReclaimRan = t.TypeOf<typeof ReclaimRan>
