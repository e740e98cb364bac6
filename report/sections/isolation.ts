// Page isolation (memory hot-remove, alloc_contig_range for CMA and gigantic pages), both designs:
// each attempt with its range, isolator, outcome and errno, and the pages it migrated, captured,
// offlined or took; the requests refused before anything changed; the work each design does (the
// review's argument as numbers: list entries searched per free against pages moved between free
// lists); and, per zone at the end, how far NR_FREE_PAGES and the free lists disagree.
import * as t from 'io-ts'
import { NonNegInt } from '../../events/codecs'
import { ISOLATION_ERRNOS, ISOLATORS } from '../../events/isolation'
import { zoneMiscounts } from '../../projections/isolation/render'
import { barChart } from '../svg'
import { count, escapeHtml, htmlTable, mdTable } from '../html'
import type { SectionDef } from '../section'

/** Attempts listed one by one (the first ones); the outcome counts cover all of them. */
export const ATTEMPTS_SHOWN_MAX = 64

const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null])

const Attempt = t.type({
  range: NonNegInt,
  zone: t.string,
  startPfn: NonNegInt,
  endPfn: NonNegInt,
  design: t.string,
  by: t.string,
  /** offlined, allocated, undone; null while the run ended before the attempt did (then `status` says where it stood). */
  outcome: Nullable(t.string),
  status: t.string,
  errno: Nullable(t.string),
  reason: t.string,
  registeredSeq: NonNegInt,
  endedSeq: Nullable(NonNegInt),
  /** Pages in use migrated out (PageMigrated), captured on the patch's isolation list (PageCaptured), offlined (PagesOfflined), taken by alloc_contig_range (ContigRangeTaken). */
  migrated: NonNegInt,
  captured: NonNegInt,
  offlined: NonNegInt,
  taken: NonNegInt,
})

export const IsolationData = t.type({
  variants: t.record(t.string, t.string),
  attempts: t.type({ count: NonNegInt, first: t.array(Attempt) }),
  /** Attempts by isolator and result: `offlined`, `allocated`, an errno (undone), or `unfinished`. */
  outcomes: t.record(t.string, t.record(t.string, NonNegInt)),
  refused: t.type({
    count: NonNegInt,
    first: t.array(t.type({ seq: NonNegInt, startPfn: NonNegInt, endPfn: NonNegInt, by: t.string, errno: t.string, reason: t.string })),
  }),
  work: t.type({ freesSearched: NonNegInt, listEntriesSearched: NonNegInt, entriesPerFree: t.number, pagesMoved: NonNegInt, pagesCaptured: NonNegInt }),
  /** At the report's seq: NR_FREE_PAGES against the non-ISOLATE free lists (miscount = the difference), pages stranded on ISOLATE lists, pages escaped from ISOLATE pageblocks. */
  zones: t.array(t.type({ zone: t.string, nrFreePages: t.number, listed: t.number, miscount: t.number, stranded: t.number, escaped: t.number })),
})
export type IsolationData = t.TypeOf<typeof IsolationData>

type AttemptCounts = Pick<t.TypeOf<typeof Attempt>, 'migrated' | 'captured' | 'offlined' | 'taken'>

const resultOf = (a: t.TypeOf<typeof Attempt>): string => (a.outcome === null ? 'unfinished' : a.outcome === 'undone' ? (a.errno ?? 'undone') : a.outcome)

const RESULTS = ['offlined', 'allocated', ...ISOLATION_ERRNOS, 'undone', 'unfinished'] as const

const attemptRows = (d: IsolationData): (string | number)[][] =>
  d.attempts.first.map((a) => [
    a.range,
    `${a.startPfn}-${a.endPfn - 1}`,
    a.zone,
    a.design,
    a.by,
    a.outcome ?? a.status,
    a.errno ?? '',
    a.reason,
    a.migrated,
    a.captured,
    a.offlined,
    a.taken,
  ])
const ATTEMPT_HEAD = ['range', 'pfns', 'zone', 'design', 'by', 'outcome', 'errno', 'reason', 'migrated', 'captured', 'offlined', 'taken']

const refusedRows = (d: IsolationData): (string | number)[][] => d.refused.first.map((r) => [r.seq, `${r.startPfn}-${r.endPfn - 1}`, r.by, r.errno, r.reason])
const REFUSED_HEAD = ['seq', 'pfns', 'by', 'errno', 'reason']

const workText = (d: IsolationData): string =>
  `${count(d.work.freesSearched)} frees searched the isolation list, visiting ${count(d.work.listEntriesSearched)} entries (${d.work.entriesPerFree} per free); ${count(d.work.pagesMoved)} pages moved between free lists; ${count(d.work.pagesCaptured)} pages captured or freed onto ISOLATE lists`

const zoneRows = (d: IsolationData): (string | number)[][] => d.zones.map((z) => [z.zone, z.nrFreePages, z.listed, z.miscount, z.stranded, z.escaped])
const ZONE_HEAD = ['zone', 'NR_FREE_PAGES', 'non-isolate lists', 'miscount', 'stranded', 'escaped']

const miscountText = (d: IsolationData): string =>
  d.zones.every((z) => z.miscount === 0 && z.stranded === 0 && z.escaped === 0)
    ? 'NR_FREE_PAGES equals the non-isolate free lists in every zone; no page stranded or escaped.'
    : 'NR_FREE_PAGES and the free lists DISAGREE (the invariant isolation.nr-free-pages below gives the first seq):'

