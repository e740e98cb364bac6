// Page isolation's invariant about what happens: once a range is isolated (every pageblock
// ISOLATE and the per-CPU lists drained, or the patch's range registered, pulled in and drained),
// no allocation returns a page inside it. Before that, per-CPU pages may still go out, as in the kernel.
import type { MmEvent } from '../../events'
import { MIGRATE_ISOLATE } from '../../events/codecs'
import type { EventMonitor } from '../invariants'
import type { MmState } from '../state'
import type { IsolationState } from './state'

const isolatedRangeAt = (s: IsolationState, pfn: number, pages: number, except: number | null): number | null => {
  for (const r of s.ranges.values()) if (r.status === 'isolated' && r.id !== except && pfn < r.endPfn && pfn + pages > r.startPfn) return r.id
  return null
}

/** The frames an allocation hands out: a block from the buddy lists, a pcp page, or another range's taken chunk. */
const allocatedSpan = (e: MmEvent): { pfn: number; pages: number; except: number | null } | null => {
  if (e.type === 'PageAllocated') return { pfn: e.data.pfn, pages: 1 << e.data.order, except: null }
  if (e.type === 'PcpAllocated') return { pfn: e.data.pfn, pages: 1, except: null }
  if (e.type === 'ContigRangeTaken') return { pfn: e.data.pfn, pages: e.data.pages, except: e.data.range }
  return null
}

export const noAllocInsideIsolated: EventMonitor<MmState, MmEvent> = {
  name: 'isolation.no-alloc-inside',
  description: 'once a range is isolated (every pageblock ISOLATE and the per-CPU lists drained), no allocation returns a page inside it',
  check: (s, e) => {
    const a = allocatedSpan(e)
    if (a === null) return null
    const r = isolatedRangeAt(s.isolation, a.pfn, a.pages, a.except)
    if (r === null) return null
    return { message: `${e.type} returned ${a.pages} page(s) at ${a.pfn}, inside isolated range ${r}`, pfn: a.pfn }
  },
}

/**
 * Guest page hinting beside isolation: a page page_shrink_discards collected into an isolated
 * pageblock sits on a per-CPU list with the pcp migratetype ISOLATE (free_hot_cold_page never
 * puts one there), and an allocation takes it back out of the range being isolated.
 */
export const collectedIntoIsolated: EventMonitor<MmState, MmEvent> = {
  name: 'hinting-isolation.collected-page-reallocated',
  description: 'a discarded page collected into an isolated pageblock is never handed out from a per-CPU list',
  check: (s, e) => {
    if (e.type !== 'PcpAllocated' || s.zone.listMt[e.data.pfn] !== MIGRATE_ISOLATE) return null
    return { message: `cpu ${e.cpu} allocated page ${e.data.pfn}, collected from a discarded-page list into an isolated pageblock, from its per-CPU list`, pfn: e.data.pfn }
  },
}

/**
 * Free page aeration beside isolation: the RFC's drain puts a block back on the list of the
 * migratetype recorded when it was pulled (aerator_put_migratetype). If its pageblock was isolated
 * while the block was with the host, the block lands on a normal free list inside an ISOLATE
 * pageblock: free memory the isolation does not hold, allocatable, and counted in NR_FREE_PAGES
 * when offline_pages (whose test_pages_isolated only checks PageBuddy) takes it offline.
 */
export const putBackIntoIsolated: EventMonitor<MmState, MmEvent> = {
  name: 'aeration-isolation.put-back-into-isolated-pageblock',
  description: 'a block free page aeration puts back inside an ISOLATE pageblock goes to the ISOLATE free list',
  check: (s, e) => {
    if (e.type !== 'ReportingPagesReturned') return null
    const z = s.zone
    for (let i = 0; i < e.data.pfns.length; i++) {
      const pfn = e.data.pfns[i]!
      const mt = e.data.mts[i]!
      if (mt !== MIGRATE_ISOLATE && z.pageblockMt[pfn >> z.pageblockOrder] === MIGRATE_ISOLATE)
        return { message: `block ${pfn} (order ${e.data.orders[i]}) put back on migratetype ${mt}'s list inside an isolated pageblock`, pfn }
    }
    return null
  },
}

export const isolationMonitors: readonly EventMonitor<MmState, MmEvent>[] = [noAllocInsideIsolated, collectedIntoIsolated, putBackIntoIsolated]
