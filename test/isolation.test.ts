// Page isolation (issue 11): offline_pages' and register_isolation's error codes, the capture of
// freed pages, an offline, an undo that leaves the zone as it was, migration moving a mapped page
// with its mappings, each invariant failing on corrupted state, and the projection rebuilt from
// the database equal to the live one.
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { foldRun } from '../analysis/fold'
import { resolveConfig } from '../engine/config'
import { simulate } from '../engine/run'
import type { MmEvent } from '../events'
import { MIGRATE_ISOLATE } from '../events/codecs'
import { runToStore } from '../hunt/runToStore'
import { Folder, diffStates, isolationInvariants, noAllocInsideIsolated, type MmState } from '../projections'
import { FRAME_ABSENT, FRAME_BUDDY, FRAME_CAPTURED } from '../projections/zone/state'
import { openForRead } from '../storage'
import type { Op, Variants } from '../workload/codec'
import { loadWorkload } from '../workload/load'
import { eventsOfType, runInMemory, tmpDir, workload } from './helpers'

/** Two zones: DMA32 [0, 4096) and Normal [4096, 8192); anonymous pages land at the top of Normal. */
const MACHINE = {
  cpus: 2,
  zones: [
    { name: 'DMA32', pages: 4096 },
    { name: 'Normal', pages: 4096 },
  ],
}
const TOP = 7168

const run = (ops: Op[], variants: Variants = {}, seed = 1) => runInMemory(workload(ops, MACHINE, { variants }), seed)

const ended = (events: MmEvent[]) => eventsOfType(events, 'IsolationEnded').map((e) => [e.data.outcome, e.data.errno])
const refused = (events: MmEvent[]) => eventsOfType(events, 'IsolationRefused').map((e) => e.data.errno)
const findings = (events: MmEvent[]) => eventsOfType(events, 'InvariantViolated').map((e) => e.data.name)

const anonPages = (pages: number): Op[] => [{ op: 'anon', cpu: 0, mm: 1, pages }, { op: 'anon-write', cpu: 0, mm: 1, index: 0, count: pages }, { op: 'barrier' }]

