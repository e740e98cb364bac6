// Free page aeration (Duyck's RFC v1, reference/aeration-raw-vs-aerated-boundary.txt): each phase
// of the cycle as events, the high-water mark, raw blocks handed out before aerated ones, the
// boundary through splits and merges, and what the host gives back.
import { describe, expect, it } from 'vitest'
import type { MmEvent } from '../events'
import { runInMemory, workload } from './helpers'
import type { Op, Workload } from '../workload/codec'
import { compileWorkload } from '../engine/workload/compile'

const MIB_160 = { arch: 'x86' as const, cpus: 1, zones: [{ name: 'Normal', mib: 160 }] }
const aeration = (ops: Op[], extra: Partial<Workload> = {}): Workload => workload(ops, MIB_160, { variants: { reporting: 'aeration' }, ...extra })

/** The reporting events of a run, as their types, runs of one type collapsed to `Type×n`. */
const phases = (events: readonly MmEvent[]): string[] => {
  const out: string[] = []
  let last = ''
  let n = 0
  const flush = () => void (n > 0 && out.push(n === 1 ? last : `${last}×${n}`))
  for (const e of events) {
    if (!/^(Reporting|Aeration|Boundary)/.test(e.type)) continue
    if (e.type === last) n++
    else {
      flush()
      last = e.type
      n = 1
    }
  }
  flush()
  return out
}

describe('the aeration cycle (a 160 MiB x86 guest: 40 free order-10 blocks, capacity 32)', () => {
  it('startup requests every zone; HZ/10 later fill pulls 32 raw blocks, the host reacts, the boundaries are populated, drain returns them; a second fill finds only 8, clears the request, and the aerator goes idle', () => {
    const { events, result } = runInMemory(aeration([{ op: 'idle', cpu: 0, ns: 1_000_000_000 }]))
    expect(phases(events)).toEqual([
      'ReportingRequested',
      'ReportingWorkStarted',
      'ReportingPagesPulled×32',
      'ReportingHostReacted',
      'AerationBoundariesPopulated',
      'ReportingPagesReturned×32',
      'ReportingPagesPulled×8',
      'AerationRequestCleared',
      'ReportingHostReacted',
      'ReportingPagesReturned×8',
      'AerationActiveCleared',
      'ReportingWorkFinished',
    ])
    const started = events.find((e) => e.type === 'ReportingWorkStarted')!
    expect(started.t).toBe(100_000_000)
    const b = result.state.boundary!
    expect([b.refcnt, b.requested[0], b.active[0], b.batch.pfns.length]).toEqual([0, 0, 0, 0])
    expect(b.nrFreeAerated[10]).toBe(40)
    expect(b.unbackedPages).toBe(40 * 1024)
    expect(result.finalCheck.violated).toEqual([])
  })

  const hwm = (n: number) =>
    runInMemory(
      aeration([
        { op: 'idle', cpu: 0, ns: 200_000_000 },
        { op: 'alloc', cpu: 0, order: 10, mt: 'movable', count: n, tag: 'a' },
        { op: 'free', cpu: 0, tag: 'a' },
        { op: 'idle', cpu: 0, ns: 300_000_000 },
      ]),
    )
  it('AERATOR_HWM: the 32nd raw order-10 block freed requests aeration, right after its PageFreed', () => {
    const { events } = hwm(32)
    const asked = events.filter((e) => e.type === 'ReportingRequested' && !e.data.startup)
    expect(asked).toHaveLength(1)
    const frees = events.filter((e) => e.type === 'PageFreed' && e.data.from === 'page' && e.seq < asked[0]!.seq)
    expect(frees).toHaveLength(32)
    expect(events[asked[0]!.seq - 2]!.type).toBe('PageFreed')
  })
  it('AERATOR_HWM: 31 raw blocks request nothing', () => {
    expect(hwm(31).events.filter((e) => e.type === 'ReportingRequested' && !e.data.startup)).toEqual([])
  })

  it('allocation takes raw blocks from the head before aerated ones: blocks freed raw are the next handed out, and only the first round refaults', () => {
    const { events, result } = runInMemory(
      aeration([
        { op: 'idle', cpu: 0, ns: 200_000_000 },
        { op: 'alloc', cpu: 0, order: 10, mt: 'movable', count: 8, tag: 'a' },
        { op: 'free', cpu: 0, tag: 'a' },
        { op: 'alloc', cpu: 0, order: 10, mt: 'movable', count: 8, tag: 'b' },
      ]),
    )
    const allocs = events.filter((e) => e.type === 'PageAllocated' && e.data.fromOrder === 10).map((e) => (e.type === 'PageAllocated' ? e.data.pfn : -1))
    const freed = events.filter((e) => e.type === 'PageFreed' && e.data.from === 'page').map((e) => (e.type === 'PageFreed' ? e.data.pfn : -1))
    expect(allocs.slice(8).sort()).toEqual(freed.sort())
    expect(result.state.boundary!.refaults).toBe(8 * 1024)
  })

  it('the host acknowledging without freeing (balloon inhibited): blocks are aerated, no backing is released, nothing refaults', () => {
    const { result } = runInMemory(
      aeration(
        [
          { op: 'idle', cpu: 0, ns: 200_000_000 },
          { op: 'alloc', cpu: 0, order: 10, mt: 'movable', count: 8, tag: 'a' },
        ],
        { reportingDevice: { hostFrees: false } },
      ),
    )
    const b = result.state.boundary!
    expect(b.nrFreeAerated[10]).toBe(32)
    expect([b.hostFreedPages, b.unbackedPages, b.refaults, b.ackedNotFreedPages]).toEqual([0, 0, 0, 40 * 1024])
  })
})

describe('the workload fields of free page reporting', () => {
  const errors = (w: Workload): string[] => {
    const c = compileWorkload(w)
    return 'errors' in c ? c.errors.map((e) => `${e.path}: ${e.message}`) : []
  }
  it('delFromBoundary needs reporting aeration, a reportingDevice needs reporting on; off is the default and records nothing in MachineBooted', () => {
    expect(errors(workload([], MIB_160, { variants: { reporting: 'page-reporting', delFromBoundary: 'always' } }))).toEqual([
      '$.variants.delFromBoundary: delFromBoundary switches the aeration RFC\'s boundary helpers, which needs variants.reporting: "aeration"',
    ])
    expect(errors(workload([], MIB_160, { reportingDevice: { capacity: 16 } }))).toEqual([
      '$.reportingDevice: a reporting device needs variants.reporting "aeration" or "page-reporting"',
    ])
    const off = compileWorkload(workload([], MIB_160, { variants: { reporting: 'off' } }))
    expect('compiled' in off && off.compiled.boot.reporting).toBeUndefined()
  })
})
