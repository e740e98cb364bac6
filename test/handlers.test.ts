// The contract of EVENT_PROJECTIONS: an event changes exactly the projections it names (and
// every one it names, at least once in a run that exercises it).
import { describe, expect, it } from 'vitest'
import { EVENT_PROJECTIONS, Folder, diffStates, type MmState, type ProjectionName } from '../projections'
import type { EventBody, MmEvent } from '../events'
import { layoutMachine } from '../engine/mm/boot'
import { loadWorkload } from '../workload/load'
import { runInMemory, workload } from './helpers'

const PICK: { [K in ProjectionName]: (s: MmState) => unknown } = {
  zone: (s) => s.zone,
  pages: (s) => s.pages,
  cpus: (s) => s.cpus,
  mms: (s) => s.mms,
  anonVma: (s) => s.anonVma,
  isolation: (s) => s.isolation,
  boundary: (s) => s.boundary,
}
const pick = (s: MmState, p: ProjectionName): unknown => PICK[p](s)
const NAMES = Object.keys(PICK) as ProjectionName[]

/** A copy of a state; the zone's free-list hooks (functions, which structuredClone refuses, and no state) are shared. */
const copy = (s: MmState): MmState => {
  const hooks = s.zone.reporting
  s.zone.reporting = null
  const c = structuredClone(s)
  s.zone.reporting = hooks
  c.zone.reporting = hooks
  return c
}

/**
 * Hand-built aeration events (test/boundary.test.ts's zone of two order-10 blocks) for what a run
 * reaches only now and then: a free that merges with an aerated buddy, an aerated block moved to
 * another migratetype's list.
 */
const boundaryEvents = (): MmEvent[] => {
  const layout = layoutMachine({ arch: 'x86', cpus: 1, zones: [{ name: 'Normal', pages: 2048 }] }, { reporting: 'aeration' })
  if (!('boot' in layout)) throw new Error('layout')
  const b = (pfn: number, order: number) => ({ zone: 0, pfns: [pfn], orders: [order], mts: [1] })
  const bodies: EventBody[] = [
    { type: 'MachineBooted', data: layout.boot },
    ...[0, 1024].map((pfn): EventBody => ({ type: 'PageFreed', data: { zone: 0, pfn, order: 10, mt: 1, merges: 0, tail: false, from: 'boot' } })),
    { type: 'ReportingPagesPulled', data: b(0, 10) },
    { type: 'ReportingPagesPulled', data: b(1024, 10) },
    { type: 'AerationBoundariesPopulated', data: { zone: 0 } },
    { type: 'ReportingPagesReturned', data: { ...b(0, 10), merges: [0], reported: true } },
    { type: 'ReportingPagesReturned', data: { ...b(1024, 10), merges: [0], reported: true } },
    { type: 'PageAllocated', data: { zone: 0, pfn: 1024, order: 9, mt: 1, fromOrder: 10, pcp: false } },
    { type: 'ReportingPagesPulled', data: b(1536, 9) },
    { type: 'ReportingPagesReturned', data: { ...b(1536, 9), merges: [0], reported: true } },
    { type: 'PageFreed', data: { zone: 0, pfn: 1024, order: 9, mt: 1, merges: 1, tail: false, from: 'page' } },
    { type: 'FreeBlockMoved', data: { zone: 0, pfn: 0, order: 10, toMt: 0 } },
    { type: 'ReportingPagesPulled', data: b(1024, 10) },
    { type: 'ReportingPagesReturned', data: { ...b(1024, 10), merges: [0], reported: true } },
    { type: 'FreepagesMoved', data: { zone: 0, pfn: 1024, pages: 512, toMt: 2, claimed: false, freePages: 1024, alikePages: 0 } },
  ]
  return bodies.map((x, i) => ({ seq: i + 1, t: i, cpu: null, ...x }) as MmEvent)
}

