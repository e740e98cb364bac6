// mmsim import: real captured /proc files and kmem traces (test/fixtures/proc, test/fixtures/ftrace;
// their sources are in test/fixtures/README.md) become workloads; a booted import has exactly the
// recorded free lists, a replayed trace says how it compares with the recording, and a file that
// is not what it should be is a clear error (exit 2).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { importFtrace, parseTraceLine } from '../formats/ftrace'
import { parseBuddyinfo, parsePagetypeinfo } from '../formats/procZone'
import { ROOT } from './built'
import { cli, tmpDir } from './helpers'

const fixture = (...p: string[]): string => path.join(ROOT, 'test', 'fixtures', ...p)

/** The numbers of each row of a /proc file, by its label ("Node 0, zone DMA32" or with ", type Movable"). */
const rows = (text: string): Map<string, number[]> =>
  new Map(
    text
      .split('\n')
      .map((l) => /^(Node\s+\d+,\s+zone\s+\S+(?:,\s+type\s+\S+)?)\s+([\d\s]+)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!.replace(/\s+/g, ' '), m[2]!.trim().split(/\s+/).map(Number)]),
  )

/** Imports, runs the workload (its boot only: no ops) and returns `mmsim state zone` at its end. */
const bootImported = async (args: string[], format: 'buddyinfo' | 'pagetypeinfo'): Promise<{ state: string; out: string; end: number }> => {
  const dir = tmpDir()
  const w = path.join(dir, 'booted.json')
  const imp = await cli('import', 'buddyinfo', ...args, '--out', w)
  expect(imp.code).toBe(0)
  const db = path.join(dir, 'x.db')
  const run = await cli('run', '--db', db, '--workload', w, '--no-progress', '--json')
  expect(run.code).toBe(0)
  const summary = JSON.parse(run.out) as { events: number; invariants: { violations: number } }
  const end = summary.events
  // The booted zone passes every state invariant (buddy structure, counts, no mergeable buddies).
  expect(summary.invariants.violations).toBe(0)
  const state = await cli('state', 'zone', '--db', db, '--at', String(end), '--format', format)
  return { state: state.out, out: imp.out, end }
}

