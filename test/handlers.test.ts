// The contract of EVENT_PROJECTIONS: an event changes exactly the projections it names (and
// every one it names, at least once in a run that exercises it).
import { describe, expect, it } from 'vitest'
import { EVENT_PROJECTIONS, Folder, diffStates, type MmState, type ProjectionName } from '../projections'
import type { MmEvent } from '../events'
import { loadWorkload } from '../workload/load'
import { runInMemory, workload } from './helpers'

const pick = (s: MmState, p: ProjectionName): unknown =>
  p === 'zone' ? s.zone : p === 'pages' ? s.pages : p === 'cpus' ? s.cpus : p === 'mms' ? s.mms : p === 'isolation' ? s.isolation : s.anonVma
const NAMES: ProjectionName[] = ['zone', 'pages', 'cpus', 'mms', 'anonVma', 'isolation']

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
    const before = structuredClone(folder.current!)
    folder.apply(e)
    const after = folder.current!
    for (const p of NAMES) {
      const changed = diffStates({ x: pick(before, p) } as unknown as MmState, { x: pick(after, p) } as unknown as MmState, 1).length > 0
      if (changed) earned.add(`${e.type}:${p}`)
      if (changed && !EVENT_PROJECTIONS[e.type].includes(p)) throw new Error(`${e.type} (seq ${e.seq}) changed ${p}, which EVENT_PROJECTIONS does not name`)
    }
  }
}
