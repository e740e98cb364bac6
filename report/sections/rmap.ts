// Anonymous reverse mapping: how many VMAs each rmap walk visited (the cost anon_vma_chain was
// written to cut), by walk kind, with its distribution.
import * as t from 'io-ts'
import { NonNegInt } from '../../events/codecs'
import { barChart } from '../svg'
import { count, htmlTable, mdTable } from '../html'
import type { SectionDef } from '../section'

export const RmapData = t.type({
  walks: NonNegInt,
  visitedMean: t.number,
  visitedMax: NonNegInt,
  /** [VMAs visited, walks], ascending. */
  distribution: t.array(t.tuple([NonNegInt, NonNegInt])),
  byKind: t.record(t.string, t.type({ walks: NonNegInt, visited: NonNegInt, mapped: NonNegInt })),
})
export type RmapData = t.TypeOf<typeof RmapData>

const kindRows = (d: RmapData): (string | number)[][] => Object.entries(d.byKind).map(([k, v]) => [k, v.walks, v.visited, v.mapped])

export const rmapSection: SectionDef<RmapData> = {
  id: 'rmap',
  title: 'Anonymous reverse mapping (rmap walks)',
  codec: RmapData,
  collect: () => {
    const dist = new Map<number, number>()
    const byKind = new Map<string, { walks: number; visited: number; mapped: number }>()
    let walks = 0
    let visited = 0
    let max = 0
    return {
      after: (_, e) => {
        if (e.type !== 'RmapWalkFinished') return
        const v = e.data.visited
        walks++
        visited += v
        max = Math.max(max, v)
        dist.set(v, (dist.get(v) ?? 0) + 1)
        const k = byKind.get(e.data.walk) ?? { walks: 0, visited: 0, mapped: 0 }
        byKind.set(e.data.walk, { walks: k.walks + 1, visited: k.visited + v, mapped: k.mapped + e.data.mapped })
      },
      finish: () =>
        walks === 0
          ? null
          : {
              walks,
              visitedMean: Math.round((visited / walks) * 1000) / 1000,
              visitedMax: max,
              distribution: [...dist.entries()].sort((a, b) => a[0] - b[0]),
              byKind: Object.fromEntries([...byKind.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
            },
    }
  },
  markdown: (d) =>
    `${count(d.walks)} rmap walks; VMAs visited per walk: mean ${d.visitedMean}, max ${d.visitedMax}\n\n` +
    mdTable(['walk', 'walks', 'VMAs visited', 'ptes found'], kindRows(d)) +
    '\n**Distribution** (VMAs visited per walk)\n\n' +
    mdTable(['VMAs visited', 'walks'], d.distribution),
  html: (d) =>
    `<p>${count(d.walks)} rmap walks; VMAs visited per walk: mean ${d.visitedMean}, max ${d.visitedMax}.</p>` +
    htmlTable(['walk', 'walks', 'VMAs visited', 'ptes found'], kindRows(d)) +
    barChart({
      title: 'VMAs visited per rmap walk',
      labels: d.distribution.map(([v]) => String(v)),
      series: [{ name: 'walks', values: d.distribution.map(([, n]) => n) }],
      xLabel: 'VMAs visited',
      yLabel: 'walks',
    }),
}
