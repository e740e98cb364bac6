// mmsim export: the Perfetto / Chrome trace validates against the Trace Event Format (phases,
// microsecond timestamps, pid / tid, every slice closed and nested on its track) and says what
// the events say; the CSV parses back into the events and into the zone's free lists.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { MmEvent } from '../events'
import { PID_GUEST, PID_HOST, TID_HOST, type TraceEvent } from '../formats'
import { ROOT } from './built'
import { cli, tmpDir } from './helpers'

const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0)

/** RFC 4180 rows: quoted fields may hold commas, doubled quotes and line breaks. */
const parseCsv = (s: string): string[][] => {
  const rows: string[][] = []
  let row: string[] = []
  let f = ''
  let q = false
  const endField = (): void => {
    row.push(f)
    f = ''
  }
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (q && c === '"' && s[i + 1] === '"') {
      f += '"'
      i++
    } else if (q && c === '"') q = false
    else if (q) f += c
    else if (c === '"') q = true
    else if (c === ',') endField()
    else if (c === '\r' && s[i + 1] === '\n') {
      endField()
      rows.push(row)
      row = []
      i++
    } else f += c
  }
  return rows
}

interface Trace {
  displayTimeUnit: string
  traceEvents: TraceEvent[]
}

const runAndExport = async (workload: string, extra: string[] = []): Promise<{ db: string; trace: Trace; events: MmEvent[] }> => {
  const dir = tmpDir()
  const db = path.join(dir, 'x.db')
  expect((await cli('run', '--db', db, '--workload', path.join(ROOT, 'workloads', workload), '--no-progress', ...extra)).code).toBeLessThan(2)
  const out = path.join(dir, 'trace.json')
  const r = await cli('export', '--db', db, '--format', 'perfetto', '--out', out, '--json')
  expect(r.code).toBe(0)
  const trace = JSON.parse(fs.readFileSync(out, 'utf8')) as Trace
  const events = lines((await cli('events', '--db', db, '--json')).out).map((l) => JSON.parse(l) as MmEvent)
  return { db, trace, events }
}

/** The format's rules, as a viewer applies them. */
const validate = (trace: Trace, events: readonly MmEvent[], cpus: number): void => {
  expect(trace.displayTimeUnit).toBe('ns')
  const times = new Set(events.map((e) => e.t / 1000))
  const open = new Map<string, { ts: number; end: number }[]>()
  for (const e of trace.traceEvents) {
    expect(['X', 'i', 'C', 'M']).toContain(e.ph)
    expect(typeof e.name).toBe('string')
    expect([PID_GUEST, PID_HOST]).toContain(e.pid)
    if (e.ph === 'M') continue
    // Timestamps are microseconds: each is an event's simulated ns / 1000.
    expect(times.has(e.ts!), `ts ${e.ts} is an event's time in µs`).toBe(true)
    if (e.ph === 'C') continue
    expect(Number.isInteger(e.tid)).toBe(true)
    if (e.ph === 'i') expect(['t', 'g']).toContain(e.s)
    if (e.ph === 'X') {
      expect(e.dur).toBeGreaterThanOrEqual(0)
      expect(times.has(e.ts! + e.dur!) || events.some((x) => Math.abs(x.t / 1000 - (e.ts! + e.dur!)) < 1e-6)).toBe(true)
      const k = `${e.pid}/${e.tid}`
      open.set(k, [...(open.get(k) ?? []), { ts: e.ts!, end: e.ts! + e.dur! }])
    }
  }
  // Every slice is closed (a complete event has its duration) and slices on one track nest.
  for (const slices of open.values()) {
    const sorted = [...slices].sort((a, b) => a.ts - b.ts || b.end - a.end)
    const stack: { ts: number; end: number }[] = []
    for (const s of sorted) {
      // A slice that ended before this one starts is done (one ending as this starts, too, unless this has no length).
      const done = (top: { end: number }): boolean => top.end < s.ts || (top.end === s.ts && s.end > s.ts)
      while (stack.length > 0 && done(stack[stack.length - 1]!)) stack.pop()
      if (stack.length > 0) expect(s.end, 'a slice ends inside the one that contains it').toBeLessThanOrEqual(stack[stack.length - 1]!.end)
      stack.push(s)
    }
  }
  const threads = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => `${e.pid}/${e.tid}:${(e.args as { name: string }).name}`)
  expect(threads).toEqual(expect.arrayContaining([`${PID_HOST}/${TID_HOST}:host`, ...Array.from({ length: cpus }, (_, c) => `${PID_GUEST}/${c + 1}:cpu${c}`)]))
}

