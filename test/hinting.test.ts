// Guest page hinting, path by path: given a small guest, when a workload reads, maps, writes
// back or frees, then exactly these state changes and discard events happen.
import { describe, expect, it } from 'vitest'
import type { MmEvent } from '../events'
import { checkInvariants, stateInvariants, STATE_CODE, PG_discarded, legalTransitions, noDiscardInUse, discardedFreedByCollection, createState } from '../projections'
import type { Op } from '../workload/codec'
import { eventsOfType, runInMemory, workload } from './helpers'

const machine = { cpus: 2, zones: [{ name: 'Normal', pages: 1024 }], guestPageHinting: true, pcpBatch: 4, pcpHigh: 16 }
/** A host that never acts, so that a test decides what is discarded. */
const idleHost = { intervalNs: 1_000_000_000 }
/** A host that discards every volatile page it sees between 8 and 12 us, and then stops. */
const windowHost = { intervalNs: 500, pagesPerPass: 64, unused: false, activeFromNs: 8_000, activeUntilNs: 12_000 }
const pause = (cpu: number): Op => ({ op: 'idle', cpu, ns: 12_000 })

const hinting = (ops: Op[], host: object = idleHost, extra: object = {}) => runInMemory(workload(ops, machine, { host, ...extra }))
const states = (events: MmEvent[]) => eventsOfType(events, 'PageStateChanged').map((e) => `${e.data.from}>${e.data.to} ${e.data.reason}`)

describe('page states (arch_free_page, arch_alloc_page)', () => {
  it('boot frees every page unused; an allocation makes pages stable, a free unused again', () => {
    const { events, result } = hinting([
      { op: 'alloc', cpu: 0, order: 2, tag: 'a' },
      { op: 'free', cpu: 0, tag: 'a' },
    ])
    expect(states(events)).toEqual(['Sz>Uz arch_free_page', 'Uz>Sz arch_alloc_page', 'Sz>Uz arch_free_page'])
    expect(result.state.pages!.stateCounts[STATE_CODE.Uz]).toBe(1024)
  })

  it('a page read into the page cache is backed by the host, then offered to it as volatile', () => {
    const { events, result } = hinting([{ op: 'read', cpu: 0, file: 7 }])
    const pfn = eventsOfType(events, 'PageCacheAdded')[0]!.data.pfn
    expect(states(events.filter((e) => e.type !== 'PageStateChanged' || e.data.pfn <= pfn))).toEqual([
      'Sz>Uz arch_free_page',
      'Uz>Sz arch_alloc_page',
      'Sz>Sr first-touch', // the read's DMA
      'Sr>Vr page_make_volatile', // unlock_page
      'Vr>Sr page_make_stable', // find_get_page, for the copy to user space
      'Sr>Vr page_make_volatile', // put_page with the count above one
    ])
    expect(result.state.pages!.pstate[pfn]).toBe(STATE_CODE.Vr)
  })

  it('a dirty page stays stable; written back, it becomes volatile when its writeback ends', () => {
    const { events } = hinting([
      { op: 'write', cpu: 0, file: 1 },
      { op: 'writeback', cpu: 0, file: 1 },
    ])
    const flags = eventsOfType(events, 'PageFlagsChanged').map((e) => e.data.why)
    const volatileAt = events.findIndex((e) => e.type === 'PageStateChanged' && e.data.reason === 'page_make_volatile')
    const writebackEnd = events.findIndex((e) => e.type === 'PageFlagsChanged' && e.data.why === 'end_page_writeback')
    expect(flags).toContain('clear_page_dirty_for_io, set_page_writeback')
    expect(volatileAt).toBeGreaterThan(writebackEnd)
  })

  it('a page mapped writable becomes only potentially volatile (P), and a store keeps the host from discarding it', () => {
    const { events, result } = hinting([{ op: 'map', cpu: 0, mm: 1, file: 1, writable: true }, { op: 'touch', cpu: 0, mm: 1, file: 1, write: true }, pause(0)], {
      ...windowHost,
      pageOut: true,
    })
    expect(states(events)).toContain('Sr>Pr page_make_volatile')
    const pfn = eventsOfType(events, 'PteSet')[0]!.data.pfn
    expect(eventsOfType(events, 'HostDiscarded').filter((e) => e.data.pfn === pfn)).toEqual([])
    expect(eventsOfType(events, 'HostPagedOut').map((e) => `${e.data.pfn} ${e.data.from}>${e.data.to}`)).toContain(`${pfn} Pr>Sp`)
    void result
  })
})