describe('mmsim import buddyinfo', () => {
  it('the man-pages proc_buddyinfo(5) sample: at the end of boot, state zone prints the same buddyinfo', async () => {
    const file = fixture('proc', 'man-proc_buddyinfo.5.buddyinfo')
    const { state } = await bootImported([file], 'buddyinfo')
    expect(rows(state)).toEqual(rows(fs.readFileSync(file, 'utf8')))
  })

  it('with the same machine’s pagetypeinfo: free blocks per migratetype and pageblocks per migratetype as recorded', async () => {
    const file = fixture('proc', 'notes-x86-64.pagetypeinfo')
    const { state, out } = await bootImported([fixture('proc', 'notes-x86-64.buddyinfo'), '--pagetypeinfo', file], 'pagetypeinfo')
    const want = rows(fs.readFileSync(file, 'utf8'))
    const got = rows(state)
    expect(want.size).toBe(18) // 15 free-list rows and 3 pageblock rows
    for (const [label, counts] of want) expect(got.get(label), label).toEqual(counts)
    // The two files were read at different moments: the import says which it kept.
    expect(out).toContain('note: zone Normal: the buddyinfo and pagetypeinfo counts differ')
  })

  it('a file that is not /proc/buddyinfo, a missing file, an unknown page block order: exit 2 naming the file', async () => {
    const trace = fixture('ftrace', 'highatomic-2020.trace')
    const r = await cli('import', 'buddyinfo', trace)
    expect(r.code).toBe(2)
    expect(r.err).toContain(`${trace}:1: not a /proc/buddyinfo line`)
    const missing = await cli('import', 'buddyinfo', path.join(tmpDir(), 'nope'))
    expect(missing.code).toBe(2)
    expect(missing.err).toContain('cannot read it (ENOENT)')
    const pti = path.join(tmpDir(), 'arm64.pagetypeinfo')
    fs.writeFileSync(pti, fs.readFileSync(fixture('proc', 'notes-x86-64.pagetypeinfo'), 'utf8').replace('Page block order: 9', 'Page block order: 13'))
    const arm = await cli('import', 'buddyinfo', fixture('proc', 'notes-x86-64.buddyinfo'), '--pagetypeinfo', pti)
    expect(arm.code).toBe(2)
    expect(arm.err).toContain('page block order 13')
  })

  it('free areas that cannot boot without merging, or name no zone, are refused with their JSON path', async () => {
    const dir = tmpDir()
    const w = path.join(dir, 'w.json')
    const base = { version: 1, name: 'x', machine: { cpus: 1, zones: [{ name: 'Normal', pages: 2048 }] }, ops: [] }
    // Two free order-10 blocks fill the zone: fine. Four order-9 blocks are two pairs of buddies
    // that __free_one_page would merge, and nothing else fits.
    for (const [free, code] of [
      [{ Movable: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2] }, 0],
      [{ Movable: [0, 0, 0, 0, 0, 0, 0, 0, 0, 4] }, 2],
    ] as const) {
      fs.writeFileSync(w, JSON.stringify({ ...base, machine: { ...base.machine, freeAreas: [{ zone: 'Normal', free }] } }))
      const r = await cli('run', '--db', path.join(dir, 'x.db'), '--workload', w, '--no-progress')
      expect(r.code, JSON.stringify(free)).toBe(code)
      if (code === 2) expect(r.err).toContain('$.machine.freeAreas[0]: zone Normal (2048 pages): its free lists need 8 pageblocks, the zone has 4')
    }
    fs.writeFileSync(w, JSON.stringify({ ...base, machine: { ...base.machine, freeAreas: [{ zone: 'DMA', free: { Movable: [1] } }] } }))
    const r = await cli('run', '--db', path.join(dir, 'x.db'), '--workload', w, '--no-progress')
    expect(r.code).toBe(2)
    expect(r.err).toContain('$.machine.freeAreas[0].zone')
  })

  it('recorded pageblocks too few for the free blocks: the zone is sized to fit them, and the import says so', async () => {
    const dir = tmpDir()
    const pti = path.join(dir, 'few.pagetypeinfo')
    fs.writeFileSync(pti, fs.readFileSync(fixture('proc', 'notes-x86-64.pagetypeinfo'), 'utf8').replace(/(Node 0, zone\s+DMA32\s+14\s+)1096/, '$1100'))
    const r = await cli('import', 'buddyinfo', fixture('proc', 'notes-x86-64.buddyinfo'), '--pagetypeinfo', pti, '--out', path.join(dir, 'w.json'), '--json')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.out) as { zones: { zone: string; pageblocksKept: boolean }[]; notes: string[] }
    expect(out.zones.map((z) => [z.zone, z.pageblocksKept])).toEqual([
      ['DMA', true],
      ['DMA32', false],
      ['Normal', true],
    ])
    expect(out.notes).toContain('zone DMA32: its free blocks do not fit in the recorded pageblocks without merging; the zone is sized to fit them')
  })

  it('parses the kernel’s own format, as mmsim state zone prints it', () => {
    expect(parseBuddyinfo(fixture('proc', 'man-proc_buddyinfo.5.buddyinfo')).map((z) => [z.zone, z.counts[10]])).toEqual([
      ['DMA', 3],
      ['DMA32', 404],
      ['Normal', 587],
    ])
    const p = parsePagetypeinfo(fixture('proc', 'notes-x86-64.pagetypeinfo'))
    expect(p.pageblockOrder).toBe(9)
    expect(p.blocks.find((b) => b.zone === 'Normal')!.byType).toEqual({ Unmovable: 170, Movable: 6460, Reclaimable: 392, HighAtomic: 2, Isolate: 0 })
  })
})

