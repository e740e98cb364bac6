// The boundary projection's invariants (issue 12): the RFC's claims about its boundary, and what
// both designs promise about the batch in flight and the flag they keep on free blocks. Each
// recounts from the lists and frames, so a corrupted counter or pointer is caught whichever it is.
import type { MmEvent } from '../../events'
import { MAX_ORDER, MIGRATETYPE_NAMES, MIGRATE_TYPES } from '../../events/codecs'
import { violation, type EventMonitor, type StateInvariant, type Violation } from '../invariants'
import type { MmState } from '../state'
import { FRAME_BUDDY, FRAME_REPORTING, NIL, freeListIdx, nrFreeIdx, type ZoneState } from '../zone/state'
import type { BoundaryState } from './state'

const listName = (s: ZoneState, z: number, o: number, mt: number) => `${s.zones[z]!.name} free_area[${o}].free_list[${MIGRATETYPE_NAMES[mt]}]`

export const BOUNDARY_VALID = 'boundary.valid'
export const BOUNDARY_CONTIGUOUS = 'boundary.aerated-contiguous'
export const NR_FREE_AERATED = 'boundary.nr-free-aerated'
export const BATCH_HELD = 'boundary.batch-held'
export const FLAG_CLEARED = 'boundary.flag-cleared'

/** While a zone is ACTIVE, each of its boundaries is its list head (NIL) or an aerated block on that very list. */
export const checkBoundaries = (b: BoundaryState, s: ZoneState, name = BOUNDARY_VALID): Violation | null => {
  for (let z = 0; z < b.zones; z++) {
    if (b.active[z] === 0) continue
    for (let o = b.minOrder; o < MAX_ORDER; o++)
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        const p = b.boundary[freeListIdx(z, o, mt)]!
        if (p === NIL) continue
        if (s.frame[p] !== FRAME_BUDDY || s.freeOrder[p] !== o || s.listMt[p] !== mt)
          return violation(name, `the boundary of ${listName(s, z, o, mt)} points at block ${p}, which is not on that list`, p)
        if (b.flag[p] === 0) return violation(name, `the boundary of ${listName(s, z, o, mt)} points at block ${p}, which is raw`, p)
      }
  }
  return null
}

const boundaryValid: StateInvariant<MmState> = {
  name: BOUNDARY_VALID,
  description: "while a zone is being aerated, each boundary points at its list's head or at an aerated block of that list",
  check: (s) => (s.boundary === null ? null : checkBoundaries(s.boundary, s.zone)),
}

const aeratedContiguous: StateInvariant<MmState> = {
  name: BOUNDARY_CONTIGUOUS,
  description: 'while a zone is being aerated, every block from a boundary to its list tail is aerated: the aerated run is contiguous at the tail',
  check: (s) => {
    const b = s.boundary
    if (b === null || b.config.mechanism !== 'aeration') return null
    for (let z = 0; z < b.zones; z++) {
      if (b.active[z] === 0) continue
      for (let o = b.minOrder; o < MAX_ORDER; o++)
        for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
          const start = b.boundary[freeListIdx(z, o, mt)]!
          if (start === NIL || s.zone.listMt[start] !== mt) continue
          let steps = 0
          for (let p = start; p !== NIL && steps++ <= s.zone.pfnEnd; p = s.zone.next[p]!)
            if (b.flag[p] === 0) return violation(BOUNDARY_CONTIGUOUS, `raw block ${p} lies behind the boundary ${start} of ${listName(s.zone, z, o, mt)}`, p)
        }
    }
    return null
  },
}

