// One frame as every projection sees it at a moment: what holds it (a free block on a free_area
// list, a CPU's pcp list, a user's block, a discarded-page list), the block it is part of, its
// pageblock's migratetype, and its hinted page state. `mmsim page` prints this after each event
// that touched the frame, so a user reads the frame's life without folding by hand.
import { MAX_ORDER, MIGRATETYPE_NAMES } from '../events/codecs'
import { frameRows } from './pages/render'
import type { MmState } from './state'
import { FRAME_ABSENT, FRAME_ALLOCATED, FRAME_BUDDY, FRAME_CAPTURED, FRAME_DISCARD, FRAME_PCP, FRAME_REPORTING, pageblockMigratetype } from './zone/state'

const FRAME_KINDS: Readonly<Record<number, string>> = {
  [FRAME_ABSENT]: 'absent',
  [FRAME_BUDDY]: 'buddy',
  [FRAME_PCP]: 'pcp',
  [FRAME_ALLOCATED]: 'allocated',
  [FRAME_DISCARD]: 'discard',
  [FRAME_CAPTURED]: 'captured',
  [FRAME_REPORTING]: 'reporting',
}

export interface FrameBlock {
  /** The block's first frame (the page the kernel keeps its order in). */
  readonly head: number
  readonly order: number
  /** The free list's migratetype for a free block; the migratetype it was allocated for otherwise. */
  readonly migratetype: string
}

export interface FrameState {
  readonly pfn: number
  /** absent, buddy, pcp, allocated or discard: the allocator structure that holds the frame. */
  readonly kind: string
  /** The free or allocated block containing the frame; null for pcp, discarded and absent frames. */
  readonly block: FrameBlock | null
  /** For a pcp page: the CPU whose list holds it. */
  readonly pcpCpu: number | null
  readonly pageblockMigratetype: string
  readonly gen: number
  /** The hinted page state (s390 pair), `-` when the guest does not hint. */
  readonly state: string
  readonly owner: string
  readonly flags: readonly string[]
  readonly refcount: number
  readonly mapcount: number
  readonly uses: number
  /** The anonymous rmap: page->mapping (an anon_vma id), page->index, the anonymous ptes; null for a page that is not anonymous. */
  readonly anon: { readonly anonVma: number; readonly index: number; readonly mapcount: number } | null
}

const mtName = (mt: number): string => MIGRATETYPE_NAMES[mt] ?? String(mt)

/**
 * The block holding `pfn`: the buddy allocator keeps the order only at a block's head, so look at
 * each aligned head below the frame, smallest order first, for one whose block reaches it.
 */
const blockOf = (pfn: number, orderAt: Int8Array, mtAt: Int8Array): FrameBlock | null => {
  for (let order = 0; order < MAX_ORDER; order++) {
    const head = pfn & ~((1 << order) - 1)
    const o = orderAt[head]!
    if (o >= order && head + (1 << o) > pfn) return { head, order: o, migratetype: mtName(mtAt[head]!) }
  }
  return null
}

export const frameState = (s: MmState, pfn: number): FrameState => {
  const z = s.zone
  const kind = z.frame[pfn]!
  const row = frameRows(s, pfn, 1)[0]!
  return {
    pfn,
    kind: FRAME_KINDS[kind] ?? String(kind),
    block: kind === FRAME_BUDDY ? blockOf(pfn, z.freeOrder, z.listMt) : kind === FRAME_ALLOCATED ? blockOf(pfn, z.allocOrder, z.allocMt) : null,
    pcpCpu: kind === FRAME_PCP ? z.pcpCpu[pfn]! : null,
    pageblockMigratetype: mtName(pageblockMigratetype(z, pfn)),
    gen: z.gen[pfn]!,
    state: row.state,
    owner: row.owner,
    flags: row.flags,
    refcount: row.refcount,
    mapcount: row.mapcount,
    uses: row.uses,
    anon: s.anonVma.mapping[pfn]! < 0 ? null : { anonVma: s.anonVma.mapping[pfn]!, index: s.anonVma.index[pfn]!, mapcount: s.anonVma.mapcount[pfn]! },
  }
}