const named = (trace: Trace, ph: string, name: string | RegExp): TraceEvent[] =>
  trace.traceEvents.filter((e) => e.ph === ph && (typeof name === 'string' ? e.name === name : name.test(e.name)))
const ofType = (events: readonly MmEvent[], type: string): MmEvent[] => events.filter((e) => e.type === type)

describe('mmsim export --format perfetto', () => {
  let host: Awaited<ReturnType<typeof runAndExport>>

  beforeAll(async () => {
    host = await runAndExport('gph-tiny-pcp.json', ['--seed', '3'])
  })

  it('a hinting run: valid trace events, one track per CPU and one for the host', () => {
    const boot = host.events[0] as Extract<MmEvent, { type: 'MachineBooted' }>
    validate(host.trace, host.events, boot.data.cpus)
  })

  it('discard faults and collections are instants, do_discard_fault and page_shrink_discards slices, on the CPU that ran them', () => {
    const faults = ofType(host.events, 'DiscardFault')
    expect(faults.length).toBeGreaterThan(0)
    const instants = named(host.trace, 'i', 'discard fault')
    expect(instants.map((e) => [e.tid, e.ts])).toEqual(faults.map((e) => [e.cpu! + 1, e.t / 1000]))
    expect(named(host.trace, 'X', 'do_discard_fault').length).toBe(ofType(host.events, 'DiscardFaultPinned').length)
    const collections = ofType(host.events, 'DiscardCollectionStarted')
    expect(collections.length).toBeGreaterThan(0)
    expect(named(host.trace, 'i', 'collection').length).toBe(collections.length)
    expect(named(host.trace, 'X', 'page_shrink_discards').length).toBe(collections.length)
    expect(named(host.trace, 'X', 'free_pcppages_bulk').length).toBe(ofType(host.events, 'PcpDrained').length)
    expect(named(host.trace, 'i', 'host discard').every((e) => e.pid === PID_HOST && e.tid === TID_HOST)).toBe(true)
    expect(named(host.trace, 'i', 'host discard').length).toBe(ofType(host.events, 'HostDiscarded').length)
  })

  it('the last free-pages counter is the zone’s free lists at the end of the run', async () => {
    const zone = JSON.parse((await cli('state', 'zone', '--db', host.db, '--json')).out) as { zones: { zone: string; nrFree: number[] }[] }
    for (const z of zone.zones) {
      const cs = named(host.trace, 'C', `${z.zone} free pages per order`)
      expect(cs.length).toBeGreaterThan(10)
      expect(Object.values(cs[cs.length - 1]!.args!)).toEqual(z.nrFree.map((n, o) => n << o))
    }
  })

  it('rmap walks are slices with the VMAs they visited', async () => {
    const anon = await runAndExport('anon-vma-fork.json')
    validate(anon.trace, anon.events, (anon.events[0] as Extract<MmEvent, { type: 'MachineBooted' }>).data.cpus)
    const finished = ofType(anon.events, 'RmapWalkFinished') as Extract<MmEvent, { type: 'RmapWalkFinished' }>[]
    expect(finished.length).toBeGreaterThan(0)
    const slices = named(anon.trace, 'X', /^rmap_walk_anon \(/)
    expect(slices.map((s) => (s.args as { visited: number }).visited)).toEqual(finished.map((e) => e.data.visited))
  })

  it('free page reporting: the reported (aerated) share of free memory is a counter track ending at `state boundary`’s; a run without reporting has none', async () => {
    const aer = await runAndExport('page-reporting.json')
    validate(aer.trace, aer.events, (aer.events[0] as Extract<MmEvent, { type: 'MachineBooted' }>).data.cpus)
    const b = JSON.parse((await cli('state', 'boundary', '--db', aer.db, '--json')).out) as { reportedPages: number; reportablePages: number; host: { unbackedPages: number } }
    const share = named(aer.trace, 'C', 'reported share of reportable free memory (%)')
    expect(share.length).toBeGreaterThan(10)
    expect(share.every((e) => e.pid === PID_GUEST)).toBe(true)
    const values = share.map((e) => (e.args as { reported: number }).reported)
    expect(values[0]).toBe(0)
    expect(values[values.length - 1]).toBeCloseTo((100 * b.reportedPages) / b.reportablePages, 1)
    const pages = named(aer.trace, 'C', 'reported and reportable free pages')
    expect(pages[pages.length - 1]!.args).toEqual({ reported: b.reportedPages, reportable: b.reportablePages })
    const unbacked = named(aer.trace, 'C', 'host unbacked pages (released by reporting)')
    expect(unbacked[unbacked.length - 1]!).toMatchObject({ pid: PID_HOST, args: { unbacked: b.host.unbackedPages } })
    expect(named(host.trace, 'C', /share of reportable free memory/)).toEqual([])
  })
})

describe('mmsim export --format csv', () => {
  let db: string
  let events: MmEvent[]

  beforeAll(async () => {
    db = path.join(tmpDir(), 'x.db')
    expect((await cli('run', '--db', db, '--workload', path.join(ROOT, 'workloads/gph-discard-list.json'), '--no-progress')).code).toBe(0)
    events = lines((await cli('events', '--db', db, '--json')).out).map((l) => JSON.parse(l) as MmEvent)
  })

  it('--what events: a header and one row per event, whose data column is the event’s payload', async () => {
    const r = await cli('export', '--db', db, '--format', 'csv', '--what', 'events')
    expect(r.code).toBe(0)
    const rows = parseCsv(r.out)
    expect(rows[0]).toEqual(['seq', 't_ns', 'cpu', 'type', 'cause', 'data'])
    expect(rows.length - 1).toBe(events.length)
    rows.slice(1).forEach((row, i) => {
      const e = events[i]!
      expect(row.slice(0, 5)).toEqual([String(e.seq), String(e.t), e.cpu === null ? '' : String(e.cpu), e.type, e.cause === undefined ? '' : String(e.cause)])
      expect(JSON.parse(row[5]!)).toEqual(e.data)
    })
  })

  it('--what counters --every N: a row per zone every N events and at the last, ending at the zone’s free lists', async () => {
    const r = await cli('export', '--db', db, '--format', 'csv', '--what', 'counters', '--every', '100')
    expect(r.code).toBe(0)
    const rows = parseCsv(r.out)
    expect(rows[0]!.slice(0, 5)).toEqual(['seq', 't_ns', 'zone', 'nr_free_pages', 'free_pages_order_0'])
    expect(rows.slice(1).map((x) => Number(x[0]))).toEqual([...Array.from({ length: Math.floor(events.length / 100) }, (_, i) => (i + 1) * 100), events.length])
    const zone = JSON.parse((await cli('state', 'zone', '--db', db, '--json')).out) as { zones: { nrFreePages: number; nrFree: number[] }[] }
    const last = rows[rows.length - 1]!
    expect(last.slice(3, 15).map(Number)).toEqual([zone.zones[0]!.nrFreePages, ...zone.zones[0]!.nrFree.map((n, o) => n << o)])
  })

  it('bad input is exit 2: no --format, csv without --what, --what with perfetto', async () => {
    for (const args of [[], ['--format', 'csv'], ['--format', 'perfetto', '--what', 'events'], ['--format', 'svg']]) {
      const r = await cli('export', '--db', db, ...args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.err).toMatch(/--format|--what/)
    }
  })
})
