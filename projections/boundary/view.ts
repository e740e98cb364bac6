// The boundary projection as data (`mmsim state boundary --json`, the run summary, a future
// viewer) and as text: per zone, order and migratetype where the boundary stands and how many
// blocks are raw and aerated (or reported); the zone flags and the device; the batch in flight;
// what the host got back.
import { MAX_ORDER, MIGRATETYPE_NAMES, MIGRATE_TYPES } from '../../events/codecs'
import type { MmState } from '../state'
import { NIL, freeListIdx, type ZoneState } from '../zone/state'
import { padLeft, padRight } from '../printf'
import { reportablePages, reportedPages } from './evolve'
import { PAGE_REPORTING_ACTIVE, PAGE_REPORTING_REQUESTED, isAeration, type BoundaryState, type TimelinePoint } from './state'

export interface BoundaryListView {
  readonly order: number
  readonly mt: string
  readonly blocks: number
  readonly raw: number
  /** Aerated (aeration) or reported (page reporting) blocks. */
  readonly flagged: number
  /** The boundary's block, or null for the list head; absent for page reporting (it keeps none). */
  readonly boundary?: number | null
  /** Position of the boundary from the list head (0-based; blocks == at the head, meaning none aerated). */
  readonly boundaryAt?: number
  /** Whether the boundary is kept now (the zone is ACTIVE); otherwise it is stale until populate resets it. */
  readonly kept?: boolean
}

export interface BoundaryZoneView {
  readonly zone: string
  readonly requested: boolean
  readonly active: boolean
  readonly lists: readonly BoundaryListView[]
}

export interface BoundaryView {
  readonly mechanism: string
  readonly capacity: number
  readonly latencyNs: number
  readonly hostFrees: boolean
  readonly delFromBoundary: string
  readonly minOrder: number
  /** aerator refcnt, or page reporting's state. */
  readonly device: string
  readonly zones: readonly BoundaryZoneView[]
  readonly batch: { readonly blocks: number; readonly pages: number; readonly pfns: readonly number[] }
  readonly passes: number
  readonly reacts: number
  readonly pulledPages: number
  readonly returnedPages: number
  readonly mergedPages: number
  readonly reportedPages: number
  readonly reportablePages: number
  readonly host: { readonly freedPages: number; readonly ackedNotFreedPages: number; readonly unbackedPages: number; readonly refaults: number }
  readonly fullyReportedAtNs: number | null
  readonly timeline: readonly TimelinePoint[]
}

const deviceText = (b: BoundaryState): string =>
  isAeration(b) ? `refcnt ${b.refcnt}` : b.deviceState === PAGE_REPORTING_ACTIVE ? 'ACTIVE' : b.deviceState === PAGE_REPORTING_REQUESTED ? 'REQUESTED' : 'IDLE'

const listView = (b: BoundaryState, s: ZoneState, z: number, o: number, mt: number): BoundaryListView | null => {
  const i = freeListIdx(z, o, mt)
  const boundary = b.boundary[i]!
  if (s.freeLen[i] === 0 && boundary === NIL) return null
  let blocks = 0
  let flagged = 0
  let boundaryAt = -1
  for (let p = s.freeHead[i]!; p !== NIL; p = s.next[p]!) {
    if (p === boundary) boundaryAt = blocks
    if (b.flag[p] === 1) flagged++
    blocks++
  }
  const base = { order: o, mt: MIGRATETYPE_NAMES[mt]!, blocks, raw: blocks - flagged, flagged }
  if (!isAeration(b)) return base
  return { ...base, boundary: boundary === NIL ? null : boundary, boundaryAt: boundary === NIL ? blocks : boundaryAt, kept: b.active[z] === 1 }
}