const nrFreeAerated: StateInvariant<MmState> = {
  name: NR_FREE_AERATED,
  description: 'nr_free_aerated of each free_area equals its flagged blocks, and only free block heads of the reporting order or above are flagged',
  check: (s) => {
    const b = s.boundary
    if (b === null) return null
    const counted = new Int32Array(b.nrFreeAerated.length)
    for (let p = 0; p < b.flag.length; p++) {
      if (b.flag[p] === 0) continue
      const o = s.zone.freeOrder[p]!
      if (s.zone.frame[p] !== FRAME_BUDDY || o < 0) continue // FLAG_CLEARED reports these
      if (o < b.minOrder) return violation(NR_FREE_AERATED, `block ${p} of order ${o} is flagged below the reporting order ${b.minOrder}`, p)
      const z = s.zone.pageblockZone[p >> s.zone.pageblockOrder]!
      counted[nrFreeIdx(z, o)]!++
    }
    for (let z = 0; z < b.zones; z++)
      for (let o = 0; o < MAX_ORDER; o++) {
        const i = nrFreeIdx(z, o)
        if (counted[i] !== b.nrFreeAerated[i])
          return violation(NR_FREE_AERATED, `${s.zone.zones[z]!.name} free_area[${o}].nr_free_aerated is ${b.nrFreeAerated[i]}, ${counted[i]} blocks are flagged`)
      }
    return null
  },
}

const batchHeld: StateInvariant<MmState> = {
  name: BATCH_HELD,
  description: 'every block of the batch in flight is on no free list and held by no user, and every frame held for reporting is in the batch',
  check: (s) => {
    const b = s.boundary
    if (b === null) return null
    let pages = 0
    const { pfns, orders } = b.batch
    for (let i = 0; i < pfns.length; i++) {
      for (let p = pfns[i]!; p < pfns[i]! + (1 << orders[i]!); p++)
        if (s.zone.frame[p] !== FRAME_REPORTING)
          return violation(BATCH_HELD, `frame ${p} of batch block ${pfns[i]} is ${s.zone.frame[p] === FRAME_BUDDY ? 'on a free list' : 'not held for reporting'}`, p)
      pages += 1 << orders[i]!
    }
    let held = 0
    for (let p = 0; p < s.zone.pfnEnd; p++) if (s.zone.frame[p] === FRAME_REPORTING) held++
    if (held !== pages) return violation(BATCH_HELD, `${held} frames are held for reporting, the batch has ${pages}: ${held - pages} lost`)
    return null
  },
}

const flagCleared: StateInvariant<MmState> = {
  name: FLAG_CLEARED,
  description: 'PageAerated / PageReported is never set on a frame that is allocated, on a per-cpu list or in flight: it is cleared whenever a block leaves a free list',
  check: (s) => {
    const b = s.boundary
    if (b === null) return null
    for (let p = 0; p < b.flag.length; p++)
      if (b.flag[p] === 1 && (s.zone.frame[p] !== FRAME_BUDDY || s.zone.freeOrder[p]! < 0))
        return violation(FLAG_CLEARED, `frame ${p} is flagged ${b.config.mechanism === 'aeration' ? 'aerated' : 'reported'} but is not a free block`, p)
    return null
  },
}

export const boundaryInvariants: readonly StateInvariant<MmState>[] = [boundaryValid, aeratedContiguous, nrFreeAerated, batchHeld, flagCleared]

/**
 * boundary.valid checked between any two events: the race it guards (a boundary left on an
 * allocated block) lasts only until the next drain moves the boundary, so an end-of-run check
 * would miss it.
 */
const boundaryValidEveryEvent: EventMonitor<MmState, MmEvent> = {
  name: `${BOUNDARY_VALID}-between-events`,
  description: 'boundary.valid holds before every event',
  check: (s, e) => {
    if (s.boundary === null) return null
    const v = checkBoundaries(s.boundary, s.zone, `${BOUNDARY_VALID}-between-events`)
    if (v === null) return null
    // Checked before `e` applies: the state that breaks it is the one after the event before.
    const message = `after seq ${e.seq - 1}: ${v.message}`
    return v.pfn === undefined ? { message } : { message, pfn: v.pfn }
  },
}

export const boundaryMonitors: readonly EventMonitor<MmState, MmEvent>[] = [boundaryValidEveryEvent]
