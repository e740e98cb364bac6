// Zone state as the kernel keeps it: free_area[order].free_list[mt] with nr_free, per-cpu page
// lists, and one migratetype per pageblock. Per-frame state lives in typed arrays (a 16 GiB
// guest is 4M frames); lists are intrusive, linked through `next` / `prev` like page->lru.
import { MAX_ORDER, MIGRATE_PCPTYPES, MIGRATE_MOVABLE, MIGRATE_TYPES } from '../../events/codecs'
import { type MachineBooted } from '../../events/machine'
import { assert } from '../../lib'

export const NIL = -1

/** What a frame is part of. */
export const FRAME_ABSENT = 0 // not (yet) given to the buddy allocator: boot memory or a hole
export const FRAME_BUDDY = 1 // inside a free block on a free_area list
export const FRAME_PCP = 2 // an order-0 page on a CPU's per-cpu list
export const FRAME_ALLOCATED = 3 // inside a block a user holds
export const FRAME_DISCARD = 4 // a discarded page waiting on a CPU's discarded-page list (or being collected)
export const FRAME_CAPTURED = 5 // on an isolation_info page list (the 2007 patch's design): neither free nor in use
export const FRAME_REPORTING = 6 // inside a free block pulled into a reporting batch (aeration or page reporting)

/**
 * Free page reporting's view into the free lists (projections/boundary/hooks.ts). Null when the
 * run reports nothing, so that the lists behave exactly as they always did.
 */
export type BlockLeaving = 'alloc' | 'merge' | 'move'

export interface FreeListHooks {
  /** aerator_get_tail: the block a tail insert goes in front of (the boundary), or NIL for the list's own tail. */
  tailAnchor(zone: number, order: number, mt: number): number
  /**
   * Before a block leaves its list: for a user (`alloc`), to merge or into a batch (`merge`), or
   * for another migratetype's list (`move`, move_to_free_list); del_page_from_free_area clears
   * PageAerated / PageReported.
   */
  blockLeaving(zone: number, pfn: number, order: number, mt: number, why: BlockLeaving): void
  /** A block a reporting drain put back (after its merges): aerated or reported unless it merged. */
  blockReturned(zone: number, pfn: number, order: number, mt: number, merged: boolean, reported: boolean): void
}

export interface ZoneInfo {
  readonly idx: number
  readonly name: string
  readonly startPfn: number
  readonly endPfn: number
  readonly watermarks: { readonly min: number; readonly low: number; readonly high: number }
  readonly lowmemReserve: readonly number[]
  readonly pcpBatch: number
  readonly pcpHigh: number
  /** Pages given to the buddy allocator (zone->managed_pages). */
  managed: number
  /** NR_FREE_PAGES as the kernel counts it: buddy pages outside MIGRATE_ISOLATE lists. */
  nrFreePages: number
  /** Pages on the buddy lists, all migratetypes (a recount of this is an invariant). */
  buddyPages: number
  pcpPages: number
  allocatedPages: number
  /** Pages on discarded-page lists: freed by their users, not yet given back (guest page hinting). */
  discardPages: number
  /** zone->nr_isolate_pageblock: has_isolate_pageblock() reads it. */
  nrIsolatePageblock: number
  /** Pages captured on isolation_info lists (the 2007 patch's design): out of free_area[], not in use. */
  capturedPages: number
}

export interface ZoneState {
  readonly cpus: number
  readonly pageblockOrder: number
  readonly pageblockPages: number
  readonly pfnEnd: number
  readonly zones: ZoneInfo[]
  /** zone index per pageblock, -1 outside every zone; makes zoneOf(pfn) one lookup. */
  readonly pageblockZone: Int8Array
  readonly pageblockMt: Uint8Array
  readonly frame: Uint8Array
  /** At the head of a free block: its order; elsewhere -1. */
  readonly freeOrder: Int8Array
  /**
   * At the head of a free block: the migratetype of the list it is on. For a pcp page: its pcp
   * migratetype (set_pcppage_migratetype, page->index in v4.13), which free_pcppages_bulk frees
   * it as; the pcp list it sits on is pcpListMt of that (HIGHATOMIC pages sit on MOVABLE).
   */
  readonly listMt: Int8Array
  readonly next: Int32Array
  readonly prev: Int32Array
  /** At the head of an allocated block: its order and the migratetype it was allocated for. */
  readonly allocOrder: Int8Array
  readonly allocMt: Int8Array
  /** For a pcp page: the CPU whose list holds it. */
  readonly pcpCpu: Int16Array
  /** Bumped each time a frame is handed to a user: tells a reused frame from the page it was. */
  readonly gen: Int32Array
  /** free_area lists, indexed by freeListIdx(zone, order, mt). */
  readonly freeHead: Int32Array
  readonly freeTail: Int32Array
  readonly freeLen: Int32Array
  /** nr_free per (zone, order): blocks on all migratetype lists. */
  readonly nrFree: Int32Array
  /** per-cpu lists, indexed by pcpListIdx(cpu, zone, mt); pcpCount per (cpu, zone). */
  readonly pcpHead: Int32Array
  readonly pcpTail: Int32Array
  readonly pcpLen: Int32Array
  readonly pcpCount: Int32Array
  /** Set by createState when the run reports free memory (projections/boundary). */
  reporting: FreeListHooks | null
}

