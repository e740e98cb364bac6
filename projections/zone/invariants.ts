// The buddy allocator's invariants (kernel-facts.md §2, "Invariants to check"). Each recounts
// from the lists and frame arrays rather than trusting the counters evolve maintains, so that a
// corrupted state is caught whichever field was corrupted.
import { MAX_ORDER, MIGRATETYPE_NAMES, MIGRATE_ISOLATE, MIGRATE_PCPTYPES, MIGRATE_TYPES } from '../../events/codecs'
import { violation, type StateInvariant, type Violation } from '../invariants'
import {
  FRAME_ALLOCATED,
  FRAME_BUDDY,
  FRAME_CAPTURED,
  FRAME_DISCARD,
  FRAME_PCP,
  FRAME_REPORTING,
  NIL,
  freeListIdx,
  nrFreeIdx,
  pcpCountIdx,
  pcpListIdx,
  pcpListMt,
  type ZoneInfo,
  type ZoneState,
} from './state'

/** Calls `visit` for each block on free_list[mt] of `order`; stops (and reports) on a cycle. */
const walkFreeList = (s: ZoneState, zone: number, order: number, mt: number, visit: (pfn: number) => Violation | null): Violation | null => {
  let steps = 0
  for (let p = s.freeHead[freeListIdx(zone, order, mt)]!; p !== NIL; p = s.next[p]!) {
    if (++steps > s.pfnEnd) return violation('buddy.list-structure', `free_list[${order}][${mt}] of zone ${zone} loops`)
    const v = visit(p)
    if (v !== null) return v
  }
  return null
}

const forEachFreeList = (s: ZoneState, f: (z: ZoneInfo, order: number, mt: number) => Violation | null): Violation | null => {
  for (const z of s.zones)
    for (let o = 0; o < MAX_ORDER; o++)
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        const v = f(z, o, mt)
        if (v !== null) return v
      }
  return null
}

const listName = (z: ZoneInfo, o: number, mt: number) => `${z.name} free_area[${o}].free_list[${MIGRATETYPE_NAMES[mt]}]`

const CONSERVATION = 'buddy.page-conservation'

export const pageConservation: StateInvariant<ZoneState> = {
  name: CONSERVATION,
  description: 'free + allocated + per-cpu + discarded-list pages = managed pages in every zone, and NR_FREE_PAGES matches the non-isolated lists',
  check: (s) => {
    for (const z of s.zones) {
      let buddy = 0
      let pcp = 0
      let allocated = 0
      let discard = 0
      let captured = 0
      // Blocks in a reporting batch are on no list and with no user; projections/boundary counts them.
      let batch = 0
      for (let p = z.startPfn; p < z.endPfn; p++) {
        const f = s.frame[p]
        if (f === FRAME_BUDDY) buddy++
        else if (f === FRAME_PCP) pcp++
        else if (f === FRAME_ALLOCATED) allocated++
        else if (f === FRAME_DISCARD) discard++
        else if (f === FRAME_CAPTURED) captured++
        else if (f === FRAME_REPORTING) batch++
      }
      if (buddy + pcp + allocated + discard + captured + batch !== z.managed)
        return violation(
          CONSERVATION,
          `${z.name}: free ${buddy} + allocated ${allocated} + per-cpu ${pcp} + discarded lists ${discard}${captured > 0 ? ` + captured ${captured}` : ''}${batch > 0 ? ` + reporting batch ${batch}` : ''} = ${buddy + allocated + pcp + discard + captured + batch}, managed ${z.managed}`,
        )
      if (captured !== z.capturedPages) return violation(CONSERVATION, `${z.name}: ${z.capturedPages} pages counted captured, ${captured} frames are`)
      if (buddy !== z.buddyPages || pcp !== z.pcpPages || allocated !== z.allocatedPages || discard !== z.discardPages)
        return violation(
          CONSERVATION,
          `${z.name}: counters say free ${z.buddyPages} / per-cpu ${z.pcpPages} / allocated ${z.allocatedPages} / discarded lists ${z.discardPages}, frames say ${buddy} / ${pcp} / ${allocated} / ${discard}`,
        )
      let listed = 0
      for (let o = 0; o < MAX_ORDER; o++) for (let mt = 0; mt < MIGRATE_TYPES; mt++) if (mt !== MIGRATE_ISOLATE) listed += s.freeLen[freeListIdx(z.idx, o, mt)]! << o
      if (listed !== z.nrFreePages) return violation(CONSERVATION, `${z.name}: NR_FREE_PAGES ${z.nrFreePages}, non-isolated lists hold ${listed}`)
      let onPcp = 0
      for (let cpu = 0; cpu < s.cpus; cpu++) for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) onPcp += s.pcpLen[pcpListIdx(s, cpu, z.idx, mt)]!
      if (onPcp !== pcp) return violation(CONSERVATION, `${z.name}: per-cpu lists hold ${onPcp} pages, ${pcp} frames are per-cpu`)
    }
    return null
  },
}

export const blocksAlignedInZone: StateInvariant<ZoneState> = {
  name: 'buddy.block-aligned-in-zone',
  description: 'every free block starts at a multiple of its size and lies inside its zone',
  check: (s) =>
    forEachFreeList(s, (z, o, mt) =>
      walkFreeList(s, z.idx, o, mt, (p) => {
        if ((p & ((1 << o) - 1)) !== 0) return violation('buddy.block-aligned-in-zone', `block ${p} on ${listName(z, o, mt)} is not aligned to order ${o}`, p)
        if (p < z.startPfn || p + (1 << o) > z.endPfn)
          return violation('buddy.block-aligned-in-zone', `block ${p}+${1 << o} on ${listName(z, o, mt)} leaves zone [${z.startPfn}, ${z.endPfn})`, p)
        return null
      }),
    ),
}

