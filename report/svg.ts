// Inline SVG charts for the HTML report: no script, no fonts or styles from the network, so the
// file reads the same offline, in print and in a headless browser. Each chart is an <svg> of class
// "chart" with a <title>, its marks (bars, lines) of class "mark": what the browser test measures.
import { escapeHtml } from './html'

export interface Series {
  readonly name: string
  readonly values: readonly number[]
}

const WIDTH = 720
const HEIGHT = 280
const LEFT = 64
const RIGHT = 150
const TOP = 28
const BOTTOM = 44
/** A qualitative palette that prints distinguishably in grey as well (ColorBrewer Dark2 and Set1). */
const PALETTE = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666', '#e41a1c', '#377eb8', '#4daf4a', '#984ea3']

export const colour = (i: number): string => PALETTE[i % PALETTE.length]!

/** A round axis maximum at or above `v`: 1, 2 or 5 times a power of ten. */
const niceMax = (v: number): number => {
  if (v <= 0) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

const fmt = (v: number): string => (Math.abs(v) >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : Math.abs(v) >= 1e4 ? `${(v / 1e3).toFixed(0)}k` : String(Math.round(v * 100) / 100))

interface ChartText {
  readonly title: string
  readonly series: readonly Series[]
  readonly xLabel: string
  readonly yLabel: string
}

/** The axes, grid, labels and legend around a chart's marks. */
const frame = ({ title, series, xLabel, yLabel }: ChartText, yMax: number, body: string): string => {
  const legend = series.map((s) => s.name)
  const plotH = HEIGHT - TOP - BOTTOM
  let grid = ''
  for (let i = 0; i <= 4; i++) {
    const y = TOP + plotH - (plotH * i) / 4
    grid += `<line x1="${LEFT}" y1="${y}" x2="${WIDTH - RIGHT}" y2="${y}" stroke="#ddd"/><text x="${LEFT - 6}" y="${y + 4}" text-anchor="end">${fmt((yMax * i) / 4)}</text>`
  }
  const keys = legend
    .map(
      (name, i) =>
        `<rect x="${WIDTH - RIGHT + 12}" y="${TOP + i * 16}" width="10" height="10" fill="${colour(i)}"/><text x="${WIDTH - RIGHT + 26}" y="${TOP + i * 16 + 9}">${escapeHtml(name)}</text>`,
    )
    .join('')
  return (
    `<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">` +
    `<title>${escapeHtml(title)}</title><text x="${LEFT}" y="16" font-size="13" font-weight="bold">${escapeHtml(title)}</text>${grid}` +
    `<text x="14" y="${TOP + plotH / 2}" transform="rotate(-90 14 ${TOP + plotH / 2})" text-anchor="middle">${escapeHtml(yLabel)}</text>` +
    `<text x="${(LEFT + WIDTH - RIGHT) / 2}" y="${HEIGHT - 6}" text-anchor="middle">${escapeHtml(xLabel)}</text>${body}${keys}</svg>`
  )
}

/** Bars per label, one colour per series, stacked. Labels are shown (thinned when many). */
export const barChart = (o: { title: string; labels: readonly string[]; series: readonly Series[]; xLabel: string; yLabel: string }): string => {
  const n = o.labels.length
  const plotW = WIDTH - LEFT - RIGHT
  const plotH = HEIGHT - TOP - BOTTOM
  const totals = o.labels.map((_, i) => o.series.reduce((a, s) => a + (s.values[i] ?? 0), 0))
  const yMax = niceMax(Math.max(0, ...totals))
  const slot = plotW / Math.max(1, n)
  const barW = Math.max(1, slot * 0.8)
  const labelEvery = Math.max(1, Math.ceil(n / 24))
  let body = ''
  for (let i = 0; i < n; i++) {
    const x = LEFT + i * slot + (slot - barW) / 2
    let base = TOP + plotH
    o.series.forEach((s, k) => {
      const v = s.values[i] ?? 0
      if (v <= 0) return
      const h = (plotH * v) / yMax
      base -= h
      body += `<rect class="mark" x="${x.toFixed(1)}" y="${base.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${colour(k)}"><title>${escapeHtml(`${o.labels[i]}: ${s.name} ${v}`)}</title></rect>`
    })
    if (i % labelEvery === 0) body += `<text x="${(LEFT + i * slot + slot / 2).toFixed(1)}" y="${TOP + plotH + 14}" text-anchor="middle">${escapeHtml(o.labels[i]!)}</text>`
  }
  return frame(o, yMax, body)
}

/** One polyline per series over a shared x (seq or time), with the first and last x labelled. */
export const lineChart = (o: { title: string; x: readonly number[]; series: readonly Series[]; xLabel: string; yLabel: string }): string => {
  const plotW = WIDTH - LEFT - RIGHT
  const plotH = HEIGHT - TOP - BOTTOM
  const x0 = o.x[0] ?? 0
  const x1 = o.x[o.x.length - 1] ?? 1
  const span = x1 > x0 ? x1 - x0 : 1
  const yMax = niceMax(Math.max(0, ...o.series.flatMap((s) => s.values)))
  const px = (x: number): string => (LEFT + (plotW * (x - x0)) / span).toFixed(1)
  const py = (y: number): string => (TOP + plotH - (plotH * y) / yMax).toFixed(1)
  let body = ''
  o.series.forEach((s, k) => {
    // A single sample is drawn as a short flat line so that it has an extent.
    const pts = o.x.length === 1 ? [`${LEFT},${py(s.values[0] ?? 0)}`, `${LEFT + plotW},${py(s.values[0] ?? 0)}`] : o.x.map((x, i) => `${px(x)},${py(s.values[i] ?? 0)}`)
    body += `<polyline class="mark" fill="none" stroke="${colour(k)}" stroke-width="1.5" points="${pts.join(' ')}"><title>${escapeHtml(s.name)}</title></polyline>`
  })
  body += `<text x="${LEFT}" y="${TOP + plotH + 14}">${fmt(x0)}</text><text x="${WIDTH - RIGHT}" y="${TOP + plotH + 14}" text-anchor="end">${fmt(x1)}</text>`
  return frame(o, yMax, body)
}
