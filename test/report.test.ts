// mmsim report: what someone signing off on a run reads. Each figure is checked against what the
// other commands say of the same run (the run summary, events, check, bisect, state), the JSON
// against its versioned codec, and a run whose stored events were altered is reported as such.
import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import * as E from 'fp-ts/Either'
import { beforeAll, describe, expect, it } from 'vitest'
import type { MmEvent } from '../events'
import { Report, REPORT_VERSION, renderMarkdown } from '../report'
import type { BuddyData, HintingData, IsolationData, ReportingData, RmapData } from '../report/sections'
import { ROOT } from './built'
import { cli, tmpDir } from './helpers'
import { dropTriggers, rewriteRow } from './tamper'

const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0)
const section = <D>(r: Report, id: string): D => r.sections.find((s) => s.id === id)!.data as D

const decodeReport = (text: string): Report => {
  const r = Report.decode(JSON.parse(text))
  if (E.isLeft(r)) throw new Error('the report does not decode')
  return r.right as Report
}

describe('the report of a racy hinting run (gph-discard-list, seed 7, discardList=off)', () => {
  let dir: string
  let db: string
  let summary: { events: number; hinting: { transitions: Record<string, number>; discardFaultsPerCpu: number[]; hostDiscards: number } }
  let report: Report
  let events: MmEvent[]

  beforeAll(async () => {
    dir = tmpDir()
    db = path.join(dir, 'races.db')
    const run = await cli(
      'run',
      '--db',
      db,
      '--workload',
      path.join(ROOT, 'workloads/gph-discard-list.json'),
      '--seed',
      '7',
      '--variant',
      'discardList=off',
      '--no-progress',
      '--json',
    )
    expect(run.code).toBe(1)
    summary = JSON.parse(run.out) as typeof summary
    const r = await cli('report', '--db', db, '--format', 'json')
    expect(r.code).toBe(1) // an invariant fails
    report = decodeReport(r.out)
    events = lines((await cli('events', '--db', db, '--json')).out).map((l) => JSON.parse(l) as MmEvent)
  })

  it('is the versioned JSON shape, with the provenance of the run and its integrity verified end to end', () => {
    expect(report.format).toBe('mmsim-report')
    expect(report.version).toBe(REPORT_VERSION)
    const p = report.provenance
    expect(p).toMatchObject({ run: 1, seed: 7, variants: { discardList: 'off' }, strategy: 'random', events: summary.events, status: 'finished' })
    expect(p.workload.name).toBe('gph-discard-list')
    expect(p.workload.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(p.integrity).toMatchObject({ ok: true, events: summary.events })
    expect(p.simulatedNs).toBe(events[events.length - 1]!.t)
  })

  it('the page-state matrix and the discard faults are the run summary’s', () => {
    const h = section<HintingData>(report, 'hinting')
    const fromMatrix: Record<string, number> = {}
    h.states.forEach((from, i) => h.states.forEach((to, j) => h.transitions[i]![j]! > 0 && (fromMatrix[`${from}>${to}`] = h.transitions[i]![j]!)))
    expect(fromMatrix).toEqual(summary.hinting.transitions)
    expect(h.discardFaults.perCpu).toEqual(summary.hinting.discardFaultsPerCpu)
    expect(h.host.discards).toBe(summary.hinting.hostDiscards)
    expect(h.host.series[h.host.series.length - 1]).toMatchObject({ seq: summary.events, discards: summary.hinting.hostDiscards })
  })

  it('allocations and frees count the events that hand blocks to users and back; buddyinfo ends at the zone’s state', async () => {
    const b = section<BuddyData>(report, 'buddy')
    const sum = (m: number[][]) => m.flat().reduce((a, x) => a + x, 0)
    const allocs = events.filter((e) => (e.type === 'PageAllocated' && !e.data.pcp) || e.type === 'PcpAllocated').length
    const frees = events.filter((e) => (e.type === 'PageFreed' && e.data.from === 'page') || e.type === 'PcpFreed').length
    expect(sum(b.allocations)).toBe(allocs)
    expect(sum(b.frees)).toBe(frees)
    expect(allocs).toBeGreaterThan(0)
    const zone = JSON.parse((await cli('state', 'zone', '--db', db, '--json')).out) as { zones: { nrFree: number[] }[] }
    expect(b.buddyinfo.samples[b.buddyinfo.samples.length - 1]!.nrFree).toEqual(zone.zones.map((z) => z.nrFree))
    expect(b.buddyinfo.samples.length).toBeGreaterThan(32)
  })

  it('each invariant is passed or failed at the seq bisect finds, with the commands that show it', async () => {
    const failed = report.invariants.results.filter((i) => !i.passed)
    expect(failed.map((i) => i.name)).toEqual(['hinting.discard-fault-on-reused-frame'])
    const f = failed[0]!
    const bisect = JSON.parse((await cli('bisect', '--db', db, '--invariant', f.name, '--json')).out) as { firstSeq?: number; seq?: number }
    expect(f.firstSeq).toBe(282)
    expect(JSON.stringify(bisect)).toContain('282')
    expect(f.commands[0]).toBe(`mmsim bisect --db ${db} --run 1 --invariant hinting.discard-fault-on-reused-frame`)
    expect(f.commands[1]).toBe(`mmsim state pages --db ${db} --run 1 --at 282`)
    // The commands run as written.
    for (const c of f.commands) expect((await cli(...c.split(' ').slice(1))).code).not.toBe(2)
    expect(report.invariants.results.filter((i) => i.passed).length).toBeGreaterThan(10)
    expect(report.invariants.recordedTotal).toBe(2)
  })

  it('Markdown: headings, the provenance table, the matrix and the failing invariant', async () => {
    const r = await cli('report', '--db', db, '--format', 'md')
    expect(r.out).toMatch(/^# mmsim audit report: run 1, workload gph-discard-list\n/)
    expect(r.out).toContain('**Integrity verified; 1 of')
    expect(r.out).toContain('| from \\ to | Sr | Sp | Sz | Ur | Uz | Vr | Vz | Pr |')
    expect(r.out).toContain('| hinting.discard-fault-on-reused-frame | event | FAILED at seq 282 (2 events) |')
    expect(r.out).toContain('    mmsim bisect --db')
  })

  it('HTML: one file with inline SVG charts and nothing fetched from the network', async () => {
    const out = path.join(dir, 'r.html')
    const r = await cli('report', '--db', db, '--out', out)
    expect(r.code).toBe(1)
    expect(r.out).toBe('')
    const html = fs.readFileSync(out, 'utf8')
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true)
    expect(html.match(/<svg class="chart"/g)!.length).toBeGreaterThanOrEqual(5)
    expect(html).not.toMatch(/<script|<link|src=|url\(/)
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/)
  })

  it('a run whose stored events were altered: integrity FAILED at that seq, and exit 1', async () => {
    const copy = path.join(dir, 'tampered.db')
    fs.copyFileSync(db, copy)
    const h = new Database(copy)
    dropTriggers(h, ['event_batches', 'event_pfns', 'event_blocks', 'schedule'])
    rewriteRow(h, 1, 1000, (row) => ({ ...row, t: row.t + 1 }))
    h.close()
    const r = await cli('report', '--db', copy, '--json')
    expect(r.code).toBe(1)
    const t = decodeReport(r.out)
    expect(t.provenance.integrity).toMatchObject({ ok: false, seq: 1000 })
    const md = await cli('report', '--db', copy, '--format', 'md')
    expect(md.out).toContain('INTEGRITY FAILED')
  })
})

describe('the report of other mechanisms and runs', () => {
  it('rmap walks: VMAs visited per walk (mean, max, distribution) are the RmapWalkFinished events’', async () => {
    const db = path.join(tmpDir(), 'anon.db')
    expect((await cli('run', '--db', db, '--workload', path.join(ROOT, 'workloads/anon-vma-fork.json'), '--no-progress')).code).toBe(0)
    const r = await cli('report', '--db', db, '--json')
    expect(r.code).toBe(0)
    const rm = section<RmapData>(decodeReport(r.out), 'rmap')
    const walks = lines((await cli('events', '--db', db, '--type', 'RmapWalkFinished', '--json')).out).map((l) => (JSON.parse(l) as { data: { visited: number } }).data.visited)
    expect(walks.length).toBeGreaterThan(0)
    expect(rm.walks).toBe(walks.length)
    expect(rm.visitedMax).toBe(Math.max(...walks))
    expect(rm.visitedMean).toBeCloseTo(walks.reduce((a, b) => a + b, 0) / walks.length, 3)
    expect(rm.distribution.reduce((a, [, n]) => a + n, 0)).toBe(walks.length)
  })

  it('page isolation: each attempt with its outcome and errno, the refusals, the pages migrated and offlined, the work, as the events and `state isolation` say', async () => {
    const db = path.join(tmpDir(), 'hot-remove.db')
    expect((await cli('run', '--db', db, '--workload', path.join(ROOT, 'workloads/hot-remove.json'), '--no-progress')).code).toBe(0)
    const r = await cli('report', '--db', db, '--json')
    expect(r.code).toBe(0)
    const report = decodeReport(r.out)
    expect(report.sections.map((x) => x.id)).toEqual(['buddy', 'rmap', 'isolation'])
    const iso = section<IsolationData>(report, 'isolation')
    const evs = (type: string) => async () => lines((await cli('events', '--db', db, '--type', type, '--json')).out).map((l) => JSON.parse(l) as MmEvent)
    const ended = (await evs('IsolationEnded')()) as (MmEvent & { data: { range: number; outcome: string; errno: string | null } })[]
    expect(iso.attempts.first.map((a) => [a.range, a.outcome, a.errno])).toEqual(ended.map((e) => [e.data.range, e.data.outcome, e.data.errno]))
    expect(iso.outcomes).toEqual({ 'hot-remove': { offlined: 1, EBUSY: 1 } })
    const refused = (await evs('IsolationRefused')()) as (MmEvent & { data: { errno: string; reason: string } })[]
    expect(iso.refused.count).toBe(2)
    expect(iso.refused.first.map((x) => [x.seq, x.errno, x.reason])).toEqual(refused.map((e) => [e.seq, e.data.errno, e.data.reason]))
    expect(iso.attempts.first[0]!.migrated).toBe((await evs('PageMigrated')()).length)
    const state = JSON.parse((await cli('state', 'isolation', '--db', db, '--json')).out) as { ranges: { offlined: number; migrated: number }[]; work: Record<string, number> }
    expect(iso.attempts.first.map((a) => [a.offlined, a.migrated])).toEqual(state.ranges.map((x) => [x.offlined, x.migrated]))
    expect(iso.attempts.first[0]!.offlined).toBe(1024)
    expect(iso.work).toEqual(state.work)
    expect(iso.zones.map((z) => z.miscount)).toEqual([0, 0])
    const md = await cli('report', '--db', db, '--format', 'md')
    expect(md.out).toContain('| 1 | 9216-10239 | Normal | migratetype | hot-remove | undone | EBUSY |')
    expect(md.out).toContain('NR_FREE_PAGES equals the non-isolate free lists in every zone')
  })

  it('page isolation with the free path trusting a stale migratetype (Joonsoo Kim 2014): the NR_FREE_PAGES miscount is shown, as `state isolation` and the invariant say', async () => {
    const db = path.join(tmpDir(), 'free-race.db')
    const w = path.join(ROOT, 'workloads/isolation-free-race.json')
    expect((await cli('run', '--db', db, '--workload', w, '--variant', 'freeMtRecheck=off', '--steps-max', '1500', '--no-progress')).code).toBe(1)
    const r = await cli('report', '--db', db, '--json')
    expect(r.code).toBe(1)
    const report = decodeReport(r.out)
    const iso = section<IsolationData>(report, 'isolation')
    const state = JSON.parse((await cli('state', 'isolation', '--db', db, '--json')).out) as { zones: { miscount: number }[] }
    expect(iso.zones[0]!.miscount).toBeGreaterThan(0)
    expect(iso.zones.map((z) => z.miscount)).toEqual(state.zones.map((z) => z.miscount))
    expect(iso.variants.freeMtRecheck).toBe('off')
    expect(report.invariants.results.find((i) => i.name === 'isolation.nr-free-pages')!.passed).toBe(false)
    expect(renderMarkdown(report)).toContain('NR_FREE_PAGES and the free lists DISAGREE')
  })

  it('free page reporting: cycles with pages per phase, the reported share over time ending at `state boundary`’s, host releases and refaults', async () => {
    const db = path.join(tmpDir(), 'aeration.db')
    expect((await cli('run', '--db', db, '--workload', path.join(ROOT, 'workloads/aeration.json'), '--no-progress')).code).toBe(0)
    const r = await cli('report', '--db', db, '--json')
    expect(r.code).toBe(0)
    const rep = section<ReportingData>(decodeReport(r.out), 'reporting')
    const b = JSON.parse((await cli('state', 'boundary', '--db', db, '--json')).out) as {
      passes: number
      reacts: number
      pulledPages: number
      returnedPages: number
      reportedPages: number
      reportablePages: number
      host: { freedPages: number; refaults: number; unbackedPages: number }
    }
    const reacted = lines((await cli('events', '--db', db, '--type', 'ReportingHostReacted', '--json')).out).map((l) => (JSON.parse(l) as { data: { pages: number } }).data.pages)
    expect(rep.mechanism).toBe('aeration')
    expect(rep.cycles.count).toBe(reacted.length)
    expect(rep.cycles.first.map((c) => c.reacted)).toEqual(reacted.slice(0, rep.cycles.first.length))
    for (const c of rep.cycles.first) expect([c.pulled, c.returned]).toEqual([c.reacted, c.reacted])
    expect(rep.pages).toMatchObject({ pulled: b.pulledPages, returned: b.returnedPages, reported: b.reportedPages, reportable: b.reportablePages })
    expect(rep.passes).toBe(b.passes)
    expect(rep.host).toMatchObject({ reacts: b.reacts, freedPages: b.host.freedPages, refaults: b.host.refaults, unbackedPages: b.host.unbackedPages })
    expect(rep.host.refaults).toBeGreaterThan(0)
    const last = rep.series[rep.series.length - 1]!
    expect(last).toMatchObject({ reported: b.reportedPages, reportable: b.reportablePages, refaults: b.host.refaults })
    expect(rep.series.length).toBeGreaterThan(32)
    // The share rises from nothing reported at boot.
    expect(rep.series[0]!.reported).toBe(0)
    expect(Math.max(...rep.series.map((p) => p.reported))).toBeGreaterThan(0)
  })

  it('a run without hinting or anonymous memory has no such sections; a clean run exits 0', async () => {
    const db = path.join(tmpDir(), 'plain.db')
    const w = { version: 1, name: 'plain', machine: { cpus: 2, zones: [{ name: 'Normal', pages: 4096 }] }, ops: [{ op: 'churn', cpu: 0, steps: 500, liveMax: 32 }] }
    const file = path.join(path.dirname(db), 'w.json')
    fs.writeFileSync(file, JSON.stringify(w))
    expect((await cli('run', '--db', db, '--workload', file, '--no-progress')).code).toBe(0)
    const r = await cli('report', '--db', db, '--json')
    expect(r.code).toBe(0)
    expect(decodeReport(r.out).sections.map((s) => s.id)).toEqual(['buddy'])
  })

  it('bad input is exit 2: a run the database does not have, an --out that cannot be written', async () => {
    const db = path.join(tmpDir(), 'plain.db')
    expect((await cli('run', '--db', db, '--workload', path.join(ROOT, 'workloads/gph-discard-list.json'), '--no-progress')).code).toBe(0)
    const missing = await cli('report', '--db', db, '--run', '9')
    expect(missing.code).toBe(2)
    expect(missing.err).toContain('run 9')
    const bad = await cli('report', '--db', db, '--out', path.join(db, 'no', 'such', 'r.html'))
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('--out')
    const fmt = await cli('report', '--db', db, '--format', 'pdf')
    expect(fmt.code).toBe(2)
  })
})