describe('discards', () => {
  it('a lookup of a discarded page fails page_make_stable: page_discard, the discard list, a fresh read', () => {
    const { events } = hinting([{ op: 'read', cpu: 0, file: 1 }, pause(0), { op: 'read', cpu: 0, file: 1 }], windowHost)
    const first = eventsOfType(events, 'PageCacheAdded')[0]!.data.pfn
    const seq = (pred: (e: MmEvent) => boolean) => events.find(pred)?.seq ?? -1
    const discarded = seq((e) => e.type === 'HostDiscarded' && e.data.pfn === first)
    const flagged = seq((e) => e.type === 'PageFlagsChanged' && e.data.pfn === first && e.data.set.includes('PG_discarded'))
    const removed = seq((e) => e.type === 'PageCacheRemoved' && e.data.pfn === first && e.data.discarded)
    const queued = seq((e) => e.type === 'DiscardQueued' && e.data.pfn === first)
    expect(discarded).toBeGreaterThan(0)
    expect([discarded < flagged, flagged < removed, removed < queued]).toEqual([true, true, true])
    expect(eventsOfType(events, 'PageCacheAdded')).toHaveLength(2)
  })

  it('a discard fault delivers the absolute address, pins the page, and page_discard unmaps it', () => {
    const { events } = hinting([{ op: 'map', cpu: 0, mm: 1, file: 1 }, pause(0), { op: 'touch', cpu: 0, mm: 1, file: 1 }], windowHost)
    const fault = eventsOfType(events, 'DiscardFault')[0]!
    expect(fault.data.absoluteAddress).toBe(fault.data.pfn * 4096)
    const after = events.filter((e) => e.seq > fault.seq).map((e) => e.type)
    expect(after.slice(0, 1)).toEqual(['DiscardFaultPinned'])
    expect(after).toContain('PteCleared')
    expect(after.indexOf('PteCleared')).toBeLessThan(after.indexOf('PageCacheRemoved'))
  })

  it('page_shrink_discards splices every CPU list (one event each) and frees them cold, one event per page', () => {
    const { events, result } = hinting(
      [
        { op: 'read', cpu: 0, file: 1, count: 3 },
        { op: 'read', cpu: 1, file: 2, count: 2 },
        { op: 'barrier' },
        pause(0),
        pause(1),
        { op: 'read', cpu: 0, file: 1, count: 3 },
        { op: 'read', cpu: 1, file: 2, count: 2 },
        { op: 'barrier' },
        { op: 'reclaim', cpu: 1 },
      ],
      { ...windowHost, activeFromNs: 30_000, activeUntilNs: 34_000 },
    )
    const spliced = eventsOfType(events, 'DiscardListSpliced')
    const freed = eventsOfType(events, 'DiscardCollectionFreed')
    expect(spliced.map((e) => [e.cpu, e.data.collector, e.data.pfns.length])).toEqual(
      expect.arrayContaining([
        [0, 1, 3],
        [1, 1, 2],
      ]),
    )
    const full = freed.filter((e) => e.data.pfns.length > 0)
    expect(full.map((e) => e.data.pfns.length)).toEqual([1, 1, 1, 1, 1])
    expect(full.map((e) => e.cpu)).toEqual([1, 1, 1, 1, 1])
    expect(full.reduce((sum, e) => sum.map((n, c) => n + e.data.perCpu[c]!), [0, 0])).toEqual([3, 2])
    // Each collected page went Vz -> Uz and now sits on cpu1's per-cpu list.
    for (const pfn of full.flatMap((e) => e.data.pfns)) {
      expect(result.state.pages!.flags[pfn]! & PG_discarded).toBe(0)
      expect(result.state.zone.pcpCpu[pfn] === 1 || result.state.zone.frame[pfn] !== 2).toBe(true)
    }
    expect(result.state.pages!.transitions.get('Vz>Uz')).toBe(5)
    expect(checkInvariants(stateInvariants, result.state)).toEqual([])
  })

  it('a CPU going down hands its discarded-page list to the CPU that takes it down', () => {
    const { events, result } = hinting(
      [
        { op: 'read', cpu: 1, file: 1, count: 2 },
        pause(1),
        { op: 'read', cpu: 1, file: 1, count: 2 },
        { op: 'barrier' },
        { op: 'cpu-down', cpu: 0, target: 1 },
        { op: 'reclaim', cpu: 0 },
      ],
      { ...windowHost, activeFromNs: 14_000, activeUntilNs: 18_000 },
    )
    const moved = eventsOfType(events, 'DiscardListMoved')
    expect(moved.map((e) => e.data)).toEqual([{ from: 1, to: 0, count: 2 }])
    expect(eventsOfType(events, 'CpuWentOffline').map((e) => e.data.target)).toEqual([1])
    // The offline CPU takes no part in the collection.
    expect(eventsOfType(events, 'DiscardListSpliced').every((e) => e.cpu === 0)).toBe(true)
    expect(result.state.cpus.online).toEqual([true, false])
  })
})

describe('hinting invariants can fail', () => {
  const boot = runInMemory(workload([{ op: 'read', cpu: 0, file: 1 }], machine, { host: idleHost })).result.state
  const pfn = [...boot.pages!.cache.values()][0]!
  const env = { seq: 1, t: 0, cpu: null }

  it('an illegal transition (the guest cannot make content resident) is reported', () => {
    const s = createState(boot.machine)
    expect(legalTransitions.check(s, { ...env, type: 'PageStateChanged', data: { pfn: 3, npages: 1, from: 'Sz', to: 'Sr', reason: 'page_make_stable' } })).not.toBeNull()
    expect(legalTransitions.check(s, { ...env, type: 'HostDiscarded', data: { pfn: 3, from: 'Sz', to: 'Vz' } })).not.toBeNull()
    expect(legalTransitions.check(s, { ...env, type: 'PageStateChanged', data: { pfn: 3, npages: 1, from: 'Sz', to: 'Uz', reason: 'arch_free_page' } })).toBeNull()
  })

  it('discarding a page in use and freeing a discarded page past the list are reported', () => {
    boot.pages!.uses[pfn] = 1
    expect(noDiscardInUse.check(boot, { ...env, type: 'HostDiscarded', data: { pfn, from: 'Vr', to: 'Vz' } })?.message).toMatch(/rely on its content/)
    boot.pages!.uses[pfn] = 0
    boot.pages!.flags[pfn] = boot.pages!.flags[pfn]! | PG_discarded
    expect(discardedFreedByCollection.check(boot, { ...env, cpu: 0, type: 'PcpFreed', data: { zone: 0, pfn, mt: 1, cold: false } })).not.toBeNull()
    expect(checkInvariants(stateInvariants, boot).map((v) => v.name)).toEqual([])
    boot.pages!.refcount[pfn] = 0
    expect(checkInvariants(stateInvariants, boot).map((v) => v.name)).toEqual(['hinting.page-counts'])
  })
})
