// The boundary projection on hand-built events: where the boundary goes when blocks are
// returned, split, merged or allocated, and each of its invariants failing on a corrupted state.
import { describe, expect, it } from 'vitest'
import type { EventBody, MmEvent } from '../events'
import { layoutMachine } from '../engine/mm/boot'
import { Folder, NIL, checkInvariants, freeListIdx, listPfns, stateInvariants, type MmState } from '../projections'
import { checkBoundaries } from '../projections/boundary'
import { FRAME_REPORTING } from '../projections/zone/state'
import type { Variants } from '../workload/codec'

const MOVABLE = 1
const ZONE = 0

/** A 2-block (4096-page) x86 zone, folded from `bodies` after its boot frees (1024 on top, 0 below). */
const fold = (bodies: EventBody[], variants: Variants = { reporting: 'aeration' }): MmState => {
  const layout = layoutMachine({ arch: 'x86', cpus: 1, zones: [{ name: 'Normal', pages: 2048 }] }, variants)
  if (!('boot' in layout)) throw new Error('layout')
  const boot: EventBody[] = [0, 1024].map((pfn) => ({ type: 'PageFreed', data: { zone: ZONE, pfn, order: 10, mt: MOVABLE, merges: 0, tail: false, from: 'boot' } }))
  const f = new Folder()
  const all: EventBody[] = [{ type: 'MachineBooted', data: layout.boot }, ...boot, ...bodies]
  all.forEach((b, i) => f.apply({ seq: i + 1, t: i, cpu: null, ...b } as MmEvent))
  return f.current!
}

const pulled = (pfn: number, order = 10, mt = MOVABLE): EventBody => ({ type: 'ReportingPagesPulled', data: { zone: ZONE, pfns: [pfn], orders: [order], mts: [mt] } })
const returned = (pfn: number, order = 10, merges = 0, mt = MOVABLE): EventBody => ({
  type: 'ReportingPagesReturned',
  data: { zone: ZONE, pfns: [pfn], orders: [order], mts: [mt], merges: [merges], reported: true },
})
const populated: EventBody = { type: 'AerationBoundariesPopulated', data: { zone: ZONE } }
const alloc = (pfn: number, order: number, fromOrder: number): EventBody => ({ type: 'PageAllocated', data: { zone: ZONE, pfn, order, mt: MOVABLE, fromOrder, pcp: false } })
const free = (pfn: number, order: number, merges: number): EventBody => ({ type: 'PageFreed', data: { zone: ZONE, pfn, order, mt: MOVABLE, merges, tail: false, from: 'page' } })

const boundaryOf = (s: MmState, order: number): number => s.boundary!.boundary[freeListIdx(ZONE, order, MOVABLE)]!
const list = (s: MmState, order: number): number[] => listPfns(s.zone, s.zone.freeHead, freeListIdx(ZONE, order, MOVABLE))
const names = (s: MmState): string[] => checkInvariants(stateInvariants, s).map((v) => v.name)

/** Both blocks pulled, the zone ACTIVE, both returned: the aerated run is [1024, 0] and its boundary 1024. */
const aerated: EventBody[] = [pulled(0), pulled(1024), populated, returned(0), returned(1024)]

