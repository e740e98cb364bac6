// Mainline free page reporting (mm/page_reporting.c; kernel-facts.md §4): the 2 s delay, batches
// of 32, the per-pass budget of about a sixteenth of each list, the watermark check, PageReported
// cleared whenever a block leaves its list; and the source's "idle system fully reported in about
// 30 seconds" on the 32 GiB guest of the v17 cover letter, within 20 % in simulated time.
import { describe, expect, it } from 'vitest'
import type { MmEvent } from '../events'
import { predictedIdleNs } from '../hunt/reportingIdle'
import { loadWorkload } from '../workload/load'
import { runInMemory, workload } from './helpers'

/** Batches reported in each pass: ReportingHostReacted events between two ReportingWorkStarted. */
const batchesPerPass = (events: readonly MmEvent[]): number[] => {
  const out: number[] = []
  for (const e of events) {
    if (e.type === 'ReportingWorkStarted') out.push(0)
    else if (e.type === 'ReportingHostReacted') out[out.length - 1]!++
  }
  return out
}

describe('page reporting on an idle 32 GiB x86 guest (workloads/reporting-idle-32g.json: 8,192 free order-10 blocks)', () => {
  const { events, result } = runInMemory(loadWorkload('workloads/reporting-idle-32g.json'))
  const b = result.state.boundary!

  it('all free memory is reported at about 32 s (the budget rule; the source says "about 30 seconds"), within 20 %', () => {
    expect(predictedIdleNs(8192)).toBe(32_000_000_000)
    expect(b.fullyReportedAtNs).toBeGreaterThan(32e9 * 0.8)
    expect(b.fullyReportedAtNs).toBeLessThan(32e9 * 1.2)
    expect(b.nrFreeAerated[10]).toBe(8192)
  })

  it('the first pass runs 2 s after registration; each pass reports DIV_ROUND_UP(8192, 512) + 1 = 17 batches of 32, the last what is left', () => {
    expect(events.find((e) => e.type === 'ReportingWorkStarted')!.t).toBe(2_000_000_000)
    expect(batchesPerPass(events)).toEqual([...Array<number>(15).fill(17), 1])
    const reacted = events.filter((e) => e.type === 'ReportingHostReacted')
    expect(reacted.every((e) => e.type === 'ReportingHostReacted' && e.data.blocks === 32)).toBe(true)
  })

  it('each pass that spent its budget asks for another, 2 s after it ends; the last goes idle', () => {
    const finished = events.filter((e) => e.type === 'ReportingWorkFinished').map((e) => (e.type === 'ReportingWorkFinished' ? e.data.rescheduled : null))
    expect(finished).toEqual([...Array<boolean>(15).fill(true), false])
    expect(result.finalCheck.violated).toEqual([])
  })
})

describe('page reporting, the rules', () => {
  it('the watermark check: a zone below low + 32 blocks of the reporting order is not reported (64 MiB guest)', () => {
    const { events } = runInMemory(
      workload([{ op: 'idle', cpu: 0, ns: 3_000_000_000 }], { arch: 'x86', cpus: 1, zones: [{ name: 'Normal', mib: 64 }] }, { variants: { reporting: 'page-reporting' } }),
    )
    expect(events.filter((e) => e.type === 'ReportingWorkStarted')).toHaveLength(1)
    expect(events.filter((e) => e.type === 'ReportingPagesPulled')).toEqual([])
  })

  it('__isolate_free_page relabels the pageblocks of an Unmovable block it takes MIGRATE_MOVABLE, and drain puts it back on the Movable list', () => {
    const { events } = runInMemory(
      workload(
        [
          { op: 'alloc', cpu: 0, order: 9, mt: 'unmovable', count: 1, tag: 'u' },
          { op: 'free', cpu: 0, tag: 'u' },
          { op: 'idle', cpu: 0, ns: 3_000_000_000 },
        ],
        { arch: 'x86', cpus: 1, zones: [{ name: 'Normal', mib: 512 }] },
        { variants: { reporting: 'page-reporting' } },
      ),
    )
    const pull = events.find((e) => e.type === 'ReportingPagesPulled' && e.data.mts[0] === 0)!
    const pfn = pull.type === 'ReportingPagesPulled' ? pull.data.pfns[0]! : -1
    const relabel = events[pull.seq]!
    expect(relabel.type === 'PageblockMigratetypeSet' && [relabel.data.pfn, relabel.data.mt]).toEqual([pfn, 1])
    const back = events.find((e) => e.type === 'ReportingPagesReturned' && e.data.pfns[0] === pfn)!
    expect(back.type === 'ReportingPagesReturned' && back.data.mts).toEqual([1])
  })

  it('workloads/page-reporting.json: reported blocks handed out again lose PageReported and refault zero-filled; every invariant holds', () => {
    const { result } = runInMemory(loadWorkload('workloads/page-reporting.json'))
    const b = result.state.boundary!
    expect(b.refaults).toBeGreaterThan(0)
    expect(b.passes).toBeGreaterThan(1)
    expect(result.finalCheck.violated).toEqual([])
    expect(result.violations).toBe(0)
  })

  it('a host that acknowledges without freeing (QEMU with the balloon inhibited): "reported" is not "freed"', () => {
    const w = loadWorkload('workloads/reporting-idle-32g.json')
    const { result } = runInMemory({ ...w, machine: { ...w.machine, zones: [{ name: 'Normal', mib: 1024 }] }, reportingDevice: { hostFrees: false } })
    const b = result.state.boundary!
    expect(b.nrFreeAerated[10]).toBe(256)
    expect([b.hostFreedPages, b.unbackedPages, b.ackedNotFreedPages]).toEqual([0, 0, 256 * 1024])
  })
})
