// Where the model follows the patch and v4.13 line by line (issue 7 §4 "where the model departs"):
// given a small guest, when one path runs, then exactly the kernel's sequence of events happens.
import { describe, expect, it } from 'vitest'
import { MIGRATE_HIGHATOMIC, type MmEvent } from '../events'
import { drain_pages, free_hot_cold_page } from '../engine/mm/page_free'
import { __alloc_pages, __rmqueue } from '../engine/mm/page_alloc'
import { MAX_RECLAIM_RETRIES } from '../engine/mm/reclaim_retry'
import { MIGRATE_UNMOVABLE } from '../events'
import type { Path } from '../engine/sim/cpu'
import { resolveConfig } from '../engine/config'
import { Run } from '../engine/run'
import { checkInvariants, stateInvariants } from '../projections'
import type { Op } from '../workload/codec'
import { loadWorkload } from '../workload/load'
import { simulate } from '../engine/run'
import { eventsOfType, runInMemory, seeds, workload } from './helpers'

const machine = { cpus: 2, zones: [{ name: 'Normal', pages: 1024 }], guestPageHinting: true, pcpBatch: 4, pcpHigh: 16 }
/** A host that never acts, so that a test decides what is discarded. */
const idleHost = { intervalNs: 1_000_000_000 }
/** Runs a workload to its end and keeps the Run, so that a test can drive a kernel path after it. */
const ranToEnd = (w: ReturnType<typeof workload>, sink: MmEvent[] = []): Run => {
  const run = new Run({ workload: w, seed: 1, config: resolveConfig(), sink: { append: (e) => void sink.push(e) } })
  while (!run.advance()) {
    /* next slice */
  }
  run.finish()
  return run
}

/** Drives a kernel path that never waits (one CPU, nothing contended) to its end. */
const drive = (p: Path): void => {
  while (!p.next().done) {
    /* the next step */
  }
}

const hinting = (ops: Op[], host: object = idleHost, extra: object = {}) => runInMemory(workload(ops, machine, { host, ...extra }))

/** What happened to one frame, as short names: refcounts, flags, states. */
const story = (events: MmEvent[], pfn: number): string[] =>
  events.flatMap((e): string[] => {
    if (!('pfn' in e.data) || e.data.pfn !== pfn) return []
    switch (e.type) {
      case 'PageGot':
      case 'PagePut':
      case 'PageCacheAdded':
        return [e.type]
      case 'PageFlagsChanged':
        return [e.data.why]
      case 'PageStateChanged':
        return [`${e.data.from}>${e.data.to} ${e.data.reason}`]
      default:
        return []
    }
  })

describe('page_cache_read (GPH09 1/6: page_make_volatile(page, 1) in unlock_page)', () => {
  it('drops its own reference once the read is submitted, and the completion offers the page with offset 1', () => {
    const { events } = hinting([{ op: 'read', cpu: 0, file: 7 }])
    const pfn = eventsOfType(events, 'PageCacheAdded')[0]!.data.pfn
    const s = story(events, pfn)
    expect(s.slice(s.indexOf('Uz>Sz arch_alloc_page'), s.indexOf('Uz>Sz arch_alloc_page') + 8)).toEqual([
      'Uz>Sz arch_alloc_page',
      'PageCacheAdded',
      'PageGot', // add_to_page_cache_lru: the caller's reference beside the cache's
      'PagePut', // page_cache_release after readpage, with the I/O in flight
      'Sz>Sr first-touch', // the read's DMA
      'read done: SetPageUptodate, unlock_page',
      'Sr>Vr page_make_volatile', // offset 1: only the page cache holds it
      'PageGot', // find_get_page again, for the copy to user space
    ])
  })
})

