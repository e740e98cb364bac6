// The anon_vma invariants and monitors fail on a corrupted state or a bad event, naming what is
// wrong, and hold on the state a correct run leaves (kernel-facts.md §3, "Invariants").
import { describe, expect, it } from 'vitest'
import type { MmEvent } from '../events'
import { anonVmaInvariants, anonVmaMonitors, checkInvariants, type MmState } from '../projections'
import { runInMemory, workload } from './helpers'

/** Process 1 with two pages, forked into process 2, which COWed the first: two anon_vmas, one tree. */
const base = (): MmState =>
  runInMemory(
    workload(
      [
        { op: 'anon', cpu: 0, mm: 1, pages: 2 },
        { op: 'fork', cpu: 0, parent: 1, child: 2 },
        { op: 'anon-write', cpu: 0, mm: 2, index: 0, count: 1 },
      ],
      { cpus: 1, zones: [{ name: 'Normal', pages: 2048 }] },
    ),
  ).result.state

const failing = (s: MmState): string[] => checkInvariants(anonVmaInvariants, s).map((v) => `${v.name}: ${v.message}`)

/** The first anonymous page of process `mm` (index 0). */
const pageOf = (s: MmState, mm: number): number => s.mms.mms.get(mm)!.ptes.get(0)!.pfn

describe('state invariants', () => {
  it('hold on the state a correct run leaves', () => {
    expect(failing(base())).toEqual([])
  })

  const cases: { name: string; corrupt: (s: MmState) => void; message: RegExp }[] = [
    {
      name: 'rmap.chains',
      corrupt: (s) => s.anonVma.anonVmas.get(0)!.vmas.splice(1, 1),
      message: /VMA 1 is chained to anon_vma 0, whose interval tree does not hold it/,
    },
    {
      name: 'rmap.chains',
      corrupt: (s) => {
        // A second root on one chain: what anon_vma_prepare without its re-check leaves.
        s.anonVma.anonVmas.set(9, { id: 9, root: 9, parent: 9, refcount: 1, numChildren: 1, numActiveVmas: 0, vmas: [0], mappedPages: 0 })
        s.anonVma.vmas.get(0)!.chain.unshift(9)
      },
      message: /VMA 0 \(process 1\) is chained to anon_vmas of 2 trees/,
    },
    {
      name: 'rmap.same-anon-vma-same-chain',
      corrupt: (s) => {
        const v = s.anonVma.vmas.get(1)!
        s.anonVma.anonVmas.get(1)!.numActiveVmas--
        s.anonVma.anonVmas.get(0)!.numActiveVmas++
        v.anonVma = 0
      },
      message: /VMAs 0 \(process 1\) and 1 \(process 2\) both use anon_vma 0 but are chained to 0 and 1,0/,
    },
    { name: 'rmap.counts', corrupt: (s) => void s.anonVma.anonVmas.get(0)!.refcount++, message: /anon_vma 0 has refcount 3, but the structure gives 2/ },
    { name: 'rmap.counts', corrupt: (s) => void s.anonVma.anonVmas.get(1)!.numActiveVmas--, message: /anon_vma 1 has numActiveVmas 0, but the structure gives 1/ },
    { name: 'rmap.counts', corrupt: (s) => void s.anonVma.anonVmas.get(0)!.numChildren--, message: /anon_vma 0 has numChildren 1, but the structure gives 2/ },
    { name: 'rmap.mapcount', corrupt: (s) => void s.anonVma.mapcount[pageOf(s, 1)]!++, message: /has mapcount 2 but 1 pte\(s\) map it/ },
    {
      name: 'rmap.pages-reachable',
      corrupt: (s) => void (s.anonVma.mapping[pageOf(s, 1)] = 1),
      message: /process 1 maps anonymous page \d+ at 0, but an rmap walk cannot find it: VMA 0 is not chained to anon_vma 1/,
    },
    {
      name: 'rmap.pages-reachable',
      corrupt: (s) => void (s.anonVma.mapping[pageOf(s, 2)] = 7),
      message: /its page->mapping names anon_vma 7, which was freed/,
    },
    { name: 'rmap.pages-reachable', corrupt: (s) => void (s.anonVma.index[pageOf(s, 2)] = 5), message: /VMA 1 places page index 5 at 5/ },
  ]
  for (const c of cases)
    it(`${c.name} fails on a corrupted state: ${c.message.source.slice(0, 60)}`, () => {
      const s = structuredClone(base())
      c.corrupt(s)
      const v = checkInvariants(anonVmaInvariants, s).find((x) => x.name === c.name)
      expect(v?.message).toMatch(c.message)
    })
})

