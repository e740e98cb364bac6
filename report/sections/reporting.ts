// Free page reporting (Duyck's aeration RFC or mainline mm/page_reporting.c): each cycle (one batch
// pulled off the free lists, handed to the host, put back) with its pages per phase, the share of
// free memory reported to the host over time, what the host released and how often the guest
// touched a released frame again (a zero-filled refault).
import * as t from 'io-ts'
import { NonNegInt } from '../../events/codecs'
import { reportablePages, reportedPages } from '../../projections/boundary/evolve'
import type { BoundaryState } from '../../projections/boundary/state'
import type { MmState } from '../../projections'
import { barChart, lineChart } from '../svg'
import { count, escapeHtml, htmlTable, mdTable } from '../html'
import { sampleDue, type SectionDef } from '../section'

/** Cycles listed one by one (the first ones); the totals cover all of them. */
export const CYCLES_SHOWN_MAX = 64

const Cycle = t.type({
  startNs: NonNegInt,
  /** -1: the batch was still in flight when the report's seq came. */
  endNs: t.number,
  pulled: NonNegInt,
  reacted: NonNegInt,
  returned: NonNegInt,
  /** Of the returned pages, those that merged with a buddy on the way back (raw again). */
  merged: NonNegInt,
})

const Sample = t.type({
  seq: NonNegInt,
  t: NonNegInt,
  /** Pages flagged aerated / reported, free pages of the reporting order or above outside ISOLATE lists, and NR_FREE_PAGES (all zones). */
  reported: NonNegInt,
  reportable: NonNegInt,
  free: t.number,
  /** Frames whose backing the host released and the guest has not touched since; refaults so far. */
  unbacked: NonNegInt,
  refaults: NonNegInt,
})

export const ReportingData = t.type({
  mechanism: t.string,
  /** The device as configured (MachineBooted.reporting). */
  device: t.record(t.string, t.string),
  minOrder: NonNegInt,
  passes: NonNegInt,
  cycles: t.type({ count: NonNegInt, first: t.array(Cycle) }),
  pages: t.type({ pulled: NonNegInt, returned: NonNegInt, merged: NonNegInt, reported: NonNegInt, reportable: NonNegInt }),
  /** reported / reportable at the report's seq (0..1), and when it first reached 1 (null: never). */
  reportedShare: t.number,
  fullyReportedAtNs: t.union([NonNegInt, t.null]),
  host: t.type({ reacts: NonNegInt, freedPages: NonNegInt, ackedNotFreedPages: NonNegInt, unbackedPages: NonNegInt, refaults: NonNegInt }),
  series: t.array(Sample),
})
export type ReportingData = t.TypeOf<typeof ReportingData>

