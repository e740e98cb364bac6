// The report as Markdown (reads well on a code-hosting site) and as one self-contained HTML page
// (inline CSS and SVG, no script, no network; printable). JSON is the Report object itself.
import { count, escapeHtml, htmlTable, mdTable } from './html'
import type { Provenance, Report } from './model'
import { SECTIONS } from './sections'

const defOf = (id: string) => {
  const d = SECTIONS.find((s) => s.id === id)
  if (d === undefined) throw new Error(`report section ${id} has no renderer`)
  return d
}

const integrityText = (p: Provenance): string =>
  p.integrity.ok
    ? `verified: ${count(p.integrity.events)} events in ${count(p.integrity.blocks)} hash blocks, head ${p.integrity.headHash} (hash version ${p.integrity.hashVersion})`
    : `FAILED at seq ${p.integrity.seq}: ${p.integrity.problem}`

const snapshotsText = (p: Provenance): string =>
  p.snapshots.failures.length === 0
    ? `${count(p.snapshots.checked)} checked against the fold, all match`
    : `${p.snapshots.failures.length} of ${count(p.snapshots.checked)} differ from the fold (first at seq ${p.snapshots.failures[0]!.seq})`

const provenanceRows = (p: Provenance): [string, string][] => [
  ['run', `${p.run} of ${p.db} (uuid ${p.uuid ?? '-'})`],
  ['status', `${p.status}${p.outcome === null ? '' : `, ${p.outcome}`}`],
  ['created', `${p.createdAt}${p.finishedAt === null ? '' : `, finished ${p.finishedAt}`}`],
  ['engine version', `${p.engineVersion} (report by ${p.reportEngineVersion})`],
  ['seed', String(p.seed)],
  ['workload', `${p.workload.name} (${p.workload.source}), sha256 ${p.workload.sha256}`],
  [
    'variants',
    Object.keys(p.variants).length === 0
      ? 'the defaults (the kernel’s design)'
      : Object.entries(p.variants)
          .map(([k, v]) => `${k}=${v}`)
          .join(', '),
  ],
  ['configuration', JSON.stringify(p.config)],
  ['schedule strategy', p.strategy],
  [
    'lineage',
    p.lineage === null ? 'simulated from its workload' : `${p.lineage.derivation} of run ${p.lineage.parentRun}${p.lineage.forkSeq === null ? '' : ` at seq ${p.lineage.forkSeq}`}`,
  ],
  ['events', `${count(p.events)}, ${count(p.decisions)} schedule decisions, ${count(p.simulatedNs)} ns simulated`],
  ['identity digest', p.digest ?? '-'],
  ['head hash', p.headHash],
  ['integrity', integrityText(p)],
  ['snapshots', snapshotsText(p)],
]

const invariantRows = (r: Report): string[][] =>
  r.invariants.results.map((i) => [i.name, i.kind, i.passed ? 'passed' : `FAILED at seq ${i.firstSeq}${i.failures > 1 ? ` (${count(i.failures)} events)` : ''}`, i.message ?? ''])

const verdict = (r: Report): string => {
  const failed = r.invariants.results.filter((i) => !i.passed).length
  const ok = r.provenance.integrity.ok && r.provenance.snapshots.failures.length === 0
  return `${ok ? 'Integrity verified' : 'INTEGRITY FAILED'}; ${failed === 0 ? `all ${r.invariants.results.length} invariants hold` : `${failed} of ${r.invariants.results.length} invariants FAIL`}; ${count(r.invariants.recordedTotal)} findings recorded by the run.`
}

export const renderMarkdown = (r: Report): string => {
  const p = r.provenance
  let out = `# mmsim audit report: run ${p.run}, workload ${p.workload.name}\n\n**${verdict(r)}**\n\n## Provenance\n\n`
  out += mdTable(
    ['field', 'value'],
    provenanceRows(p).map(([k, v]) => [k, v.includes('{') ? `\`${v}\`` : v]),
  )
  for (const s of r.sections) out += `\n## ${s.title}\n\n${defOf(s.id).markdown(s.data)}`
  out += `\n## Invariants\n\nChecked on the state at seq ${r.invariants.atSeq} (first failure located) and, for event monitors, on every event.\n\n`
  out += mdTable(['invariant', 'kind', 'result', 'message'], invariantRows(r))
  for (const i of r.invariants.results.filter((x) => !x.passed)) out += `\n\`${i.name}\` — shown by:\n\n${i.commands.map((c) => `    ${c}`).join('\n')}\n`
  if (r.invariants.recordedTotal > 0) {
    out += `\n**Findings recorded by the run**: ${count(r.invariants.recordedTotal)}\n\n`
    out += mdTable(
      ['seq', 'invariant', 'message'],
      r.invariants.recorded.map((v) => [v.seq, v.name, v.message]),
    )
    if (r.invariants.recordedTotal > r.invariants.recorded.length) out += `\n(the first ${r.invariants.recorded.length}; \`mmsim events --type InvariantViolated\` lists all)\n`
  }
  return out
}

const CSS = `body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:2px 6px;font-size:.85rem;text-align:left;overflow-wrap:anywhere}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}code,pre{font-size:.85rem}
.ok{color:#1a7f37}.bad{color:#c62828;font-weight:bold}svg.chart{display:block;margin:.5rem 0;max-width:100%;height:auto}
section{break-inside:avoid-page}@media print{body{max-width:none}a{color:inherit}}`

export const renderHtml = (r: Report): string => {
  const p = r.provenance
  const ok = p.integrity.ok && p.snapshots.failures.length === 0 && r.invariants.results.every((i) => i.passed)
  let body = `<h1>mmsim audit report: run ${p.run}, workload ${escapeHtml(p.workload.name)}</h1>`
  body += `<p class="${ok ? 'ok' : 'bad'}">${escapeHtml(verdict(r))}</p>`
  body += `<nav><a href="#provenance">Provenance</a> · ${r.sections.map((s) => `<a href="#${s.id}">${escapeHtml(s.title)}</a>`).join(' · ')} · <a href="#invariants">Invariants</a></nav>`
  body += `<section id="provenance"><h2>Provenance</h2>${htmlTable(['field', 'value'], provenanceRows(p))}</section>`
  for (const s of r.sections) body += `<section id="${s.id}"><h2>${escapeHtml(s.title)}</h2>${defOf(s.id).html(s.data)}</section>`
  body += `<section id="invariants"><h2>Invariants</h2><p>Checked on the state at seq ${r.invariants.atSeq} (first failure located) and, for event monitors, on every event.</p>`
  body += htmlTable(['invariant', 'kind', 'result', 'message'], invariantRows(r))
  for (const i of r.invariants.results.filter((x) => !x.passed)) body += `<p><code>${escapeHtml(i.name)}</code> is shown by:</p><pre>${i.commands.map(escapeHtml).join('\n')}</pre>`
  if (r.invariants.recordedTotal > 0)
    body +=
      `<h3>Findings recorded by the run: ${count(r.invariants.recordedTotal)}</h3>` +
      htmlTable(
        ['seq', 'invariant', 'message'],
        r.invariants.recorded.map((v) => [v.seq, v.name, v.message]),
      )
  body += '</section>'
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>mmsim report: run ${p.run}</title><style>${CSS}</style></head><body>${body}</body></html>\n`
}