describe('event monitors', () => {
  const monitor = (name: string) => anonVmaMonitors.find((m) => m.name === name)!
  const ev = (type: string, data: unknown, cpu = 0): MmEvent => ({ seq: 999, t: 0, cpu, type, data }) as unknown as MmEvent

  it('rmap.walk-complete: a walk that ran to its end without finding a process mapping the page throughout', () => {
    const s = base()
    const pfn = pageOf(s, 1)
    s.anonVma.walks.set(0, { pfn, anonVma: 0, walk: 'rmap_walk', mapcount: 1, present: [1] })
    expect(
      monitor('rmap.walk-complete').check(s, ev('RmapWalkFinished', { pfn, anonVma: 0, walk: 'rmap_walk', visited: 1, mapped: 0, found: [], result: 'walked' }))?.message,
    ).toMatch(/missed the pte of process 1/)
    // page_referenced may stop once it found mapcount ptes (one counted twice): not a miss.
    s.anonVma.walks.set(0, { pfn, anonVma: 0, walk: 'page_referenced', mapcount: 1, present: [1, 2] })
    expect(
      monitor('rmap.walk-complete').check(s, ev('RmapWalkFinished', { pfn, anonVma: 0, walk: 'page_referenced', visited: 1, mapped: 1, found: [2], result: 'referenced' })),
    ).toBeNull()
  })

  it('rmap.walk-on-stale-mapping: a walk of an unmapped page, or of a freed anon_vma', () => {
    const s = base()
    const stale = pageOf(s, 1)
    expect(monitor('rmap.walk-on-stale-mapping').check(s, ev('RmapWalkStarted', { pfn: stale, anonVma: 5, walk: 'page_referenced', mapcount: 1 }))?.message).toMatch(
      /anon_vma 5, which was freed/,
    )
    s.anonVma.mapcount[stale] = 0
    expect(monitor('rmap.walk-on-stale-mapping').check(s, ev('RmapWalkStarted', { pfn: stale, anonVma: 0, walk: 'page_referenced', mapcount: 0 }))?.message).toMatch(
      /no longer mapped/,
    )
  })

  it('rmap.anon-vma-freed-in-use: an anon_vma freed while mapped pages name it, or another VMA is chained to it', () => {
    const s = base()
    expect(monitor('rmap.anon-vma-freed-in-use').check(s, ev('AnonVmaPut', { vma: 1, anonVma: 0, freed: [0] }))?.message).toMatch(/mapped page\(s\) still name it/)
    s.anonVma.anonVmas.get(1)!.mappedPages = 0
    expect(monitor('rmap.anon-vma-freed-in-use').check(s, ev('AnonVmaPut', { vma: 0, anonVma: 1, freed: [1] }))?.message).toMatch(/VMA 1 \(process 2\) is still chained to it/)
  })

  it('rmap.prepare-once: anon_vma_prepare on a VMA that has an anon_vma', () => {
    expect(monitor('rmap.prepare-once').check(base(), ev('AnonVmaPrepared', { vma: 0, anonVma: 2, mergeable: false }))?.message).toMatch(/another thread gave it anon_vma 0/)
  })

  it('rmap.reuse-unused: fork reusing an anon_vma a VMA still uses', () => {
    expect(monitor('rmap.reuse-unused').check(base(), ev('AnonVmaCloned', { vma: 1, src: 0, anonVma: 1, reused: true }))?.message).toMatch(
      /while VMA 1 \(process 2\) still uses it/,
    )
  })

  it('rmap.anon-vma-reuse: fork giving a new level while the chain holds an anon_vma nobody uses with fewer than two children', () => {
    const s = base()
    s.anonVma.anonVmas.get(1)!.numActiveVmas = 0
    expect(monitor('rmap.anon-vma-reuse').check(s, ev('AnonVmaCreated', { vma: 1, anonVma: 2, parent: 0 }))?.message).toMatch(/although anon_vma 1 of its chain has no VMA/)
  })
})
