// Each buddy invariant holds on a real run and fails on a state corrupted in the one way it
// guards against (so none of them can pass vacuously).
import { beforeEach, describe, expect, it } from 'vitest'
import {
  blocksAlignedInZone,
  checkInvariants,
  freeListAdd,
  freeListDel,
  freeListIdx,
  listMigratetype,
  noMergeableBuddies,
  noOverlap,
  nrFreeIdx,
  nrFreeMatchesLists,
  pageConservation,
  stateInvariants,
  FRAME_BUDDY,
  type MmState,
  type StateInvariant,
  type ZoneState,
} from '../projections'
import { MIGRATE_MOVABLE, MIGRATE_UNMOVABLE } from '../events'
import { runInMemory, workload } from './helpers'

const names = (s: MmState) => checkInvariants(stateInvariants, s).map((v) => v.name)

/** A zone with free blocks of many orders, allocated blocks and per-cpu pages. */
const fragmented = (): MmState =>
  runInMemory(
    workload(
      [
        { op: 'alloc', cpu: 0, order: 3, count: 5, tag: 'a' },
        { op: 'alloc', cpu: 1, order: 0, count: 7, tag: 'b' },
        { op: 'alloc', cpu: 0, order: 1, mt: 'unmovable', count: 3, tag: 'c' },
        { op: 'free', cpu: 1, tag: 'b' },
      ],
      { cpus: 2, zones: [{ name: 'Normal', pages: 4096 }], pcpBatch: 4, pcpHigh: 64 },
    ),
  ).result.state

/** The first free block of at least `order` on any list. */
const someFreeBlock = (z: ZoneState, orderMin: number): { pfn: number; order: number; mt: number } => {
  for (let o = orderMin; o < 11; o++)
    for (let mt = 0; mt < 5; mt++) {
      const head = z.freeHead[freeListIdx(0, o, mt)]!
      if (head >= 0) return { pfn: head, order: o, mt }
    }
  throw new Error('no free block')
}

const failsOnly = (s: MmState, inv: StateInvariant<ZoneState>) => {
  expect(inv.check(s.zone)).not.toBeNull()
  expect(names(s)).toContain(inv.name)
}

describe('buddy invariants', () => {
  let s: MmState
  beforeEach(() => {
    s = fragmented()
  })

  it('all hold on a real run', () => {
    expect(names(s)).toEqual([])
  })

  it('page conservation fails when a page is lost (freed frame neither free, allocated nor per-cpu)', () => {
    const { pfn } = someFreeBlock(s.zone, 0)
    s.zone.zones[0]!.managed += 1
    failsOnly(s, pageConservation)
    s.zone.zones[0]!.managed -= 1
    s.zone.zones[0]!.nrFreePages -= 1 // NR_FREE_PAGES drifts from the lists
    expect(pageConservation.check(s.zone)?.message).toMatch(/NR_FREE_PAGES/)
    void pfn
  })

  it('block alignment fails for a block that does not start at a multiple of its size', () => {
    const b = someFreeBlock(s.zone, 2)
    freeListDel(s.zone, freeListIdx(0, b.order, b.mt), b.pfn)
    s.zone.freeOrder[b.pfn] = -1
    const shifted = b.pfn + 1
    s.zone.freeOrder[shifted] = b.order
    s.zone.listMt[shifted] = b.mt
    freeListAdd(s.zone, freeListIdx(0, b.order, b.mt), shifted, false)
    failsOnly(s, blocksAlignedInZone)
  })

  it('no-overlap fails when a frame is in two free blocks', () => {
    const b = someFreeBlock(s.zone, 1)
    // The block's second frame also appears as an order-0 block of its own.
    const inner = b.pfn + 1
    s.zone.freeOrder[inner] = 0
    s.zone.listMt[inner] = b.mt
    freeListAdd(s.zone, freeListIdx(0, 0, b.mt), inner, false)
    s.zone.nrFree[nrFreeIdx(0, 0)]!++
    failsOnly(s, noOverlap)
  })

  it('no-overlap also fails for a frame marked free that no listed block covers', () => {
    const z = s.zone
    const allocated = z.frame.findIndex((f) => f === 3)
    z.frame[allocated] = FRAME_BUDDY
    expect(noOverlap.check(z)?.message).toMatch(/marked free but in no listed block/)
  })

  it('nr_free fails when the count disagrees with the lists', () => {
    s.zone.nrFree[nrFreeIdx(0, 10)]! += 1
    failsOnly(s, nrFreeMatchesLists)
  })

  it('list migratetype fails when a block records another type than its list', () => {
    const b = someFreeBlock(s.zone, 0)
    s.zone.listMt[b.pfn] = b.mt === MIGRATE_MOVABLE ? MIGRATE_UNMOVABLE : MIGRATE_MOVABLE
    failsOnly(s, listMigratetype)
  })

  it('no-mergeable-buddies fails when a free block is split into two free halves', () => {
    const b = someFreeBlock(s.zone, 1)
    const z = s.zone
    freeListDel(z, freeListIdx(0, b.order, b.mt), b.pfn)
    z.nrFree[nrFreeIdx(0, b.order)]!--
    for (const half of [b.pfn, b.pfn + (1 << (b.order - 1))]) {
      z.freeOrder[half] = b.order - 1
      z.listMt[half] = b.mt
      freeListAdd(z, freeListIdx(0, b.order - 1, b.mt), half, false)
      z.nrFree[nrFreeIdx(0, b.order - 1)]!++
    }
    expect(names(s)).toEqual(['buddy.no-mergeable-buddies'])
    expect(noMergeableBuddies.check(z)?.pfn).toBe(b.pfn)
  })

  it('list migratetype fails when a per-cpu page sits on another CPU list than it records', () => {
    const z = s.zone
    const pcpPage = z.pcpCpu.findIndex((c) => c === 1)
    expect(pcpPage).toBeGreaterThanOrEqual(0)
    z.pcpCpu[pcpPage] = 0
    failsOnly(s, listMigratetype)
  })
})