describe('writeback holds the references the kernel holds', () => {
  it('pagevec_release drops the lookup reference before the I/O; end of writeback offers the page with offset 1', () => {
    const { events, result } = hinting([
      { op: 'write', cpu: 0, file: 1 },
      { op: 'writeback', cpu: 0, file: 1 },
    ])
    const pfn = eventsOfType(events, 'PageCacheAdded')[0]!.data.pfn
    const s = story(events, pfn)
    expect(s.slice(s.indexOf('clear_page_dirty_for_io, set_page_writeback') - 2)).toEqual([
      'PageGot',
      'lock_page',
      'clear_page_dirty_for_io, set_page_writeback',
      'unlock_page',
      'PagePut',
      'end_page_writeback',
      'Sr>Vr page_make_volatile',
    ])
    expect(result.state.pages!.refcount[pfn]).toBe(1)
  })
})

describe('the writeback-start race with every check of the patch in place', () => {
  it('made volatile when the I/O starts, PG_writeback refuses it: no seed in 1..200 discards a page under writeback', () => {
    const w = loadWorkload('workloads/gph-volatile-at.json')
    const violating = seeds(1, 200).filter((seed) => {
      let found = false
      simulate({
        workload: { ...w, variants: { ...w.variants, volatileAt: 'writeback-start-checked' } },
        seed,
        config: resolveConfig(),
        sink: { append: (e) => void (found ||= e.type === 'InvariantViolated') },
      })
      return found
    })
    expect(violating).toEqual([])
  })
})

describe('the host pages out by the dirty bit (kernel facts §1: Pr -> Vz if clean, Pr -> Sp if dirty)', () => {
  const pageOutOnly = { intervalNs: 500, pagesPerPass: 64, unused: false, volatile: false, pageOut: true, activeFromNs: 8_000, activeUntilNs: 12_000 }
  it('a clean potentially volatile page is discarded, not written out', () => {
    const { events } = hinting(
      [
        { op: 'map', cpu: 0, mm: 1, file: 1, writable: true },
        { op: 'touch', cpu: 0, mm: 1, file: 1 },
        { op: 'idle', cpu: 0, ns: 12_000 },
      ],
      pageOutOnly,
    )
    const pfn = eventsOfType(events, 'PteSet')[0]!.data.pfn
    expect(
      eventsOfType(events, 'HostDiscarded')
        .filter((e) => e.data.pfn === pfn)
        .map((e) => `${e.data.from}>${e.data.to}`),
    ).toEqual(['Pr>Vz'])
    expect(eventsOfType(events, 'HostPagedOut').filter((e) => e.data.pfn === pfn)).toEqual([])
  })
  it('a dirty one is written out (Pr -> Sp)', () => {
    const { events } = hinting(
      [
        { op: 'map', cpu: 0, mm: 1, file: 1, writable: true },
        { op: 'touch', cpu: 0, mm: 1, file: 1, write: true },
        { op: 'idle', cpu: 0, ns: 12_000 },
      ],
      pageOutOnly,
    )
    const pfn = eventsOfType(events, 'PteSet')[0]!.data.pfn
    expect(
      eventsOfType(events, 'HostPagedOut')
        .filter((e) => e.data.pfn === pfn)
        .map((e) => `${e.data.from}>${e.data.to}`),
    ).toEqual(['Pr>Sp'])
  })
})

describe('hot-unplug: the cpus projection holds the only online flag', () => {
  it('the CPU the engine schedules reads its online flag from the projection', () => {
    const w = workload([{ op: 'barrier' }, { op: 'cpu-down', cpu: 0, target: 1 }], { cpus: 2, zones: [{ name: 'Normal', pages: 1024 }] })
    const run = new Run({ workload: w, seed: 1, config: resolveConfig(), sink: { append: () => {} } })
    while (!run.advance()) {
      /* next slice */
    }
    const r = run.finish()
    expect(r.state.cpus.online).toEqual([true, false])
    expect(run.kernel.cpu(1).online).toBe(false)
    // A fold that says otherwise is what the engine sees: there is no second copy to disagree.
    r.state.cpus.online[1] = true
    expect(run.kernel.cpu(1).online).toBe(true)
    expect(checkInvariants(stateInvariants, r.state)).toEqual([])
  })
})