const variantsText = (d: IsolationData, code: (s: string) => string): string =>
  Object.entries(d.variants)
    .map(([k, v]) => code(`${k}=${v}`))
    .join(', ')

export const isolationSection: SectionDef<IsolationData> = {
  id: 'isolation',
  title: 'Page isolation',
  codec: IsolationData,
  collect: () => {
    const perRange = new Map<number, AttemptCounts>()
    const add = (range: number, k: keyof AttemptCounts, n: number): void => {
      const c = perRange.get(range) ?? { migrated: 0, captured: 0, offlined: 0, taken: 0 }
      c[k] += n
      perRange.set(range, c)
    }
    return {
      after: (_, e) => {
        switch (e.type) {
          case 'PageMigrated':
            add(e.data.range, 'migrated', 1)
            break
          case 'PageCaptured':
            add(e.data.range, 'captured', 1 << e.data.order)
            break
          case 'PagesOfflined':
            add(e.data.range, 'offlined', e.data.pages)
            break
          case 'ContigRangeTaken':
            add(e.data.range, 'taken', e.data.pages)
            break
          default:
        }
      },
      finish: (s) => {
        const iso = s.isolation
        if (iso.ranges.size === 0 && iso.refused.length === 0) return null
        const all = [...iso.ranges.values()].map((r) => ({
          range: r.id,
          zone: s.zone.zones[r.zone]?.name ?? String(r.zone),
          startPfn: r.startPfn,
          endPfn: r.endPfn,
          design: r.design,
          by: r.by,
          outcome: r.outcome,
          status: r.status,
          errno: r.errno,
          reason: r.reason,
          registeredSeq: r.registeredSeq,
          endedSeq: r.endedSeq,
          ...(perRange.get(r.id) ?? { migrated: 0, captured: 0, offlined: 0, taken: 0 }),
        }))
        const outcomes: Record<string, Record<string, number>> = {}
        for (const by of ISOLATORS) {
          const mine = all.filter((a) => a.by === by)
          if (mine.length === 0) continue
          const row: Record<string, number> = {}
          for (const res of RESULTS) {
            const n = mine.filter((a) => resultOf(a) === res).length
            if (n > 0) row[res] = n
          }
          outcomes[by] = row
        }
        const w = iso.work
        return {
          variants: { ...iso.config },
          attempts: { count: all.length, first: all.slice(0, ATTEMPTS_SHOWN_MAX) },
          outcomes,
          refused: { count: iso.refused.length, first: iso.refused.slice(0, ATTEMPTS_SHOWN_MAX).map((r) => ({ ...r })) },
          work: { ...w, entriesPerFree: w.freesSearched === 0 ? 0 : Math.round((w.listEntriesSearched / w.freesSearched) * 1000) / 1000 },
          zones: zoneMiscounts(s).map((z) => ({ ...z })),
        }
      },
    }
  },
  markdown: (d) => {
    let out = `Variants: ${variantsText(d, (s) => `\`${s}\``)}\n\n`
    out += `**Attempts**: ${count(d.attempts.count)}; ${Object.entries(d.outcomes)
      .map(
        ([by, row]) =>
          `${by}: ${Object.entries(row)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}`,
      )
      .join('; ')}\n\n`
    if (d.attempts.first.length > 0) out += mdTable(ATTEMPT_HEAD, attemptRows(d))
    if (d.attempts.count > d.attempts.first.length) out += `\n(the first ${d.attempts.first.length} of ${count(d.attempts.count)} attempts)\n`
    out += `\n**Refused** before anything changed: ${count(d.refused.count)}\n\n`
    if (d.refused.first.length > 0) out += mdTable(REFUSED_HEAD, refusedRows(d))
    out += `\n**Work**: ${workText(d)}\n\n`
    out += `**Free page accounting**: ${miscountText(d)}\n\n${mdTable(ZONE_HEAD, zoneRows(d))}`
    return out
  },
  html: (d) => {
    let out = `<p>Variants: ${variantsText(d, (s) => `<code>${escapeHtml(s)}</code>`)}</p>`
    out += `<h3>Attempts</h3><p>${count(d.attempts.count)} isolation attempts${d.attempts.count > d.attempts.first.length ? ` (the first ${d.attempts.first.length} listed)` : ''}.</p>`
    const bys = Object.keys(d.outcomes)
    const results = RESULTS.filter((r) => bys.some((b) => (d.outcomes[b]![r] ?? 0) > 0))
    if (bys.length > 0)
      out += barChart({
        title: 'Isolation attempts by isolator and outcome',
        labels: bys,
        series: results.map((r) => ({ name: r, values: bys.map((b) => d.outcomes[b]![r] ?? 0) })),
        xLabel: 'isolator',
        yLabel: 'attempts',
      })
    if (d.attempts.first.length > 0) out += htmlTable(ATTEMPT_HEAD, attemptRows(d))
    out += `<h3>Refused</h3><p>${count(d.refused.count)} requests refused before anything changed.</p>`
    if (d.refused.first.length > 0) out += htmlTable(REFUSED_HEAD, refusedRows(d))
    out += `<h3>Work</h3><p>${escapeHtml(workText(d))}.</p>`
    out += `<h3>Free page accounting</h3><p>${escapeHtml(miscountText(d))}</p>${htmlTable(ZONE_HEAD, zoneRows(d))}`
    return out
  },
}
