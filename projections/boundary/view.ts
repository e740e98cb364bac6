// The boundary projection as data (`mmsim state boundary --json`, the run summary, a future
// viewer) and as text: per zone, order and migratetype where the boundary stands and how many
// blocks are raw and aerated (or reported); the zone flags and the device; the batch in flight;
// what the host got back.
import { MAX_ORDER, MIGRATETYPE_NAMES, MIGRATE_TYPES } from '../../events/codecs'
import type { MmState } from '../state'
import { NIL, freeListIdx, type ZoneState } from '../zone/state'
import { padLeft, padRight } from '../printf'
import { reportablePages, reportedPages } from './evolve'
import { PAGE_REPORTING_ACTIVE, PAGE_REPORTING_REQUESTED, isAeration, type BoundaryState, type Cycle, type TimelinePoint } from './state'

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

/** Points of the reported-share curve a summary shows at most. */
export const CURVE_POINTS_MAX = 12
/** Cycles a summary lists: the first ones and the last. */
export const CYCLES_SHOWN_MAX = 6

export interface ReportingSummary {
  readonly mechanism: string
  readonly capacity: number
  readonly latencyNs: number
  readonly hostFrees: boolean
  readonly passes: number
  readonly cycles: number
  /** The first cycles and the last: [start ns, pulled, reacted, returned, merged pages, end ns]. */
  readonly cyclesShown: readonly Cycle[]
  readonly pulledPages: number
  readonly returnedPages: number
  readonly mergedPages: number
  readonly reportedPages: number
  readonly reportablePages: number
  readonly fullyReportedAtNs: number | null
  /** The reported share of reportable free memory over time: [ns, percent], sampled. */
  readonly curve: readonly (readonly [number, number])[]
  /** The host's resident pages of the guest over time, at the same points: [ns, pages]. */
  readonly residentCurve: readonly (readonly [number, number])[]
  /** What the host holds of the guest, and what each mechanism gave back. */
  readonly host: {
    readonly frames: number
    readonly residentPages: number
    readonly releasedByReporting: number
    readonly releasedByHinting: number
    readonly ackedNotFreedPages: number
    readonly refaults: number
  }
}

/** `n` points of `points`, evenly spaced, the last always among them. */
const sample = <T>(points: readonly T[], n: number): T[] => {
  if (points.length <= n) return [...points]
  const out: T[] = []
  for (let i = 0; i < n; i++) out.push(points[Math.round((i * (points.length - 1)) / (n - 1))]!)
  return out
}

/** The run summary's part for free page reporting; `releasedByHinting` is what guest page hinting's host took (frames not resident). */
export const reportingSummary = (state: MmState, releasedByHinting = 0): ReportingSummary | null => {
  const v = boundaryView(state)
  const b = state.boundary
  if (v === null || b === null) return null
  let frames = 0
  for (const z of state.zone.zones) frames += z.managed
  const first = b.cycles.slice(0, CYCLES_SHOWN_MAX - 1)
  const points = sample(b.timeline, CURVE_POINTS_MAX)
  return {
    mechanism: v.mechanism,
    capacity: v.capacity,
    latencyNs: v.latencyNs,
    hostFrees: v.hostFrees,
    passes: v.passes,
    cycles: b.cycles.length,
    cyclesShown: b.cycles.length > first.length ? [...first, b.cycles[b.cycles.length - 1]!] : first,
    pulledPages: v.pulledPages,
    returnedPages: v.returnedPages,
    mergedPages: v.mergedPages,
    reportedPages: v.reportedPages,
    reportablePages: v.reportablePages,
    fullyReportedAtNs: v.fullyReportedAtNs,
    curve: points.map(([t, reported, reportable]) => [t, reportable === 0 ? 0 : Math.round((1000 * reported) / reportable) / 10] as const),
    // Page hinting's share is the run's final one: the pages projection keeps no history of it.
    residentCurve: points.map(([t, , , unbacked]) => [t, frames - unbacked - releasedByHinting] as const),
    host: {
      frames,
      residentPages: frames - b.unbackedPages - releasedByHinting,
      releasedByReporting: b.unbackedPages,
      releasedByHinting,
      ackedNotFreedPages: b.ackedNotFreedPages,
      refaults: b.refaults,
    },
  }
}

const seconds = (ns: number): string => `${(ns / 1e9).toFixed(3)} s`

export const renderReportingSummary = (r: ReportingSummary): string => {
  const name = r.mechanism === 'aeration' ? 'free page aeration (RFC v1)' : 'free page reporting (mm/page_reporting.c)'
  let out = `\n${name}: capacity ${r.capacity}, host latency ${r.latencyNs} ns${r.hostFrees ? '' : ', host acknowledges without freeing'}\n`
  out += `  passes ${r.passes}, cycles ${r.cycles}; pages pulled ${r.pulledPages}, returned ${r.returnedPages} (${r.mergedPages} merged)\n`
  out += '  cycle  start         pulled  reacted  returned  merged  end\n'
  r.cyclesShown.forEach((c, i) => {
    const n = i === r.cyclesShown.length - 1 && r.cycles > r.cyclesShown.length ? r.cycles : i + 1
    if (n !== i + 1) out += '  ...\n'
    out += `  ${padRight(n, 7)}${padRight(seconds(c[0]), 14)}${padLeft(c[1], 6)}${padLeft(c[2], 9)}${padLeft(c[3], 10)}${padLeft(c[4], 8)}  ${c[5] < 0 ? 'in flight' : seconds(c[5])}\n`
  })
  out += `  ${r.mechanism === 'aeration' ? 'aerated' : 'reported'} ${r.reportedPages} of ${r.reportablePages} reportable free pages (${percent(r.reportedPages, r.reportablePages)}); `
  out += r.fullyReportedAtNs === null ? '100 % never reached\n' : `100 % first at ${seconds(r.fullyReportedAtNs)}\n`
  if (r.curve.length > 0) out += `  share over time  ${r.curve.map(([t, p]) => `${seconds(t)} ${p} %`).join(', ')}\n`
  if (r.residentCurve.length > 0) out += `  host resident over time  ${r.residentCurve.map(([t, p]) => `${seconds(t)} ${p}`).join(', ')}\n`
  const h = r.host
  out += `  host resident    ${h.residentPages} of ${h.frames} pages; released by reporting ${h.releasedByReporting}, by page hinting ${h.releasedByHinting}; acknowledged without release ${h.ackedNotFreedPages}; zero-filled refaults ${h.refaults}\n`
  return out
}
