// A report of each example workload in all three formats: the JSON decodes with the report codec
// and has the sections of the mechanisms the workload uses, the Markdown and HTML carry the same
// verdict. The three large examples are reported on their first 5,000 simulator steps, the 32 GiB one
// not at all (below). The Markdown and HTML are rendered from the JSON the command printed (the
// renderers are pure functions of it).
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { describe, expect, it } from 'vitest'
import { Report, renderHtml, renderMarkdown } from '../report'
import { ROOT } from './built'
import { cli, tmpDir } from './helpers'

const LARGE = new Set(['default.json', 'gph-host-pressure-4g.json', 'aeration-isolation.json'])
/**
 * Left out: a 32 GiB guest, whose report spends over a minute checking the state invariants over
 * 8M frames (the sections themselves cost little). page-reporting.json reports the same mechanism.
 */
const HUGE = new Set(['reporting-idle-32g.json'])
const examples = fs
  .readdirSync(path.join(ROOT, 'workloads'))
  .filter((f) => f.endsWith('.json') && !HUGE.has(f))
  .sort()

describe('a report of each example workload', () => {
  const db = path.join(tmpDir(), 'examples.db')
  examples.forEach((file, i) =>
    it(`${file}: json, md and html`, async () => {
      const w = JSON.parse(fs.readFileSync(path.join(ROOT, 'workloads', file), 'utf8')) as {
        machine: { guestPageHinting?: boolean }
        variants?: { reporting?: string }
        ops: { op: string }[]
      }
      const run = await cli('run', '--db', db, '--workload', path.join(ROOT, 'workloads', file), '--no-progress', ...(LARGE.has(file) ? ['--steps-max', '5000'] : []))
      expect(run.code).toBeLessThan(2)
      const runId = String(i + 1)
      const json = await cli('report', '--db', db, '--run', runId, '--format', 'json')
      expect(json.code).toBeLessThan(2)
      const decoded = Report.decode(JSON.parse(json.out))
      expect(E.isRight(decoded)).toBe(true)
      const r = JSON.parse(json.out) as Report
      expect(r.provenance.workload.source).toContain(file)
      expect(r.provenance.integrity.ok).toBe(true)
      const ids = r.sections.map((s) => s.id)
      expect(ids[0]).toBe('buddy')
      expect(ids.includes('hinting')).toBe(w.machine.guestPageHinting === true)
      if (w.ops.some((o) => o.op === 'rmap')) expect(ids).toContain('rmap')
      // Isolation ops may sit inside a repeat: look for them anywhere in the workload.
      // (a large example's first steps may end before its isolation op).
      const isolates = /"op":"(hot-remove|contig-alloc)"/.test(JSON.stringify(w.ops))
      if (LARGE.has(file)) expect(isolates || !ids.includes('isolation')).toBe(true)
      else expect(ids.includes('isolation')).toBe(isolates)
      expect(ids.includes('reporting')).toBe((w.variants?.reporting ?? 'off') !== 'off')
      const failing = r.invariants.results.filter((x) => !x.passed).length
      const md = { out: renderMarkdown(r) }
      expect(md.out).toContain(failing === 0 ? `all ${r.invariants.results.length} invariants hold` : `${failing} of ${r.invariants.results.length} invariants FAIL`)
      for (const s of r.sections) expect(md.out).toContain(`\n## ${s.title}\n`)
      const html = { out: renderHtml(r) }
      for (const s of r.sections) expect(html.out).toContain(`<section id="${s.id}">`)
      expect((html.out.match(/<svg class="chart"/g) ?? []).length).toBeGreaterThanOrEqual(3 + (ids.includes('hinting') ? 2 : 0) + (ids.includes('reporting') ? 2 : 0))
    }, 120_000),
  )
})