export const boundaryView = (state: MmState): BoundaryView | null => {
  const b = state.boundary
  if (b === null) return null
  const s = state.zone
  const zones = s.zones.map((zi, z) => {
    const lists: BoundaryListView[] = []
    for (let o = b.minOrder; o < MAX_ORDER; o++)
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        const l = listView(b, s, z, o, mt)
        if (l !== null) lists.push(l)
      }
    return { zone: zi.name, requested: b.requested[z] === 1, active: b.active[z] === 1, lists }
  })
  let pages = 0
  for (const o of b.batch.orders) pages += 1 << o
  const c = state.machine.reporting!
  return {
    mechanism: c.mechanism,
    capacity: c.capacity,
    latencyNs: c.latencyNs,
    hostFrees: c.hostFrees,
    delFromBoundary: c.delFromBoundary,
    minOrder: b.minOrder,
    device: deviceText(b),
    zones,
    batch: { blocks: b.batch.pfns.length, pages, pfns: [...b.batch.pfns] },
    passes: b.passes,
    reacts: b.reacts,
    pulledPages: b.pulledPages,
    returnedPages: b.returnedPages,
    mergedPages: b.mergedPages,
    reportedPages: reportedPages(b),
    reportablePages: reportablePages(b, s),
    host: { freedPages: b.hostFreedPages, ackedNotFreedPages: b.ackedNotFreedPages, unbackedPages: b.unbackedPages, refaults: b.refaults },
    fullyReportedAtNs: b.fullyReportedAtNs < 0 ? null : b.fullyReportedAtNs,
    timeline: b.timeline.map((p) => [...p] as TimelinePoint),
  }
}

const percent = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)} %`)

export const renderBoundary = (v: BoundaryView): string => {
  const aer = v.mechanism === 'aeration'
  let out = `free page ${aer ? 'aeration (RFC v1)' : 'reporting (mm/page_reporting.c)'}: capacity ${v.capacity}, host latency ${v.latencyNs} ns, host ${v.hostFrees ? 'frees' : 'acknowledges without freeing'}, order >= ${v.minOrder}${aer ? `, delFromBoundary ${v.delFromBoundary}` : ''}\n`
  out += `device ${v.device}; ${v.passes} pass(es), ${v.reacts} batch(es) reported; batch in flight: ${v.batch.blocks} block(s), ${v.batch.pages} pages${v.batch.blocks > 0 ? ` (${v.batch.pfns.join(' ')})` : ''}\n`
  const flagName = aer ? 'aerated' : 'reported'
  for (const z of v.zones) {
    out += `\nzone ${z.zone}${aer ? `: ZONE_AERATION_REQUESTED ${z.requested ? 1 : 0}, ZONE_AERATION_ACTIVE ${z.active ? 1 : 0}` : ''}\n`
    if (z.lists.length === 0) {
      out += '  no free block of the reporting order or above\n'
      continue
    }
    out += `  ${padRight('order', 6)}${padRight('migratetype', 13)}${padLeft('blocks', 7)}${padLeft('raw', 7)}${padLeft(flagName, 9)}${aer ? '  boundary' : ''}\n`
    for (const l of z.lists) {
      const stale = l.kept === true ? '' : ', not kept while inactive'
      const where = !aer
        ? ''
        : l.boundary === null || l.boundary === undefined
          ? `  list head${stale}`
          : `  block ${l.boundary} (${l.boundaryAt === -1 ? 'not on this list' : `position ${l.boundaryAt}`}${stale})`
      out += `  ${padRight(l.order, 6)}${padRight(l.mt, 13)}${padLeft(l.blocks, 7)}${padLeft(l.raw, 7)}${padLeft(l.flagged, 9)}${where}\n`
    }
  }
  out += `\n${flagName} ${v.reportedPages} of ${v.reportablePages} reportable free pages (${percent(v.reportedPages, v.reportablePages)})`
  out += v.fullyReportedAtNs === null ? '; never all\n' : `; all first at ${(v.fullyReportedAtNs / 1e9).toFixed(3)} s\n`
  out += `pages pulled ${v.pulledPages}, returned ${v.returnedPages} (${v.mergedPages} merged)\n`
  out += `host: ${v.host.freedPages} pages released, ${v.host.ackedNotFreedPages} acknowledged without release; ${v.host.unbackedPages} without backing now, ${v.host.refaults} zero-filled refaults\n`
  return out
}
