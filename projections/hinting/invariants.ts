// State invariants of guest page hinting: conservation including the discarded-page lists, and
// reference counts that account for every holder.
import type { StateInvariant } from '../invariants'
import type { MmState } from '../state'
import { FRAME_ALLOCATED, FRAME_DISCARD } from '../zone/state'
import { PG_discarded } from '../pages/state'

export const discardLists: StateInvariant<MmState> = {
  name: 'hinting.discard-lists',
  description: 'the discarded-page lists hold exactly the frames waiting there, each PG_discarded and unreferenced',
  check: (s) => {
    const listed = new Set<number>()
    for (const list of [...s.cpus.discardLists, ...[...s.cpus.collecting.values()].map((g) => g.pfns)])
      for (const pfn of list) {
        if (listed.has(pfn)) return { name: 'hinting.discard-lists', message: `frame ${pfn} is on two discarded-page lists`, pfn }
        listed.add(pfn)
        if (s.zone.frame[pfn] !== FRAME_DISCARD) return { name: 'hinting.discard-lists', message: `frame ${pfn} is listed as discarded but is not waiting there`, pfn }
        if (s.pages !== null && ((s.pages.flags[pfn]! & PG_discarded) === 0 || s.pages.refcount[pfn] !== 0))
          return { name: 'hinting.discard-lists', message: `frame ${pfn} on a discarded-page list is not an unreferenced PG_discarded page`, pfn }
      }
    let waiting = 0
    for (const z of s.zone.zones) waiting += z.discardPages
    if (waiting !== listed.size) return { name: 'hinting.discard-lists', message: `${waiting} frames wait as discarded, the lists hold ${listed.size}` }
    return null
  },
}

export const pageCounts: StateInvariant<MmState> = {
  name: 'hinting.page-counts',
  description: 'an allocated page has a reference for its page cache entry, each pte and each user; a free page has none',
  check: (s) => {
    const p = s.pages
    if (p === null) return null
    const z = s.zone
    for (let pfn = 0; pfn < z.pfnEnd; pfn++) {
      const held = p.mapcount[pfn]! + p.uses[pfn]! + (p.file[pfn]! >= 0 ? 1 : 0)
      if (z.frame[pfn] === FRAME_ALLOCATED) {
        if (z.allocOrder[pfn]! >= 0 && p.refcount[pfn]! < held)
          return { name: 'hinting.page-counts', message: `frame ${pfn} has ${p.refcount[pfn]} references for ${held} holders`, pfn }
      } else if (p.refcount[pfn] !== 0 || held !== 0) {
        return { name: 'hinting.page-counts', message: `free frame ${pfn} has ${p.refcount[pfn]} references and ${held} holders`, pfn }
      }
    }
    return null
  },
}

export const hintingInvariants: readonly StateInvariant<MmState>[] = [discardLists, pageCounts]