describe('mmsim import ftrace', () => {
  it('reads the line formats of trace, trace-cmd report, perf and function_graph, old and new', () => {
    expect(
      parseTraceLine(1, '  <...>-22275 [006] ....   889.213383: mm_page_alloc: page=00000000d2be5665 pfn=970744 order=0 migratetype=0 gfp_flags=GFP_HIGHUSER|__GFP_ZERO'),
    ).toMatchObject({
      cpu: 6,
      event: 'mm_page_alloc',
      fields: { pfn: '970744', order: '0', migratetype: '0' },
    })
    expect(
      parseTraceLine(1, '  gnome-terminal-1567  [000]  4415.246506: mm_page_alloc: page=ffffea0003db9f40 pfn=1155800 order=0 migratetype=0 gfp_flags=GFP_KERNEL'),
    ).toMatchObject({ cpu: 0, fields: { pfn: '1155800' } })
    expect(parseTraceLine(1, '    kworker/10:1-440     [010] .....   355.369905: mm_page_free: page=00000000dc8c03bd pfn=0x182190 order=2')).toMatchObject({
      cpu: 10,
      event: 'mm_page_free',
      fields: { pfn: '0x182190', order: '2' },
    })
    expect(parseTraceLine(1, 'kswapd0-1207  [005] ...1   889.213398: mm_page_alloc: page= (null) pfn=0 order=0 migratetype=1')).toMatchObject({ fields: { page: '(null)' } })
    expect(
      parseTraceLine(
        1,
        ' 1287587.105144 |   1)               |  /* mm_page_alloc: page=0000000082b1fe73 pfn=1704824 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO */',
      ),
    ).toMatchObject({
      cpu: 1,
      event: 'mm_page_alloc',
      fields: { pfn: '1704824' },
    })
    expect(parseTraceLine(1, 'Node 0, zone      DMA      1      1')).toBeNull()
  })

  it('a recording of 2010 (mm_page_free_direct, no flags column): frees of blocks allocated before it, or twice, are counted, not fatal', () => {
    const r = importFtrace(fixture('ftrace', 'free-direct-2010.trace'), { name: 't' })
    expect(r.recording).toMatchObject({
      lines: 6,
      allocations: 1,
      frees: 1,
      unusable: { 'a free of a block not allocated in the recording (allocated before it, or freed twice)': 3 },
    })
    expect(r.workload.ops).toEqual([
      { op: 'alloc', cpu: 0, order: 0, mt: 'unmovable', tag: 'L4@0x11a2d8/o0/m0' },
      { op: 'free', cpu: 0, tag: 'L4@0x11a2d8/o0/m0' },
    ])
  })

  it('the replay run says how many came back at the recorded order and migratetype and pfn, and compares fallbacks with extfrag lines', async () => {
    const dir = tmpDir()
    const w = path.join(dir, 'replay.json')
    const imp = await cli('import', 'ftrace', fixture('ftrace', 'highatomic-2020.trace'), '--out', w, '--json')
    expect(imp.code).toBe(0)
    expect(JSON.parse(imp.out)).toMatchObject({ recording: { allocations: 8, frees: 0, extfrag: 0, unusable: { 'a failed allocation (page=(null))': 1 }, pfnsComparable: true } })
    const workload = JSON.parse(fs.readFileSync(w, 'utf8')) as { machine: { cpus: number; zones: { startPfn: number; pages: number }[] } }
    // The guest covers the recorded frames (970196..970745) and has the recorded CPU 6.
    expect(workload.machine.cpus).toBe(7)
    const z = workload.machine.zones[0]!
    expect(z.startPfn).toBeLessThanOrEqual(970196)
    expect(z.startPfn + z.pages).toBeGreaterThan(970745)
    const db = path.join(dir, 'x.db')
    const run = await cli('run', '--db', db, '--workload', w, '--no-progress', '--json')
    expect(run.code).toBe(0)
    const rec = (
      JSON.parse(run.out) as {
        recording: { replayed: number; sameOrderAndMigratetype: number; samePfn: number; failed: number; fallbacks: { simulated: number; recorded: number } }
      }
    ).recording
    expect(rec).toMatchObject({ replayed: 8, sameOrderAndMigratetype: 8, failed: 0, fallbacks: { recorded: 0 } })
    // Unmovable requests on a guest whose pageblocks all boot Movable must fall back, as the
    // recording's (which has none) did not: the comparison shows it.
    expect(rec.fallbacks.simulated).toBeGreaterThan(0)
    const events = await cli('events', '--db', db, '--type', 'FreeBlockMoved,FreepagesMoved', '--json')
    expect(events.out.trim().split('\n')).toHaveLength(rec.fallbacks.simulated)
    const text = await cli('run', '--db', db, '--workload', w, '--no-progress')
    expect(text.out).toContain('allocations      8 of 8 recorded came back; 8 at the recorded order and migratetype')
    // The audit report of the replay has the same comparison, as a section of its own.
    const report = JSON.parse((await cli('report', '--db', db, '--run', '1', '--json')).out) as { sections: { id: string; data: unknown }[] }
    expect(report.sections.find((x) => x.id === 'recording')?.data).toEqual(rec)
  })

  it('a file that is not a trace is exit 2; so is a trace with nothing to replay, saying why', async () => {
    const proc = fixture('proc', 'man-proc_buddyinfo.5.buddyinfo')
    const r = await cli('import', 'ftrace', proc)
    expect(r.code).toBe(2)
    expect(r.err).toContain(`mmsim import ftrace: ${proc}: not an ftrace text trace`)
    const extfrag = await cli('import', 'ftrace', fixture('ftrace', 'extfrag-2016.trace'))
    expect(extfrag.code).toBe(2)
    expect(extfrag.err).toContain('no mm_page_alloc line')
    const iomap = await cli('import', 'ftrace', fixture('ftrace', 'iomap-2023.trace'))
    expect(iomap.code).toBe(2)
    expect(iomap.err).toContain('no mm_page_alloc line')
    const bin = path.join(tmpDir(), 'trace.dat')
    fs.writeFileSync(bin, Buffer.concat([Buffer.from('\x17\x08Dtracing6\x00', 'latin1'), Buffer.alloc(64)]))
    const dat = await cli('import', 'ftrace', bin)
    expect(dat.code).toBe(2)
    expect(dat.err).toContain('trace-cmd report')
  })
})