describe('a HIGHATOMIC page through the pcp lists (v4.13 set_pcppage_migratetype)', () => {
  it('sits on the MOVABLE pcp list but goes back to the HighAtomic free list', () => {
    const events: MmEvent[] = []
    const run = ranToEnd(workload([{ op: 'alloc', cpu: 0, order: 0, tag: 'a' }], { cpus: 1, zones: [{ name: 'Normal', pages: 1024 }], pcpBatch: 4, pcpHigh: 8 }), events)
    const k = run.kernel
    const pfn = eventsOfType(events, 'PcpAllocated')[0]!.data.pfn
    const pb = pfn & ~((1 << k.state.zone.pageblockOrder) - 1)
    // Given the page's pageblock reserved as highatomic (reserve_highatomic_pageblock).
    k.emit(k.cpu(0), 'PageblockMigratetypeSet', { zone: 0, pfn: pb, pages: k.state.zone.pageblockPages, mt: MIGRATE_HIGHATOMIC })
    drain_pages(k, k.cpu(0))
    const from = events.length
    // When it is freed and the pcp lists are drained.
    drive(free_hot_cold_page(k, k.cpu(0), pfn, false))
    drain_pages(k, k.cpu(0))
    // Then it was filed on the MOVABLE list with its pcp migratetype, and freed as HIGHATOMIC.
    const after = events.slice(from)
    expect(eventsOfType(after, 'PcpFreed').map((e) => e.data.mt)).toEqual([MIGRATE_HIGHATOMIC])
    expect(eventsOfType(after, 'PageFreed').map((e) => [e.data.pfn, e.data.mt])).toEqual([[pfn, MIGRATE_HIGHATOMIC]])
    expect(checkInvariants(stateInvariants, k.state)).toEqual([])
  })
})

describe('page_shrink_discards frees page by page (GPH06 8/9: ClearPageDiscarded, free_cold_page)', () => {
  it("one free per page, each with its own pcp->high check: the collector's list never passes high", () => {
    const tiny = { ...machine, pcpBatch: 1, pcpHigh: 2 }
    const windowHost = { intervalNs: 500, pagesPerPass: 64, unused: false, activeFromNs: 30_000, activeUntilNs: 34_000 }
    const w = workload(
      [
        { op: 'read', cpu: 0, file: 1, count: 3 },
        { op: 'read', cpu: 1, file: 2, count: 2 },
        { op: 'barrier' },
        { op: 'idle', cpu: 0, ns: 12_000 },
        { op: 'idle', cpu: 1, ns: 12_000 },
        { op: 'read', cpu: 0, file: 1, count: 3 },
        { op: 'read', cpu: 1, file: 2, count: 2 },
        { op: 'barrier' },
        { op: 'reclaim', cpu: 1 },
      ],
      tiny,
      { host: windowHost },
    )
    const events: MmEvent[] = []
    let highest = 0
    let k: Run['kernel'] | null = null
    const run = new Run({
      workload: w,
      seed: 1,
      config: resolveConfig(),
      sink: {
        append: (e) => {
          events.push(e)
          if (k !== null && e.type === 'DiscardCollectionFreed') highest = Math.max(highest, k.state.zone.pcpCount[e.cpu! * k.state.zone.zones.length]!)
        },
      },
    })
    k = run.kernel
    while (!run.advance()) {
      /* next slice */
    }
    const r = run.finish()
    const freed = eventsOfType(events, 'DiscardCollectionFreed').filter((e) => e.data.pfns.length > 0)
    expect(freed.map((e) => e.data.pfns.length)).toEqual([1, 1, 1, 1, 1])
    // free_hot_cold_page adds, then gives a batch back once the list reaches high: high + 0.
    expect(highest).toBeLessThanOrEqual(2)
    expect(r.state.cpus.collecting.size).toBe(0)
    expect(r.state.cpus.collections).toBeGreaterThan(0)
    expect(checkInvariants(stateInvariants, r.state)).toEqual([])
  })
})

