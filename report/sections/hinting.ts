// Guest page hinting: how pages moved between the s390 page states (the from × to matrix), the
// discard faults each CPU took, each on_each_cpu collection of the discarded-page lists (pages per
// CPU), and the host's discards over the run.
import * as t from 'io-ts'
import { PAGE_STATES } from '../../events/hinting'
import { NonNegInt } from '../../events/codecs'
import { barChart, lineChart } from '../svg'
import { count, escapeHtml, heat, htmlTable, mdTable } from '../html'
import { sampleDue, type SectionDef } from '../section'

/** Collections listed one by one (the first ones); the totals cover all of them. */
export const COLLECTIONS_SHOWN_MAX = 64

const Collection = t.type({ seq: NonNegInt, collector: NonNegInt, pagesPerCpu: t.array(NonNegInt) })

export const HintingData = t.type({
  variants: t.record(t.string, t.string),
  /** The page states, in the order of the matrix's rows and columns. */
  states: t.array(t.string),
  /** transitions[from][to]: pages that made that transition (guest ESSA, host discard and page-out). */
  transitions: t.array(t.array(NonNegInt)),
  discardFaults: t.type({ perCpu: t.array(NonNegInt), pinned: NonNegInt, gone: NonNegInt }),
  collections: t.type({ count: NonNegInt, pagesPerCpu: t.array(NonNegInt), first: t.array(Collection) }),
  host: t.type({
    discards: NonNegInt,
    pagedOut: NonNegInt,
    /** Running totals at the sample points. */
    series: t.array(t.type({ seq: NonNegInt, t: NonNegInt, discards: NonNegInt, pagedOut: NonNegInt })),
  }),
})
export type HintingData = t.TypeOf<typeof HintingData>

const cpuLabels = (n: number): string[] => Array.from({ length: n }, (_, c) => `cpu${c}`)

const transitionRows = (d: HintingData): (string | number)[][] => d.states.map((from, i) => [from, ...d.transitions[i]!])