export const freeListIdx = (zone: number, order: number, mt: number): number => (zone * MAX_ORDER + order) * MIGRATE_TYPES + mt

export const nrFreeIdx = (zone: number, order: number): number => zone * MAX_ORDER + order

export const pcpListIdx = (s: ZoneState, cpu: number, zone: number, mt: number): number => (cpu * s.zones.length + zone) * MIGRATE_PCPTYPES + mt

/** free_hot_cold_page's list choice: the three pcp types have a list each, HIGHATOMIC goes on MOVABLE's. */
export const pcpListMt = (mt: number): number => (mt >= MIGRATE_PCPTYPES ? MIGRATE_MOVABLE : mt)

export const pcpCountIdx = (s: ZoneState, cpu: number, zone: number): number => cpu * s.zones.length + zone

export const zoneOf = (s: ZoneState, pfn: number): number => (pfn >= 0 && pfn < s.pfnEnd ? s.pageblockZone[pfn >> s.pageblockOrder]! : -1)

export const pageblockMigratetype = (s: ZoneState, pfn: number): number => s.pageblockMt[pfn >> s.pageblockOrder]!

/** The highest pfn the frame arrays can hold; bit tricks on pfns are 32-bit in JavaScript. */
export const PFN_END_MAX = 1 << 30

export const createZoneState = (m: MachineBooted['data']): ZoneState => {
  assert(m.pfnEnd > 0 && m.pfnEnd <= PFN_END_MAX, 'pfnEnd within the frame arrays')
  const pageblockPages = 1 << m.pageblockOrder
  const nZones = m.zones.length
  const nPageblocks = Math.ceil(m.pfnEnd / pageblockPages)
  const pageblockZone = new Int8Array(nPageblocks).fill(-1)
  const zones: ZoneInfo[] = m.zones.map((z, idx) => {
    assert(z.startPfn % pageblockPages === 0, 'zone start is pageblock aligned')
    assert(z.pages % pageblockPages === 0, 'zone size is pageblock aligned')
    for (let pb = z.startPfn / pageblockPages; pb < (z.startPfn + z.pages) / pageblockPages; pb++) {
      assert(pageblockZone[pb] === -1, 'zones do not overlap')
      pageblockZone[pb] = idx
    }
    return {
      idx,
      name: z.name,
      startPfn: z.startPfn,
      endPfn: z.startPfn + z.pages,
      watermarks: { ...z.watermarks },
      lowmemReserve: [...z.lowmemReserve],
      pcpBatch: z.pcp.batch,
      pcpHigh: z.pcp.high,
      managed: 0,
      nrFreePages: 0,
      buddyPages: 0,
      pcpPages: 0,
      allocatedPages: 0,
      discardPages: 0,
      nrIsolatePageblock: 0,
      capturedPages: 0,
    }
  })
  const nFreeLists = nZones * MAX_ORDER * MIGRATE_TYPES
  const nPcpLists = m.cpus * nZones * MIGRATE_PCPTYPES
  return {
    cpus: m.cpus,
    pageblockOrder: m.pageblockOrder,
    pageblockPages,
    pfnEnd: m.pfnEnd,
    zones,
    pageblockZone,
    // memmap_init_zone marks every pageblock MIGRATE_MOVABLE at boot.
    pageblockMt: new Uint8Array(nPageblocks).fill(MIGRATE_MOVABLE),
    frame: new Uint8Array(m.pfnEnd),
    freeOrder: new Int8Array(m.pfnEnd).fill(-1),
    listMt: new Int8Array(m.pfnEnd).fill(-1),
    next: new Int32Array(m.pfnEnd).fill(NIL),
    prev: new Int32Array(m.pfnEnd).fill(NIL),
    allocOrder: new Int8Array(m.pfnEnd).fill(-1),
    allocMt: new Int8Array(m.pfnEnd).fill(-1),
    pcpCpu: new Int16Array(m.pfnEnd).fill(-1),
    gen: new Int32Array(m.pfnEnd),
    freeHead: new Int32Array(nFreeLists).fill(NIL),
    freeTail: new Int32Array(nFreeLists).fill(NIL),
    freeLen: new Int32Array(nFreeLists),
    nrFree: new Int32Array(nZones * MAX_ORDER),
    pcpHead: new Int32Array(nPcpLists).fill(NIL),
    pcpTail: new Int32Array(nPcpLists).fill(NIL),
    pcpLen: new Int32Array(nPcpLists),
    pcpCount: new Int32Array(m.cpus * nZones),
    reporting: null,
  }
}