describe('the allocation slow path against v4.13 (should_reclaim_retry, __alloc_pages_direct_reclaim)', () => {
  const oneCpu = { cpus: 1, zones: [{ name: 'Normal', pages: 1024 }], guestPageHinting: true, pcpBatch: 4, pcpHigh: 16 }
  const quiet = { host: { intervalNs: 1_000_000_000 } }

  it('with only dirty page cache to reclaim, it waits for I/O and retries up to MAX_RECLAIM_RETRIES rounds without progress, then fails', () => {
    const { events } = runInMemory(
      workload(
        [
          { op: 'write', cpu: 0, file: 1, count: 600 },
          { op: 'pressure', cpu: 0, tag: 'p', watermark: 'min', mt: 'unmovable' },
        ],
        oneCpu,
        quiet,
      ),
    )
    const failed = eventsOfType(events, 'PageAllocFailed')
    expect(failed).toHaveLength(1)
    const lastAlloc = events.findLast((e) => (e.type === 'PcpAllocated' || e.type === 'PageAllocated') && e.seq < failed[0]!.seq)!
    const rounds = eventsOfType(events, 'ReclaimRan').filter((e) => e.seq > lastAlloc.seq && e.seq < failed[0]!.seq)
    // Each round writes off a sixteenth of the reclaimable pages; the last goes when none is left.
    expect(rounds).toHaveLength(MAX_RECLAIM_RETRIES)
    expect(rounds.every((e) => e.data.discards + e.data.cache === 0)).toBe(true)
    // congestion_wait(HZ/10) after each round but the last.
    expect(failed[0]!.t - rounds[0]!.t).toBeGreaterThanOrEqual((MAX_RECLAIM_RETRIES - 1) * 100_000_000)
  })

  it('each direct-reclaim call that made progress but found no page drains the per-cpu lists once (its own `drained` flag)', () => {
    const all: MmEvent[] = []
    const run = ranToEnd(
      workload(
        [
          { op: 'read', cpu: 0, file: 1, count: 200 },
          { op: 'alloc', cpu: 0, mt: 'unmovable', tag: 'held' },
        ],
        oneCpu,
        quiet,
      ),
      all,
    )
    const k = run.kernel
    const cpu = k.cpu(0)
    let held = [...k.state.zone.allocOrder.keys()].find((pfn) => k.state.zone.allocMt[pfn] === MIGRATE_UNMOVABLE && k.state.zone.allocOrder[pfn] === 0)!
    // Given clean page cache, nothing on the pcp lists and the zone below its min watermark.
    drain_pages(k, cpu)
    const z = k.state.zone.zones[0]!
    while (z.nrFreePages > z.watermarks.min - 8) __rmqueue(k, cpu, 0, 0, MIGRATE_UNMOVABLE, false)
    const calls = { progress: 0, none: 0 }
    // A reclaimer that makes progress three times without giving the allocation a page: it frees
    // one page to the pcp list and takes another from the buddy lists, then makes no progress.
    const reclaim = function* (): Path<number> {
      if (calls.progress === 3) {
        calls.none++
        return 0
      }
      calls.progress++
      yield* free_hot_cold_page(k, cpu, held, false)
      held = __rmqueue(k, cpu, 0, 0, MIGRATE_UNMOVABLE, false)!
      return 1
    }
    const from = all.length
    drive(__alloc_pages(k, cpu, { order: 0, mt: MIGRATE_UNMOVABLE, highestZone: 0 }, reclaim))
    const events = all.slice(from)
    expect(eventsOfType(events, 'PcpDrained').filter((e) => e.data.reason === 'drain')).toHaveLength(3)
    // Progress resets no_progress_loops; then rounds without progress until the page cache is written off.
    expect(calls).toEqual({ progress: 3, none: MAX_RECLAIM_RETRIES })
    expect(eventsOfType(events, 'PageAllocFailed')).toHaveLength(1)
  })
})
