// The 2007 patch's design ("memory hotremove patch take 2 [02/10] (make page unused)"): a
// per-zone isolation_list of registered ranges, searched by __free_one_page on every free while
// it is not empty, capturing a freed page before it reaches free_area[]. Mel Gorman's review
// argues for MIGRATE_ISOLATE instead (page_isolation.ts); the work counters compare the two.
import type { IsolationErrno, Isolator } from '../../events/isolation'
import { MAX_ORDER } from '../../events/codecs'
import { FRAME_ABSENT, FRAME_BUDDY, FRAME_CAPTURED, zoneOf, type ZoneState } from '../../projections/zone/state'
import type { Kernel } from '../kernel'
import type { Cpu, Path } from '../sim/cpu'
import { spin_lock_irqsave, spin_unlock_irqrestore } from '../sim/sync'
import { __free_pages, drain_all_pages } from './page_free'

/** MAX_ORDER_NR_PAGES: the patch's ranges must be aligned to it. */
export const MAX_ORDER_NR_PAGES = 1 << (MAX_ORDER - 1)

export type Refusal = { readonly errno: IsolationErrno; readonly reason: string }

/**
 * register_isolation's checks, in its order: -EINVAL for an invalid range, one spanning zones or
 * not aligned to MAX_ORDER_NR_PAGES; -EBUSY when it overlaps a registered range. Mainline's
 * offline_pages asks the same of its range, pageblock-aligned rather than MAX_ORDER-aligned, and
 * finds overlap only pageblock by pageblock (set_migratetype_isolate).
 */
export const check_isolation_range = (k: Kernel, start: number, end: number, alignPages: number): Refusal | null => {
  const s = k.state.zone
  const last = end - 1
  if (start >= end || start < 0 || end > s.pfnEnd || zoneOf(s, start) < 0 || zoneOf(s, last) < 0)
    return { errno: 'EINVAL', reason: `[${start}, ${end}) is not a valid range of frames` }
  if (zoneOf(s, start) !== zoneOf(s, last))
    return { errno: 'EINVAL', reason: `[${start}, ${end}) spans zones ${s.zones[zoneOf(s, start)]!.name} and ${s.zones[zoneOf(s, last)]!.name}` }
  if (start % alignPages !== 0 || end % alignPages !== 0) return { errno: 'EINVAL', reason: `[${start}, ${end}) is not aligned to ${alignPages} pages` }
  for (let p = start; p < end; p++) if (s.frame[p] === FRAME_ABSENT) return { errno: 'EINVAL', reason: `[${start}, ${end}) has a memory hole at ${p} (offline)` }
  return null
}

/** register_isolation: the checks, then the overlap test and list_add under zone->isolation_lock. */
export const register_isolation = function* (k: Kernel, cpu: Cpu, start: number, end: number, by: Isolator): Path<number | Refusal> {
  const bad = check_isolation_range(k, start, end, MAX_ORDER_NR_PAGES)
  if (bad !== null) return bad
  const zone = zoneOf(k.state.zone, start)
  const lock = k.isolationLocks[zone]!
  yield* spin_lock_irqsave(k.sim, cpu, lock)
  const iso = k.state.isolation
  for (const id of iso.zoneLists[zone]!) {
    const r = iso.ranges.get(id)!
    if (start < r.endPfn && end > r.startPfn) {
      spin_unlock_irqrestore(k.sim, cpu, lock)
      return { errno: 'EBUSY', reason: `[${start}, ${end}) overlaps registered range ${id} [${r.startPfn}, ${r.endPfn})` }
    }
  }
  const range = iso.ranges.size
  k.emit(cpu, 'IsolationRegistered', { range, zone, startPfn: start, endPfn: end, design: 'list', by })
  spin_unlock_irqrestore(k.sim, cpu, lock)
  return range
}

/** [start, end) cut at MAX_ORDER_NR_PAGES boundaries: the chunks range-wide events are emitted in. */
export const maxOrderChunks = (start: number, end: number): { pfn: number; pages: number }[] => {
  const out: { pfn: number; pages: number }[] = []
  for (let p = start; p < end;) {
    const next = Math.min(end, (Math.floor(p / MAX_ORDER_NR_PAGES) + 1) * MAX_ORDER_NR_PAGES)
    out.push({ pfn: p, pages: next - p })
    p = next
  }
  return out
}

/** The free blocks whose heads lie in [start, end), in pfn order. */
export const freeBlocksIn = (s: ZoneState, start: number, end: number): { pfn: number; order: number }[] => {
  const out: { pfn: number; order: number }[] = []
  for (let p = start; p < end;) {
    const order = s.freeOrder[p]!
    if (s.frame[p] === FRAME_BUDDY && order >= 0) {
      out.push({ pfn: p, order })
      p += 1 << order
    } else p++
  }
  return out
}

/**
 * "Isolating pages in free_area[] is implemented in other patch": the free blocks already in
 * the range come off free_area[] onto the range's list under the zone lock, then the per-CPU
 * lists are drained so that their pages in the range are captured as they are freed.
 */
export const isolate_free_area_pages = function* (k: Kernel, cpu: Cpu, range: number, zone: number, start: number, end: number): Path {
  const lock = k.zoneLocks[zone]!
  yield* spin_lock_irqsave(k.sim, cpu, lock)
  for (const b of freeBlocksIn(k.state.zone, start, end)) k.emit(cpu, 'PageCaptured', { range, zone, pfn: b.pfn, order: b.order, from: 'buddy' })
  spin_unlock_irqrestore(k.sim, cpu, lock)
  yield* drain_all_pages(k, cpu)
}

/** is_page_isolated over the range: every frame on this range's list. The first that is not, or null. */
export const range_isolated_on_list = (k: Kernel, range: number, start: number, end: number): number | null => {
  const s = k.state.zone
  for (let p = start; p < end; p++) if (s.frame[p] !== FRAME_CAPTURED || k.state.isolation.capturedBy[p] !== range) return p
  return null
}

/**
 * detach_isolation_info_zone, then free_all_isolated_pages: each captured page gets a reference
 * back and goes through __free_page, reaching free_area[] now that the range is detached.
 */
export const free_all_isolated_pages = function* (k: Kernel, cpu: Cpu, range: number, zone: number, start: number, end: number): Path {
  const pfns: number[] = []
  for (let p = start; p < end; p++) if (k.state.isolation.capturedBy[p] === range) pfns.push(p)
  for (const pfn of pfns) {
    k.emit(cpu, 'IsolatedPageReleased', { range, zone, pfn })
    yield* __free_pages(k, cpu, pfn, 0, true)
  }
}