export const hintingSection: SectionDef<HintingData> = {
  id: 'hinting',
  title: 'Guest page hinting',
  codec: HintingData,
  collect: (ctx) => {
    const cpus = ctx.machine.cpus
    const faults = new Array<number>(cpus).fill(0)
    let pinned = 0
    let gone = 0
    const perCpu = new Array<number>(cpus).fill(0)
    const first: t.TypeOf<typeof Collection>[] = []
    /** The shown collections by the seq of their DiscardCollectionStarted, which their splices name as cause. */
    const bySeq = new Map<number, t.TypeOf<typeof Collection>>()
    let collections = 0
    const series: HintingData['host']['series'] = []
    return {
      after: (s, e) => {
        if (s.pages === null) return
        switch (e.type) {
          case 'DiscardFault':
            if (e.cpu !== null) faults[e.cpu]!++
            break
          case 'DiscardFaultPinned':
            if (e.data.pinned) pinned++
            else gone++
            break
          case 'DiscardCollectionStarted':
            collections++
            if (first.length < COLLECTIONS_SHOWN_MAX && e.cpu !== null) {
              const c = { seq: e.seq, collector: e.cpu, pagesPerCpu: new Array<number>(cpus).fill(0) }
              first.push(c)
              bySeq.set(e.seq, c)
            }
            break
          case 'DiscardListSpliced':
            if (e.cpu === null) break
            perCpu[e.cpu]! += e.data.pfns.length
            if (e.cause !== undefined) {
              const c = bySeq.get(e.cause)
              if (c !== undefined) c.pagesPerCpu[e.cpu]! += e.data.pfns.length
            }
            break
          default:
        }
        if (sampleDue(ctx, e.seq)) series.push({ seq: e.seq, t: e.t, discards: s.pages.hostDiscards, pagedOut: s.pages.hostPagedOut })
      },
      finish: (s) => {
        const p = s.pages
        if (p === null) return null
        const states = [...PAGE_STATES]
        const transitions = states.map((from) => states.map((to) => p.transitions.get(`${from}>${to}`) ?? 0))
        return {
          variants: { ...p.config },
          states,
          transitions,
          discardFaults: { perCpu: faults, pinned, gone },
          collections: { count: collections, pagesPerCpu: perCpu, first },
          host: { discards: p.hostDiscards, pagedOut: p.hostPagedOut, series },
        }
      },
    }
  },
  markdown: (d) => {
    let out = `Variants: ${Object.entries(d.variants)
      .map(([k, v]) => `\`${k}=${v}\``)
      .join(', ')}\n\n`
    out += '**Page-state transitions** (pages, row: from, column: to)\n\n'
    out += mdTable(['from \\ to', ...d.states], transitionRows(d))
    out += `\n**Discard faults**: ${d.discardFaults.perCpu.map((n, c) => `cpu${c} ${count(n)}`).join(', ')}; the page still in use (pinned) ${count(d.discardFaults.pinned)}, gone ${count(d.discardFaults.gone)}\n\n`
    out += `**Collections** (on_each_cpu of the discarded-page lists): ${count(d.collections.count)}; pages collected from ${d.collections.pagesPerCpu.map((n, c) => `cpu${c} ${count(n)}`).join(', ')}\n\n`
    if (d.collections.first.length > 0)
      out += mdTable(
        ['seq', 'collector', ...cpuLabels(d.collections.pagesPerCpu.length)],
        d.collections.first.map((c) => [c.seq, `cpu${c.collector}`, ...c.pagesPerCpu]),
      )
    if (d.collections.count > d.collections.first.length) out += `\n(the first ${d.collections.first.length} of ${count(d.collections.count)} collections)\n`
    out += `\n**Host**: ${count(d.host.discards)} discards, ${count(d.host.pagedOut)} paged out\n`
    return out
  },
  html: (d) => {
    const max = Math.max(0, ...d.transitions.flat())
    let out = `<p>Variants: ${Object.entries(d.variants)
      .map(([k, v]) => `<code>${escapeHtml(k)}=${escapeHtml(v)}</code>`)
      .join(', ')}</p>`
    out += '<h3>Page-state transitions</h3><p>Pages, row: from, column: to.</p>'
    out += htmlTable(['from \\ to', ...d.states], transitionRows(d), (i, j) => (j === 0 ? null : heat(d.transitions[i]![j - 1]!, max)))
    out += '<h3>Discard faults</h3>'
    out += barChart({
      title: 'Discard faults per CPU',
      labels: cpuLabels(d.discardFaults.perCpu.length),
      series: [{ name: 'discard faults', values: d.discardFaults.perCpu }],
      xLabel: 'CPU',
      yLabel: 'faults',
    })
    out += `<p>The page still in use (pinned): ${count(d.discardFaults.pinned)}; gone: ${count(d.discardFaults.gone)}.</p>`
    out += `<h3>Collections</h3><p>${count(d.collections.count)} on_each_cpu collections of the discarded-page lists; pages collected from ${d.collections.pagesPerCpu.map((n, c) => `cpu${c} ${count(n)}`).join(', ')}.</p>`
    if (d.collections.first.length > 0)
      out += barChart({
        title: `Pages per CPU, per collection${d.collections.count > d.collections.first.length ? ` (the first ${d.collections.first.length})` : ''}`,
        labels: d.collections.first.map((c) => String(c.seq)),
        series: cpuLabels(d.collections.pagesPerCpu.length).map((name, c) => ({ name, values: d.collections.first.map((x) => x.pagesPerCpu[c]!) })),
        xLabel: 'collection (seq it started at)',
        yLabel: 'pages',
      })
    out += `<h3>Host</h3><p>${count(d.host.discards)} discards, ${count(d.host.pagedOut)} paged out.</p>`
    out += lineChart({
      title: 'Host discards and page-outs (running totals)',
      x: d.host.series.map((p) => p.seq),
      series: [
        { name: 'discarded', values: d.host.series.map((p) => p.discards) },
        { name: 'paged out', values: d.host.series.map((p) => p.pagedOut) },
      ],
      xLabel: 'seq',
      yLabel: 'pages',
    })
    return out
  },
}
