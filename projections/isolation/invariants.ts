// Page isolation's invariants (issue 11, kernel-facts.md §2), each recounted from the frame and
// list arrays rather than trusting the counters evolve keeps, so that a corrupted state is caught
// whichever field was corrupted.
import { MAX_ORDER, MIGRATETYPE_NAMES, MIGRATE_ISOLATE, MIGRATE_TYPES } from '../../events/codecs'
import { violation, type StateInvariant } from '../invariants'
import type { MmState } from '../state'
import { FRAME_ABSENT, FRAME_CAPTURED, NIL, freeListIdx } from '../zone/state'
import { NO_RANGE } from './state'

const NR_FREE = 'isolation.nr-free-pages'

/** __mod_zone_freepage_state's contract: NR_FREE_PAGES counts exactly the pages on the non-ISOLATE lists. */
export const nrFreePagesMatchesLists: StateInvariant<MmState> = {
  name: NR_FREE,
  description: 'NR_FREE_PAGES equals the pages on the free lists other than MIGRATE_ISOLATE, in every zone',
  check: ({ zone: s }) => {
    for (const z of s.zones) {
      let listed = 0
      for (let o = 0; o < MAX_ORDER; o++) for (let mt = 0; mt < MIGRATE_TYPES; mt++) if (mt !== MIGRATE_ISOLATE) listed += s.freeLen[freeListIdx(z.idx, o, mt)]! << o
      if (listed !== z.nrFreePages)
        return violation(NR_FREE, `${z.name}: NR_FREE_PAGES ${z.nrFreePages}, the non-isolate free lists hold ${listed} (miscounted by ${z.nrFreePages - listed})`)
    }
    return null
  },
}

const NR_ISOLATE = 'isolation.nr-isolate-pageblock'

export const nrIsolatePageblockCounts: StateInvariant<MmState> = {
  name: NR_ISOLATE,
  description: 'zone->nr_isolate_pageblock equals the pageblocks whose migratetype is MIGRATE_ISOLATE',
  check: ({ zone: s }) => {
    for (const z of s.zones) {
      let isolate = 0
      for (let p = z.startPfn; p < z.endPfn; p += s.pageblockPages) if (s.pageblockMt[p >> s.pageblockOrder] === MIGRATE_ISOLATE) isolate++
      if (isolate !== z.nrIsolatePageblock) return violation(NR_ISOLATE, `${z.name}: nr_isolate_pageblock ${z.nrIsolatePageblock}, ${isolate} pageblocks are MIGRATE_ISOLATE`)
    }
    return null
  },
}

const LIST_MT = 'isolation.free-list-migratetype'

/**
 * Joonsoo Kim 2014's symptom: a free block on an ISOLATE list outside an isolated pageblock is
 * stranded (never allocated, never counted), one on another list inside an isolated pageblock
 * is counted free and can be allocated from a range being isolated.
 */
export const freeListMatchesPageblock: StateInvariant<MmState> = {
  name: LIST_MT,
  description: 'a free block is on the MIGRATE_ISOLATE list exactly when its pageblock is MIGRATE_ISOLATE',
  check: ({ zone: s }) => {
    for (const z of s.zones)
      for (let o = 0; o < MAX_ORDER; o++)
        for (let mt = 0; mt < MIGRATE_TYPES; mt++)
          for (let p = s.freeHead[freeListIdx(z.idx, o, mt)]!; p !== NIL; p = s.next[p]!) {
            const pbIsolate = s.pageblockMt[p >> s.pageblockOrder] === MIGRATE_ISOLATE
            if (pbIsolate !== (mt === MIGRATE_ISOLATE))
              return violation(
                LIST_MT,
                `${z.name}: free block ${p} of order ${o} is on free_list[${MIGRATETYPE_NAMES[mt]}] in a ${MIGRATETYPE_NAMES[s.pageblockMt[p >> s.pageblockOrder]!]} pageblock`,
                p,
              )
          }
    return null
  },
}

const ACCOUNTED = 'isolation.pages-accounted'

/** Captured, never lost, never double-counted: each captured frame belongs to one range that counts it, each offlined range is wholly offline. */
export const isolatedPagesAccounted: StateInvariant<MmState> = {
  name: ACCOUNTED,
  description: 'every page of an offlined range is offline, every captured page is on exactly one range’s list and counted there, and an undone range holds no page or pageblock',
  check: ({ zone: s, isolation: iso }) => {
    const counted = new Map<number, number>()
    for (let p = 0; p < s.pfnEnd; p++) {
      const by = iso.capturedBy[p]!
      if ((s.frame[p] === FRAME_CAPTURED) !== (by !== NO_RANGE))
        return violation(ACCOUNTED, `frame ${p} is ${s.frame[p] === FRAME_CAPTURED ? 'captured by no range' : `listed by range ${by} but not captured`}`, p)
      if (by !== NO_RANGE) counted.set(by, (counted.get(by) ?? 0) + 1)
    }
    for (const r of iso.ranges.values()) {
      if (r.captured !== (counted.get(r.id) ?? 0)) return violation(ACCOUNTED, `range ${r.id} counts ${r.captured} captured pages, its list holds ${counted.get(r.id) ?? 0}`)
      if (r.outcome === 'offlined') {
        for (let p = r.startPfn; p < r.endPfn; p++)
          if (s.frame[p] !== FRAME_ABSENT) return violation(ACCOUNTED, `range ${r.id} was offlined but frame ${p} is still in the allocator`, p)
        if (r.offlined !== r.endPfn - r.startPfn) return violation(ACCOUNTED, `range ${r.id} offlined ${r.offlined} of its ${r.endPfn - r.startPfn} pages`)
      }
      if (r.outcome === 'undone' && r.pageblocks !== 0) return violation(ACCOUNTED, `range ${r.id} was undone with ${r.pageblocks} pageblock(s) still isolated by it`)
      if (r.outcome === 'undone' && r.captured !== 0) return violation(ACCOUNTED, `range ${r.id} was undone with ${r.captured} page(s) still on its list`)
    }
    for (let pb = 0; pb < iso.pageblockOwner.length; pb++) {
      const owner = iso.pageblockOwner[pb]!
      if (owner === NO_RANGE) continue
      if (s.pageblockMt[pb] !== MIGRATE_ISOLATE)
        return violation(ACCOUNTED, `pageblock ${pb << s.pageblockOrder} is owned by range ${owner} but is ${MIGRATETYPE_NAMES[s.pageblockMt[pb]!]}`, pb << s.pageblockOrder)
      if (iso.ranges.get(owner)?.status === 'ended')
        return violation(ACCOUNTED, `pageblock ${pb << s.pageblockOrder} is still isolated by range ${owner}, which ended`, pb << s.pageblockOrder)
    }
    return null
  },
}

export const isolationInvariants: readonly StateInvariant<MmState>[] = [nrFreePagesMatchesLists, nrIsolatePageblockCounts, freeListMatchesPageblock, isolatedPagesAccounted]