describe('the boundary', () => {
  it('drain: each returned block goes in front of the boundary and becomes it (set_page_aerated, aerator_add_to_boundary)', () => {
    const s = fold(aerated)
    expect(list(s, 10)).toEqual([1024, 0])
    expect(boundaryOf(s, 10)).toBe(1024)
    expect(s.boundary!.nrFreeAerated[10]).toBe(2)
    expect(names(s)).toEqual([])
  })

  it('a split of the boundary block moves the boundary to the next block (aerator_del_from_boundary); the halves are raw', () => {
    const s = fold([...aerated, alloc(1024, 9, 10)])
    expect(boundaryOf(s, 10)).toBe(0)
    expect(list(s, 9)).toEqual([1536])
    expect(s.boundary!.flag[1536]).toBe(0)
    expect(s.boundary!.nrFreeAerated[10]).toBe(1)
    expect(names(s)).toEqual([])
  })

  it('a raw tail insert lands above the aerated run while the zone is ACTIVE (aerator_get_tail)', () => {
    // 1024 allocated whole, then freed to the tail (as buddy_merge_likely would put it): in front of the boundary.
    const s = fold([...aerated, alloc(1024, 10, 10), { type: 'PageFreed', data: { zone: ZONE, pfn: 1024, order: 10, mt: MOVABLE, merges: 0, tail: true, from: 'page' } }])
    expect(list(s, 10)).toEqual([1024, 0])
    expect(boundaryOf(s, 10)).toBe(0)
    expect(s.boundary!.flag[1024]).toBe(0)
    expect(names(s)).toEqual([])
  })

  it('a free that merges with the aerated boundary block takes it off its list: the boundary moves on, the merged block is raw', () => {
    // An aerated order-9 block: 1024 allocated as order 9, its free half 1536 pulled and returned.
    const s = fold([...aerated, alloc(1024, 9, 10), pulled(1536, 9), returned(1536, 9), free(1024, 9, 1)])
    expect(boundaryOf(s, 9)).toBe(NIL)
    expect(list(s, 10)).toEqual([1024, 0])
    expect(s.boundary!.flag[1024]).toBe(0)
    expect(s.boundary!.nrFreeAerated[9]).toBe(0)
    expect(names(s)).toEqual([])
  })

  it('a returned block that merges with any buddy is raw, and the boundary stays where it was', () => {
    // 1024 allocated as order 9 leaves 1536 free; 1536 pulled; 1024 freed (its buddy is in flight); 1536 returned merges into 1024.
    const s = fold([...aerated, alloc(1024, 9, 10), pulled(1536, 9), free(1024, 9, 0), returned(1536, 9, 1)])
    expect(list(s, 10)).toEqual([1024, 0])
    expect(s.boundary!.flag[1024]).toBe(0)
    expect(boundaryOf(s, 10)).toBe(0)
    expect(names(s)).toEqual([])
  })

  it('delFromBoundary skip-when-allocated: the boundary is left on the allocated block, and boundary.valid says so', () => {
    const s = fold([...aerated, alloc(1024, 9, 10)], { reporting: 'aeration', delFromBoundary: 'skip-when-allocated' })
    expect(boundaryOf(s, 10)).toBe(1024)
    expect(checkBoundaries(s.boundary!, s.zone)?.message).toMatch(/points at block 1024, which is not on that list/)
    expect(names(s)).toContain('boundary.valid')
  })
})

describe('moving a flagged block to another migratetype (move_to_free_list)', () => {
  const moved: EventBody = { type: 'FreeBlockMoved', data: { zone: ZONE, pfn: 0, order: 10, toMt: 0 } }
  it('page reporting: the block stays PageReported (mainline keeps the flag on a move)', () => {
    const s = fold([pulled(0), returned(0), moved], { reporting: 'page-reporting' })
    expect([s.boundary!.flag[0], s.boundary!.nrFreeAerated[10]]).toEqual([1, 1])
    expect(names(s)).toEqual([])
  })
  it('aeration: the block is raw again at the head of its new list', () => {
    const s = fold([pulled(0), populated, returned(0), moved])
    expect([s.boundary!.flag[0], s.boundary!.nrFreeAerated[10], boundaryOf(s, 10)]).toEqual([0, 0, NIL])
    expect(names(s)).toEqual([])
  })
})

describe('each boundary invariant fails on a corrupted state', () => {
  const cases: [string, (s: MmState) => void][] = [
    ['boundary.valid', (s) => void (s.boundary!.flag[0] = 0)],
    ['boundary.aerated-contiguous', (s) => void ((s.boundary!.flag[0] = 0), (s.boundary!.nrFreeAerated[10] = 1))],
    ['boundary.nr-free-aerated', (s) => void s.boundary!.nrFreeAerated[10]!++],
    ['boundary.batch-held', (s) => void s.boundary!.batch.pfns.push(0)],
    ['boundary.batch-held', (s) => void (s.zone.frame[1536] = FRAME_REPORTING)],
    ['boundary.flag-cleared', (s) => void (s.boundary!.flag[1024] = 1)],
  ]
  it.each(cases)('%s', (name, corrupt) => {
    const s = fold([...aerated, alloc(1024, 9, 10)])
    s.boundary!.boundary[freeListIdx(ZONE, 10, MOVABLE)] = 0
    expect(names(s)).toEqual([])
    corrupt(s)
    expect(names(s)).toContain(name)
  })
})