export const noOverlap: StateInvariant<ZoneState> = {
  name: 'buddy.no-overlap',
  description: 'no two free blocks share a frame, and exactly the frames of listed blocks are free',
  check: (s) => {
    const covered = new Uint8Array(s.pfnEnd)
    const v = forEachFreeList(s, (z, o, mt) =>
      walkFreeList(s, z.idx, o, mt, (p) => {
        const end = Math.min(p + (1 << o), s.pfnEnd)
        for (let q = p; q < end; q++) {
          if (covered[q]) return violation('buddy.no-overlap', `frame ${q} is in two free blocks (one is ${p} on ${listName(z, o, mt)})`, q)
          covered[q] = 1
        }
        return null
      }),
    )
    if (v !== null) return v
    for (let p = 0; p < s.pfnEnd; p++) {
      if ((s.frame[p] === FRAME_BUDDY) !== (covered[p] === 1))
        return violation('buddy.no-overlap', covered[p] ? `frame ${p} is in a listed free block but not marked free` : `frame ${p} is marked free but in no listed block`, p)
    }
    return null
  },
}

export const nrFreeMatchesLists: StateInvariant<ZoneState> = {
  name: 'buddy.nr-free',
  description: 'free_area[order].nr_free equals the number of blocks on its migratetype lists',
  check: (s) => {
    for (const z of s.zones)
      for (let o = 0; o < MAX_ORDER; o++) {
        let blocks = 0
        for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
          let n = 0
          const v = walkFreeList(s, z.idx, o, mt, () => (n++, null))
          if (v !== null) return v
          if (n !== s.freeLen[freeListIdx(z.idx, o, mt)])
            return violation('buddy.nr-free', `${listName(z, o, mt)} holds ${n} blocks, its length says ${s.freeLen[freeListIdx(z.idx, o, mt)]}`)
          blocks += n
        }
        const nr = s.nrFree[nrFreeIdx(z.idx, o)]!
        if (nr !== blocks) return violation('buddy.nr-free', `${z.name} free_area[${o}].nr_free is ${nr}, its lists hold ${blocks}`)
      }
    return null
  },
}

export const listMigratetype: StateInvariant<ZoneState> = {
  name: 'buddy.list-migratetype',
  description: 'a free block records the order and migratetype of the list it is on, and so does a per-cpu page',
  check: (s) => {
    const v = forEachFreeList(s, (z, o, mt) =>
      walkFreeList(s, z.idx, o, mt, (p) => {
        if (s.freeOrder[p] !== o || s.listMt[p] !== mt)
          return violation('buddy.list-migratetype', `block ${p} on ${listName(z, o, mt)} records order ${s.freeOrder[p]}, migratetype ${s.listMt[p]}`, p)
        return null
      }),
    )
    if (v !== null) return v
    for (let cpu = 0; cpu < s.cpus; cpu++)
      for (const z of s.zones) {
        let count = 0
        for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) {
          const i = pcpListIdx(s, cpu, z.idx, mt)
          let steps = 0
          for (let p = s.pcpHead[i]!; p !== NIL; p = s.next[p]!) {
            if (++steps > s.pfnEnd) return violation('buddy.list-structure', `cpu ${cpu} ${z.name} pcp list ${mt} loops`)
            if (s.frame[p] !== FRAME_PCP || s.pcpCpu[p] !== cpu || pcpListMt(s.listMt[p]!) !== mt)
              return violation('buddy.list-migratetype', `page ${p} on cpu ${cpu} ${z.name} pcp list ${MIGRATETYPE_NAMES[mt]} records otherwise`, p)
            count++
          }
        }
        if (count !== s.pcpCount[pcpCountIdx(s, cpu, z.idx)])
          return violation('buddy.list-migratetype', `cpu ${cpu} ${z.name} pcp->count ${s.pcpCount[pcpCountIdx(s, cpu, z.idx)]}, lists hold ${count}`)
      }
    return null
  },
}

export const noMergeableBuddies: StateInvariant<ZoneState> = {
  name: 'buddy.no-mergeable-buddies',
  description: 'no two free buddies of the same order below MAX_ORDER - 1 are left unmerged (unless an isolated pageblock keeps them apart)',
  check: (s) =>
    forEachFreeList(s, (z, o, mt) => {
      if (o >= MAX_ORDER - 1) return null
      return walkFreeList(s, z.idx, o, mt, (p) => {
        const buddy = p ^ (1 << o)
        if (buddy < z.startPfn || buddy >= z.endPfn || s.frame[buddy] !== FRAME_BUDDY || s.freeOrder[buddy] !== o) return null
        const a = s.pageblockMt[p >> s.pageblockOrder]!
        const b = s.pageblockMt[buddy >> s.pageblockOrder]!
        if (o >= s.pageblockOrder && a !== b && (a === MIGRATE_ISOLATE || b === MIGRATE_ISOLATE)) return null
        return violation(
          'buddy.no-mergeable-buddies',
          `free blocks ${Math.min(p, buddy)} and ${Math.max(p, buddy)} of order ${o} are buddies and were not merged`,
          Math.min(p, buddy),
        )
      })
    }),
}

export const zoneInvariants: readonly StateInvariant<ZoneState>[] = [pageConservation, blocksAlignedInZone, noOverlap, nrFreeMatchesLists, listMigratetype, noMergeableBuddies]
