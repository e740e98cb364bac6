// Page isolation's invariant about what happens: once a range is isolated (every pageblock
// ISOLATE and the per-CPU lists drained, or the patch's range registered, pulled in and drained),
// no allocation returns a page inside it. Before that, per-CPU pages may still go out, as in the kernel.
import type { MmEvent } from '../../events'
import type { EventMonitor } from '../invariants'
import type { MmState } from '../state'
import type { IsolationState } from './state'

const isolatedRangeAt = (s: IsolationState, pfn: number, pages: number, except: number | null): number | null => {
  for (const r of s.ranges.values()) if (r.status === 'isolated' && r.id !== except && pfn < r.endPfn && pfn + pages > r.startPfn) return r.id
  return null
}

const allocatedSpan = (e: MmEvent): { pfn: number; pages: number; except: number | null } | null => {
  switch (e.type) {
    case 'PageAllocated':
      return { pfn: e.data.pfn, pages: 1 << e.data.order, except: null }
    case 'PcpAllocated':
      return { pfn: e.data.pfn, pages: 1, except: null }
    case 'ContigRangeTaken':
      return { pfn: e.data.pfn, pages: e.data.pages, except: e.data.range }
    default:
      return null
  }
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

export const isolationMonitors: readonly EventMonitor<MmState, MmEvent>[] = [noAllocInsideIsolated]
