// The invariants of guest page hinting that are about what happens, not about a state: checked
// on each event against the state it meets (kernel-facts.md §1, "Races the patches handle").
import type { MmEvent } from '../../events'
import type { PageState } from '../../events/hinting'
import type { EventMonitor } from '../invariants'
import type { MmState } from '../state'
import { FRAME_ALLOCATED } from '../zone/state'
import { PG_discarded, PG_dirty, PG_writeback, SK_changed, flagNames } from '../pages/state'
import { STATE_CODE, isLegalTransition, stateName, type Actor } from '../pages/states'

type Finding = { message: string; pfn?: number } | null
type Monitor = EventMonitor<MmState, MmEvent>

const page = (s: MmState, pfn: number): string => {
  const p = s.pages!
  const what = p.file[pfn]! >= 0 ? `file ${p.file[pfn]} index ${p.index[pfn]}` : 'no page cache'
  return `frame ${pfn} (${what}, ${stateName(p.pstate[pfn]!)}, flags ${flagNames(p.flags[pfn]!).join('|') || '-'})`
}

const transition = (s: MmState, actor: Actor, pfn: number, npages: number, from: PageState, to: PageState): Finding => {
  const p = s.pages!
  for (let q = pfn; q < pfn + npages; q++)
    if (p.pstate[q] !== STATE_CODE[from]) return { message: `${actor} changes frame ${q} from ${from}, but it is ${stateName(p.pstate[q]!)}`, pfn: q }
  if (!isLegalTransition(actor, from, to)) return { message: `${from} -> ${to} is not a transition the ${actor === 'guest' ? 'guest' : 'host'} can make (${actor})`, pfn }
  return null
}

export const legalTransitions: Monitor = {
  name: 'hinting.legal-transition',
  description: 'every page state change is one the architecture allows, from the state the page is in',
  check: (s, e) => {
    if (s.pages === null) return null
    switch (e.type) {
      case 'PageStateChanged': {
        const actor: Actor = e.data.reason === 'first-touch' || e.data.reason === 'swap-in' ? 'host-touch' : 'guest'
        return transition(s, actor, e.data.pfn, e.data.npages, e.data.from, e.data.to)
      }
      case 'HostDiscarded':
        return transition(s, 'host-discard', e.data.pfn, 1, e.data.from, e.data.to)
      case 'HostPagedOut':
        return transition(s, 'host-pageout', e.data.pfn, 1, e.data.from, e.data.to)
      default:
        return null
    }
  },
}

export const discardFaultResolvesToItsPage: Monitor = {
  name: 'hinting.discard-fault-on-reused-frame',
  description: 'a discard fault never pins a frame that was freed, or freed and reused, since the fault delivered its address',
  check: (s, e) => {
    if (e.type !== 'DiscardFaultPinned' || !e.data.pinned || e.cpu === null) return null
    const pfn = e.data.pfn
    if (s.zone.frame[pfn] !== FRAME_ALLOCATED) return { message: `cpu ${e.cpu} pinned free ${page(s, pfn)} for a discard fault`, pfn }
    const then = s.cpus.faultGen[e.cpu]!
    const now = s.zone.gen[pfn]!
    if (then !== now)
      return {
        message: `cpu ${e.cpu}'s discard fault on frame ${pfn} pinned it after it was freed and reused ${now - then} time(s): it now holds ${page(s, pfn)}`,
        pfn,
      }
    return null
  },
}

const discarding = (name: string, description: string, bad: (s: MmState, pfn: number) => string | null): Monitor => ({
  name,
  description,
  check: (s, e) => {
    if (e.type !== 'HostDiscarded' || s.pages === null) return null
    const why = bad(s, e.data.pfn)
    return why === null ? null : { message: `the host discarded ${page(s, e.data.pfn)}: ${why}`, pfn: e.data.pfn }
  },
})

export const noDiscardDirty = discarding('hinting.no-discard-dirty', 'the host never discards a dirty page (PG_dirty, or changed since written: the storage key)', (s, pfn) =>
  (s.pages!.flags[pfn]! & PG_dirty) !== 0
    ? 'it is dirty; its data was never written back'
    : (s.pages!.flags[pfn]! & SK_changed) !== 0
      ? 'its storage key says it was written to since; that data is lost'
      : null,
)
export const noDiscardWriteback = discarding('hinting.no-discard-writeback', 'the host never discards a page under writeback', (s, pfn) =>
  (s.pages!.flags[pfn]! & PG_writeback) !== 0 ? 'it is under writeback; the I/O reads a page that is gone' : null,
)
export const noDiscardInUse = discarding('hinting.no-discard-in-use', 'the host never discards a page a user made stable and is using', (s, pfn) =>
  s.pages!.uses[pfn]! > 0 ? `${s.pages!.uses[pfn]} user(s) made it stable and rely on its content` : null,
)

export const discardedFreedByCollection: Monitor = {
  name: 'hinting.discarded-freed-by-collection',
  description: 'with the discarded-page list on, a PG_discarded page reaches the free lists only through the collection',
  check: (s, e) => {
    if (s.pages === null || s.pages.config.discardList !== 'on') return null
    const pfn = e.type === 'PcpFreed' ? e.data.pfn : e.type === 'PageFreed' && e.data.from === 'page' ? e.data.pfn : -1
    if (pfn < 0 || (s.pages.flags[pfn]! & PG_discarded) === 0) return null
    return { message: `${page(s, pfn)} was freed straight to the free lists, bypassing the discarded-page list`, pfn }
  },
}

export const noPteToDiscarded: Monitor = {
  name: 'hinting.no-pte-to-discarded',
  description: 'no pte maps a discarded page: none is set on one, and none is left when page_discard takes it out of the page cache',
  check: (s, e) => {
    if (s.pages === null) return null
    if (e.type === 'PteSet' && (s.pages.flags[e.data.pfn]! & PG_discarded) !== 0)
      return { message: `process ${e.data.mm} gets a pte to discarded ${page(s, e.data.pfn)}`, pfn: e.data.pfn }
    if (e.type === 'PageCacheRemoved' && e.data.discarded && s.pages.mapcount[e.data.pfn]! > 0)
      return { message: `${page(s, e.data.pfn)} leaves the page cache as discarded with ${s.pages.mapcount[e.data.pfn]} pte(s) still mapping it`, pfn: e.data.pfn }
    return null
  },
}

export const hintingMonitors: readonly Monitor[] = [
  legalTransitions,
  discardFaultResolvesToItsPage,
  noDiscardDirty,
  noDiscardWriteback,
  noDiscardInUse,
  discardedFreedByCollection,
  noPteToDiscarded,
]