const share = (a: number, b: number): number => (b === 0 ? 0 : Math.round((a / b) * 10000) / 10000)
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`
const ms = (ns: number): string => `${(ns / 1e6).toFixed(3)} ms`

const sampleOf = (s: MmState, b: BoundaryState, seq: number, tNs: number): t.TypeOf<typeof Sample> => ({
  seq,
  t: tNs,
  reported: reportedPages(b),
  reportable: reportablePages(b, s.zone),
  free: s.zone.zones.reduce((a, z) => a + z.nrFreePages, 0),
  unbacked: b.unbackedPages,
  refaults: b.refaults,
})

const cycleRows = (d: ReportingData): (string | number)[][] =>
  d.cycles.first.map((c) => [ms(c.startNs), c.endNs < 0 ? 'in flight' : ms(c.endNs), c.pulled, c.reacted, c.returned, c.merged])
const CYCLE_HEAD = ['started', 'ended', 'pulled', 'reacted', 'returned', 'merged']

const summaryText = (d: ReportingData): string => {
  const flag = d.mechanism === 'aeration' ? 'aerated' : 'reported'
  return (
    `${d.mechanism}, order >= ${d.minOrder}; ${count(d.passes)} passes, ${count(d.cycles.count)} cycles: ${count(d.pages.pulled)} pages pulled, ${count(d.pages.returned)} returned (${count(d.pages.merged)} merged on the way back). ` +
    `At the end ${count(d.pages.reported)} of ${count(d.pages.reportable)} reportable free pages ${flag} (${pct(d.reportedShare)})` +
    `${d.fullyReportedAtNs === null ? ', never all of them' : `; all of them first at ${ms(d.fullyReportedAtNs)}`}. ` +
    `Host: ${count(d.host.reacts)} batches, ${count(d.host.freedPages)} pages released, ${count(d.host.ackedNotFreedPages)} acknowledged without releasing; ${count(d.host.unbackedPages)} still unbacked; ${count(d.host.refaults)} refaults (zero-filled).`
  )
}

export const reportingSection: SectionDef<ReportingData> = {
  id: 'reporting',
  title: 'Free page reporting',
  codec: ReportingData,
  collect: (ctx) => {
    let cycles = 0
    const series: t.TypeOf<typeof Sample>[] = []
    return {
      before: (s, e) => {
        // A cycle starts with the first pull into an empty batch (as the projection counts it).
        if (e.type === 'ReportingPagesPulled' && s?.boundary?.batch.pfns.length === 0) cycles++
      },
      after: (s, e) => {
        if (s.boundary !== null && sampleDue(ctx, e.seq)) series.push(sampleOf(s, s.boundary, e.seq, e.t))
      },
      finish: (s) => {
        const b = s.boundary
        if (b === null) return null
        const reported = reportedPages(b)
        const reportable = reportablePages(b, s.zone)
        return {
          mechanism: b.config.mechanism,
          device: Object.fromEntries(Object.entries(b.config).map(([k, v]) => [k, String(v)])),
          minOrder: b.minOrder,
          passes: b.passes,
          cycles: {
            count: cycles,
            first: b.cycles.slice(0, CYCLES_SHOWN_MAX).map(([startNs, pulled, reacted, returned, merged, endNs]) => ({ startNs, endNs, pulled, reacted, returned, merged })),
          },
          pages: { pulled: b.pulledPages, returned: b.returnedPages, merged: b.mergedPages, reported, reportable },
          reportedShare: share(reported, reportable),
          fullyReportedAtNs: b.fullyReportedAtNs < 0 ? null : b.fullyReportedAtNs,
          host: { reacts: b.reacts, freedPages: b.hostFreedPages, ackedNotFreedPages: b.ackedNotFreedPages, unbackedPages: b.unbackedPages, refaults: b.refaults },
          series,
        }
      },
    }
  },
  markdown: (d) => {
    let out = `${summaryText(d)}\n\nDevice: ${Object.entries(d.device)
      .map(([k, v]) => `\`${k}=${v}\``)
      .join(', ')}\n\n**Cycles** (pages per phase)\n\n`
    out += mdTable(CYCLE_HEAD, cycleRows(d))
    if (d.cycles.count > d.cycles.first.length) out += `\n(the first ${d.cycles.first.length} of ${count(d.cycles.count)} cycles)\n`
    out += '\n**Reported share over time**\n\n'
    out += mdTable(
      ['seq', 'time', 'reported', 'reportable', 'share', 'unbacked', 'refaults'],
      d.series.map((p) => [p.seq, ms(p.t), p.reported, p.reportable, pct(share(p.reported, p.reportable)), p.unbacked, p.refaults]),
    )
    return out
  },
  html: (d) => {
    let out = `<p>${escapeHtml(summaryText(d))}</p><p>Device: ${Object.entries(d.device)
      .map(([k, v]) => `<code>${escapeHtml(`${k}=${v}`)}</code>`)
      .join(', ')}</p>`
    const x = d.series.map((p) => p.t / 1e6)
    out += '<h3>Reported share over time</h3>'
    out += lineChart({
      title: 'Share of reportable free memory reported to the host',
      x,
      series: [{ name: 'reported share %', values: d.series.map((p) => Math.round(share(p.reported, p.reportable) * 1000) / 10) }],
      xLabel: 'simulated time (ms)',
      yLabel: '% of reportable free pages',
    })
    out += lineChart({
      title: 'Free, reportable, reported and unbacked pages',
      x,
      series: [
        { name: 'free (NR_FREE_PAGES)', values: d.series.map((p) => p.free) },
        { name: 'reportable', values: d.series.map((p) => p.reportable) },
        { name: 'reported', values: d.series.map((p) => p.reported) },
        { name: 'unbacked on the host', values: d.series.map((p) => p.unbacked) },
        { name: 'refaults', values: d.series.map((p) => p.refaults) },
      ],
      xLabel: 'simulated time (ms)',
      yLabel: 'pages',
    })
    out += `<h3>Cycles</h3><p>${count(d.cycles.count)} cycles${d.cycles.count > d.cycles.first.length ? ` (the first ${d.cycles.first.length} shown)` : ''}.</p>`
    if (d.cycles.first.length > 0) {
      out += barChart({
        // The bar is the pages pulled; its parts say what became of them.
        title: 'Pages pulled per cycle, by what became of them',
        labels: d.cycles.first.map((_, i) => String(i + 1)),
        series: [
          { name: 'returned, kept flag', values: d.cycles.first.map((c) => c.returned - c.merged) },
          { name: 'returned, merged', values: d.cycles.first.map((c) => c.merged) },
          { name: 'not returned yet', values: d.cycles.first.map((c) => c.pulled - c.returned) },
        ],
        xLabel: 'cycle',
        yLabel: 'pages',
      })
      out += htmlTable(CYCLE_HEAD, cycleRows(d))
    }
    return out
  },
}