/** A small hinting guest that offlines the range its processes' pages are in while one exits, then fails an offline on an unmovable page and allocates a contiguous range. */
const isolationOps = (isolation: 'migratetype' | 'list') =>
  workload(
    [
      { op: 'anon', cpu: 0, mm: 1, pages: 32 },
      { op: 'anon', cpu: 1, mm: 2, pages: 32 },
      { op: 'anon-write', cpu: 0, mm: 1, index: 0, count: 32 },
      { op: 'anon-write', cpu: 1, mm: 2, index: 0, count: 32 },
      { op: 'read', cpu: 1, file: 1, count: 16 },
      { op: 'barrier' },
      { op: 'hot-remove', cpu: 0, startPfn: 3072, pages: 1024 },
      { op: 'exit', cpu: 1, mm: 1 },
      { op: 'alloc', cpu: 1, mt: 'unmovable', tag: 'k' },
      { op: 'barrier' },
      { op: 'hot-remove', cpu: 0, startPfn: 2048, pages: 1024 },
      { op: 'contig-alloc', cpu: 1, startPfn: 1024, pages: 1024, tag: 'c' },
      { op: 'barrier' },
      { op: 'free', cpu: 0, tag: 'k' },
      { op: 'free', cpu: 1, tag: 'c' },
    ],
    { zones: [{ name: 'Normal', pages: 4096 }], guestPageHinting: true },
    { variants: { isolation, listFreeHot: 'bypass' } },
  )

describe('EVENT_PROJECTIONS', () => {
  it('an event changes no projection it does not name, and each name is earned', () => {
    const runs: MmEvent[][] = [
      runInMemory(loadWorkload('workloads/gph-discard-list.json'), 7).events,
      runInMemory(
        workload(
          [
            { op: 'alloc', cpu: 0, order: 2, tag: 'a' },
            { op: 'free', cpu: 1, tag: 'a' },
          ],
          { zones: [{ name: 'Normal', pages: 1024 }], guestPageHinting: true },
        ),
      ).events,
      // Anonymous memory: splits, merges, boundary moves, COW (copy and reuse), walks, exits.
      runInMemory(loadWorkload('workloads/anon-vma-reuse.json')).events,
      runInMemory(loadWorkload('workloads/anon-vma-lock-rmap.json'), 3).events,
      // Free page aeration and reporting: every cycle phase, refaults, and the hand-built rarities.
      // Small guests: the check copies the whole state at every event.
      ...(['aeration', 'page-reporting'] as const).map(
        (reporting) =>
          runInMemory(
            workload(
              [
                { op: 'idle', cpu: 0, ns: 2_100_000_000 },
                { op: 'alloc', cpu: 0, order: 0, count: 40, tag: 'small' },
                { op: 'alloc', cpu: 0, order: 9, count: 2, tag: 'huge' },
                { op: 'free', cpu: 0, tag: 'huge' },
              ],
              { arch: 'x86', cpus: 1, zones: [{ name: 'Normal', mib: reporting === 'aeration' ? 16 : 72 }] },
              { variants: { reporting } },
            ),
          ).events,
      ),
      boundaryEvents(),
      runInMemory(
        workload(
          [
            { op: 'anon', cpu: 0, mm: 1, pages: 2 },
            { op: 'fork', cpu: 0, parent: 1, child: 2 },
            { op: 'exit', cpu: 0, mm: 1 },
            { op: 'anon-write', cpu: 0, mm: 2, index: 0, count: 2 },
            { op: 'rmap', cpu: 0, mm: 2, index: 0, count: 2, walk: 'try_to_unmap' },
          ],
          { cpus: 1 },
        ),
      ).events,
      // Page isolation in both designs on a hinting guest: migration, offline, refusals, undo, capture, release.
      runInMemory(isolationOps('migratetype')).events,
      runInMemory(isolationOps('list')).events,
    ]
    const earned = new Set<string>()
    for (const events of runs) check(events, earned)
    // Every (event, projection) pair named and seen changed that projection at least once.
    const seen = new Set(runs.flat().map((e) => e.type))
    const named = [...seen].flatMap((t) => EVENT_PROJECTIONS[t].map((p) => `${t}:${p}`))
    expect(named.filter((n) => !earned.has(n))).toEqual([])
  })
})

const check = (events: MmEvent[], earned: Set<string>): void => {
  const folder = new Folder()
  folder.apply(events[0]!)
  for (const e of events.slice(1)) {
    const before = copy(folder.current!)
    folder.apply(e)
    const after = folder.current!
    for (const p of NAMES) {
      const changed = diffStates({ x: pick(before, p) } as unknown as MmState, { x: pick(after, p) } as unknown as MmState, 1).length > 0
      if (changed) earned.add(`${e.type}:${p}`)
      if (changed && !EVENT_PROJECTIONS[e.type].includes(p)) throw new Error(`${e.type} (seq ${e.seq}) changed ${p}, which EVENT_PROJECTIONS does not name`)
    }
  }
}