describe('error codes', () => {
  it('-EINVAL: a range not aligned to a pageblock (mainline) or to MAX_ORDER_NR_PAGES (the patch), one spanning zones, one past the machine, one with an offline hole', () => {
    const ops: Op[] = [
      { op: 'hot-remove', cpu: 0, startPfn: 4100, pages: 512 },
      { op: 'hot-remove', cpu: 0, startPfn: 3584, pages: 1024 },
      { op: 'hot-remove', cpu: 0, startPfn: 7680, pages: 1024 },
      { op: 'hot-remove', cpu: 0, startPfn: TOP, pages: 1024 },
      { op: 'hot-remove', cpu: 0, startPfn: TOP, pages: 512 },
    ]
    const { events } = run(ops)
    expect(refused(events)).toEqual(['EINVAL', 'EINVAL', 'EINVAL', 'EINVAL'])
    expect(eventsOfType(events, 'IsolationRefused').map((e) => e.data.reason)).toEqual([
      '[4100, 4612) is not aligned to 512 pages',
      '[3584, 4608) spans zones DMA32 and Normal',
      '[7680, 8704) is not a valid range of frames',
      `[${TOP}, ${TOP + 512}) has a memory hole at ${TOP} (offline)`,
    ])
    // The patch asks for MAX_ORDER_NR_PAGES alignment: half a MAX_ORDER block is refused there only.
    expect(refused(run([{ op: 'hot-remove', cpu: 0, startPfn: 6656, pages: 512 }], { isolation: 'list' }).events)).toEqual(['EINVAL'])
    expect(refused(run([{ op: 'hot-remove', cpu: 0, startPfn: 6656, pages: 512 }]).events)).toEqual([])
  })

  it('-EBUSY: an unmovable page in the range (set_migratetype_isolate), undoing only the pageblocks it isolated', () => {
    const { events } = run([{ op: 'alloc', cpu: 0, mt: 'unmovable', tag: 'k' }, { op: 'barrier' }, { op: 'hot-remove', cpu: 0, startPfn: 6656, pages: 1536 }])
    const kernel = eventsOfType(events, 'PcpAllocated').find((e) => e.data.tag === 'k')!.data.pfn
    expect(kernel).toBeGreaterThanOrEqual(TOP)
    expect(ended(events)).toEqual([['undone', 'EBUSY']])
    // Pageblock 6656 was isolated and given back; the failing block was never isolated.
    expect(eventsOfType(events, 'PageblockIsolated').map((e) => e.data.pfn)).toEqual([6656])
    expect(eventsOfType(events, 'PageblockUnisolated').map((e) => e.data.pfn)).toEqual([6656])
  })

  it('-EBUSY: an overlapping registration (register_isolation) and a pageblock another isolator holds (2c7452a075d4)', () => {
    const overlap: Op[] = [
      { op: 'contig-alloc', cpu: 0, startPfn: 5120, pages: 2048, tag: 'a' },
      { op: 'contig-alloc', cpu: 1, startPfn: 6144, pages: 2048, tag: 'b' },
    ]
    const { events } = run(overlap, {}, 1)
    expect(ended(events).map(([, errno]) => errno)).toContain('EBUSY')
    expect(eventsOfType(events, 'IsolationEnded').find((e) => e.data.errno === 'EBUSY')!.data.reason).toMatch(/already MIGRATE_ISOLATE/)
    const list: Op[] = [
      { op: 'hot-remove', cpu: 0, startPfn: 4096, pages: 2048, retries: 1 },
      { op: 'hot-remove', cpu: 1, startPfn: 5120, pages: 1024 },
    ]
    const patch = run(list, { isolation: 'list', listFreeHot: 'bypass' }).events
    const r = eventsOfType(patch, 'IsolationRefused')
    expect(r.map((e) => e.data.errno)).toEqual(['EBUSY'])
    expect(r[0]!.data.reason).toMatch(/^\[\d+, \d+\) overlaps registered range 0 \[\d+, \d+\)$/)
  })

  it('-EAGAIN: pages that do not move before the timeout (the patch with its per-CPU hole: every migration target is a page just freed into the range)', () => {
    // Per-CPU lists that hold pages (high 24), as a larger zone's would.
    const pcp = { ...MACHINE, pcpBatch: 4, pcpHigh: 24 }
    const ops: Op[] = [...anonPages(32), { op: 'hot-remove', cpu: 0, startPfn: TOP, pages: 1024, timeoutNs: 2_000_000 }]
    const { events } = runInMemory(workload(ops, pcp, { variants: { isolation: 'list' } }))
    expect(ended(events)).toEqual([['undone', 'EAGAIN']])
    expect(findings(events)).toContain('isolation.no-alloc-inside')
    // bypass frees such a page straight into the capture: the same offline succeeds.
    const bypass = runInMemory(workload(ops, pcp, { variants: { isolation: 'list', listFreeHot: 'bypass' } })).events
    expect(ended(bypass)).toEqual([['offlined', null]])
    expect(findings(bypass)).toEqual([])
  })

  it('-EBUSY after the drain: the patch registers a range with a kernel page in it, which no migration moves (test_pages_isolated)', () => {
    const { events, result } = run([{ op: 'alloc', cpu: 0, mt: 'unmovable', tag: 'k' }, { op: 'barrier' }, { op: 'hot-remove', cpu: 0, startPfn: TOP, pages: 1024 }], {
      isolation: 'list',
      listFreeHot: 'bypass',
    })
    expect(ended(events)).toEqual([['undone', 'EBUSY']])
    expect(eventsOfType(events, 'IsolationEnded')[0]!.data.reason).toMatch(/not isolated after the drain/)
    // free_all_isolated_pages gave every captured page back.
    expect(eventsOfType(events, 'IsolatedPageReleased').length).toBe(1023)
    expect(result.state.zone.zones[1]!.capturedPages).toBe(0)
    expect(findings(events)).toEqual([])
  })
})

describe('capture, offline, undo', () => {
  it('the patch captures a page freed inside a registered range before it reaches free_area[]', () => {
    const { events, result } = run(
      [
        { op: 'alloc', cpu: 0, order: 3, tag: 'p' },
        { op: 'barrier' },
        { op: 'hot-remove', cpu: 0, startPfn: TOP, pages: 1024, retries: 50, retryWaitNs: 1_000_000 },
        { op: 'free', cpu: 1, tag: 'p' },
      ],
      { isolation: 'list' },
    )
    const freed = eventsOfType(events, 'PageCaptured').filter((e) => e.data.from === 'page')
    expect(freed.map((e) => e.data.order)).toEqual([3])
    expect(eventsOfType(events, 'PageFreed').filter((e) => e.data.pfn >= TOP && e.data.from === 'page')).toEqual([])
    expect(ended(events)).toEqual([['offlined', null]])
    expect(result.state.isolation.work.freesSearched).toBeGreaterThan(0)
  })

  it('an offline takes every page of the range out of the zone: frames absent, managed pages down by the range', () => {
    const { events, result } = run([...anonPages(64), { op: 'hot-remove', cpu: 0, startPfn: TOP, pages: 1024 }])
    expect(ended(events)).toEqual([['offlined', null]])
    const s = result.state
    expect(s.zone.zones[1]!.managed).toBe(3072)
    for (let p = TOP; p < 8192; p++) expect(s.zone.frame[p]).toBe(FRAME_ABSENT)
    expect(eventsOfType(events, 'PageMigrated').length).toBe(64)
    expect(findings(events)).toEqual([])
  })

  it('an undo leaves the zone as before the attempt: free lists per order and migratetype, NR_FREE_PAGES, pageblock types (one CPU)', () => {
    const ops: Op[] = [...anonPages(16), { op: 'alloc', cpu: 0, mt: 'unmovable', tag: 'k' }, { op: 'hot-remove', cpu: 0, startPfn: 6144, pages: 2048 }]
    for (const variants of [{}, { isolation: 'list', listFreeHot: 'bypass' }] as Variants[]) {
      const w = workload(ops, { ...MACHINE, cpus: 1 }, { variants })
      const events: MmEvent[] = []
      simulate({ workload: w, seed: 1, config: resolveConfig(), sink: { append: (e) => events.push(e) } })
      const before = events.find((e) => e.type === 'IsolationRegistered')!.seq - 1
      const end = events.find((e) => e.type === 'IsolationEnded')!
      expect(end.type === 'IsolationEnded' && end.data.errno).toBe('EBUSY')
      const at = (seq: number): MmState => {
        const f = new Folder()
        for (const e of events) if (e.seq <= seq) f.apply(e)
        return f.current!
      }
      const a = at(before)
      // The list design gives its pages back through the per-CPU lists: fold until the last is freed.
      const b = at(events[events.length - 1]!.seq)
      expect([...b.zone.pageblockMt]).toEqual([...a.zone.pageblockMt])
      expect(b.zone.zones.map((z) => [z.nrFreePages + z.pcpPages, z.nrIsolatePageblock, z.capturedPages])).toEqual(
        a.zone.zones.map((z) => [z.nrFreePages + z.pcpPages, z.nrIsolatePageblock, 0]),
      )
      expect(b.zone.freeLen.filter((_, i) => i % 5 === MIGRATE_ISOLATE).every((n) => n === 0)).toBe(true)
      expect(isolationInvariants.map((inv) => inv.check(b))).toEqual(isolationInvariants.map(() => null))
    }
  })
})

describe('migration', () => {
  it('a page mapped by two processes (after fork) moves out of the range and both ptes and its anon_vma follow it', () => {
    const ops: Op[] = [...anonPages(8), { op: 'fork', cpu: 0, parent: 1, child: 2 }, { op: 'barrier' }, { op: 'hot-remove', cpu: 1, startPfn: TOP, pages: 1024 }]
    const { events, result } = run(ops)
    const moved = eventsOfType(events, 'PageMigrated')
    expect(moved.length).toBe(8)
    const s = result.state
    for (const m of moved) {
      expect(m.data.to).toBeLessThan(TOP)
      for (const mm of [1, 2]) expect([...s.mms.mms.get(mm)!.ptes.values()].filter((p) => p.pfn === m.data.to).length).toBe(1)
      expect(s.anonVma.mapcount[m.data.to]).toBe(2)
      expect(s.anonVma.mapping[m.data.from]).toBe(-1)
    }
    // remove_migration_ptes' walk found both.
    const walks = eventsOfType(events, 'RmapWalkFinished').filter((e) => moved.some((m) => m.data.to === e.data.pfn))
    expect(walks.map((w) => w.data.found.length)).toEqual(new Array(8).fill(2))
    expect(findings(events)).toEqual([])
  })
})

describe('invariants fail on corrupted state', () => {
  const state = (): MmState => run([...anonPages(16), { op: 'hot-remove', cpu: 0, startPfn: TOP, pages: 1024 }]).result.state
  const failing = (s: MmState): string[] => isolationInvariants.filter((inv) => inv.check(s) !== null).map((inv) => inv.name)

  it('an intact state passes them all', () => expect(failing(state())).toEqual([]))
  it('isolation.nr-free-pages: NR_FREE_PAGES off by one', () => {
    const s = state()
    s.zone.zones[1]!.nrFreePages++
    expect(failing(s)).toEqual(['isolation.nr-free-pages'])
  })
  it('isolation.nr-isolate-pageblock: a pageblock counted twice', () => {
    const s = state()
    s.zone.zones[0]!.nrIsolatePageblock++
    expect(failing(s)).toEqual(['isolation.nr-isolate-pageblock'])
  })
  it('isolation.free-list-migratetype: a pageblock made ISOLATE under free pages on the MOVABLE list', () => {
    const s = state()
    s.zone.pageblockMt[0] = MIGRATE_ISOLATE
    s.zone.zones[0]!.nrIsolatePageblock++
    expect(failing(s)).toEqual(['isolation.free-list-migratetype'])
  })
  it('isolation.pages-accounted: a frame of an offlined range back in use, a captured frame no range lists', () => {
    const s = state()
    s.zone.frame[TOP] = FRAME_BUDDY
    expect(failing(s)).toEqual(['isolation.pages-accounted'])
    const t = state()
    t.zone.frame[0] = FRAME_CAPTURED
    expect(failing(t)).toEqual(['isolation.pages-accounted'])
  })
  it('isolation.no-alloc-inside: an allocation inside a range that is isolated', () => {
    const { events } = run([...anonPages(16), { op: 'hot-remove', cpu: 0, startPfn: TOP, pages: 1024 }])
    const f = new Folder()
    const isolatedAt = eventsOfType(events, 'RangeIsolated')[0]!.seq
    for (const e of events) if (e.seq <= isolatedAt) f.apply(e)
    const alloc: MmEvent = { seq: isolatedAt + 1, t: 0, cpu: 0, type: 'PcpAllocated', data: { zone: 1, pfn: TOP + 100, mt: 1 } }
    expect(noAllocInsideIsolated.check(f.current!, alloc)?.message).toBe(`PcpAllocated returned 1 page(s) at ${TOP + 100}, inside isolated range 0`)
    expect(noAllocInsideIsolated.check(f.current!, { ...alloc, data: { zone: 1, pfn: 100, mt: 1 } })).toBeNull()
  })
})

describe('the store', () => {
  it('hot-remove.json (both designs) folded back from the database equals the live state, the isolation projection included', async () => {
    for (const variants of [{}, { isolation: 'list', listFreeHot: 'bypass' }] as Variants[]) {
      const w = { ...loadWorkload('workloads/hot-remove.json'), variants }
      const db = path.join(tmpDir(), 'iso.db')
      const config = resolveConfig()
      const s = await runToStore({ workload: w, workloadSource: 'hot-remove.json', seed: 1, db, config, snapshotEvery: 4096 })
      const live = simulate({ workload: w, seed: 1, config, sink: { append: () => undefined } })
      const conn = openForRead(db)
      try {
        const folded = foldRun(conn, db, s.runId)
        expect(diffStates(live.state, folded.state)).toEqual([])
        expect(folded.state.isolation.ranges.size).toBe(2)
      } finally {
        conn.close()
      }
    }
  })
})
