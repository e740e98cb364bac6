// The buddy allocator against mm/page_alloc.c (v4.13), one CPU so that the order is exact:
// given a zone, when a workload allocates and frees, then exactly these events happen.
import { describe, expect, it } from 'vitest'
import { MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, type MmEvent } from '../events'
import { choose_fallback } from '../engine/mm/buddy'
import { renderBuddyinfo } from '../projections'
import { eventsOfType, runInMemory, workload } from './helpers'

const body = (e: MmEvent) => ({ type: e.type, ...(e.data as object) })
const after = (events: MmEvent[], seq: number) => events.filter((e) => e.seq > seq && e.type !== 'InvariantViolated').map(body)
const bootEnd = (events: MmEvent[]) =>
  Math.max(
    ...eventsOfType(events, 'PageFreed')
      .filter((e) => e.data.from === 'boot')
      .map((e) => e.seq),
  )

// One CPU, one 4096-page zone: memblock frees four order-10 blocks, each to the list head.
const oneCpu = { cpus: 1, zones: [{ name: 'Normal', pages: 4096 }], pcpBatch: 4, pcpHigh: 8 }

describe('boot (memblock_free_all)', () => {
  it('frees each zone in the largest aligned blocks, every pageblock movable', () => {
    const { events, result } = runInMemory(workload([], oneCpu))
    expect(events.filter((e) => e.type === 'PageFreed').map(body)).toEqual(
      [0, 1024, 2048, 3072].map((pfn) => ({ type: 'PageFreed', zone: 0, pfn, order: 10, mt: MIGRATE_MOVABLE, merges: 0, tail: false, from: 'boot' })),
    )
    expect(renderBuddyinfo(result.state.zone)).toBe('Node 0, zone   Normal      0      0      0      0      0      0      0      0      0      0      4 \n')
  })

  it('never merges buddies across a zone boundary (page_is_buddy checks the zone)', () => {
    const { result } = runInMemory(
      workload([], {
        cpus: 1,
        zones: [
          { name: 'DMA32', pages: 512 },
          { name: 'Normal', pages: 1536 },
        ],
      }),
    )
    // pfn 0 (DMA32) and pfn 512 (Normal) are order-9 buddies, but in different zones.
    expect(renderBuddyinfo(result.state.zone)).toBe(
      'Node 0, zone    DMA32      0      0      0      0      0      0      0      0      0      1      0 \n' +
        'Node 0, zone   Normal      0      0      0      0      0      0      0      0      0      1      1 \n',
    )
  })
})

describe('allocation: __rmqueue_smallest and expand', () => {
  it('splits the head block of the smallest order, giving each upper half back to its order', () => {
    const { events, result } = runInMemory(workload([{ op: 'alloc', cpu: 0, order: 3, tag: 'a' }], oneCpu))
    expect(after(events, bootEnd(events))).toEqual([{ type: 'PageAllocated', zone: 0, pfn: 3072, order: 3, mt: MIGRATE_MOVABLE, fromOrder: 10, pcp: false, tag: 'a' }])
    // 3072 split: halves at 3584 (order 9), 3328 (8), 3200 (7), 3136 (6), 3104 (5), 3088 (4), 3080 (3).
    expect(renderBuddyinfo(result.state.zone)).toBe('Node 0, zone   Normal      0      0      0      1      1      1      1      1      1      1      3 \n')
  })

  it('merges a freed block with every free buddy back to order 10', () => {
    const { events, result } = runInMemory(
      workload(
        [
          { op: 'alloc', cpu: 0, order: 3, tag: 'a' },
          { op: 'free', cpu: 0, tag: 'a' },
        ],
        oneCpu,
      ),
    )
    expect(after(events, bootEnd(events))[1]).toEqual({ type: 'PageFreed', zone: 0, pfn: 3072, order: 3, mt: MIGRATE_MOVABLE, merges: 7, tail: false, from: 'page' })
    expect(renderBuddyinfo(result.state.zone)).toBe('Node 0, zone   Normal      0      0      0      0      0      0      0      0      0      0      4 \n')
  })

  it('puts a freed block at the tail when its next-order buddy is free (buddy_merge_likely)', () => {
    const { events } = runInMemory(
      workload(
        [
          { op: 'alloc', cpu: 0, order: 1, tag: 'a' }, // 3072..3073
          { op: 'alloc', cpu: 0, order: 1, tag: 'b' }, // 3074..3075
          { op: 'free', cpu: 0, tag: 'b' }, // buddy 3072 is allocated: no merge; order-2 buddy 3076 is free: tail
        ],
        oneCpu,
      ),
    )
    const frees = eventsOfType(events, 'PageFreed').filter((e) => e.data.from === 'page')
    expect(frees.map(body)).toEqual([{ type: 'PageFreed', zone: 0, pfn: 3074, order: 1, mt: MIGRATE_MOVABLE, merges: 0, tail: true, from: 'page' }])
  })
})

describe('per-cpu lists', () => {
  it('refills an empty list with a batch (rmqueue_bulk), then hands out its head', () => {
    const { events } = runInMemory(workload([{ op: 'alloc', cpu: 0, order: 0, tag: 'a' }], oneCpu))
    expect(after(events, bootEnd(events))).toEqual([
      { type: 'PageAllocated', zone: 0, pfn: 3072, order: 0, mt: 1, fromOrder: 10, pcp: true },
      { type: 'PageAllocated', zone: 0, pfn: 3073, order: 0, mt: 1, fromOrder: 0, pcp: true },
      { type: 'PageAllocated', zone: 0, pfn: 3074, order: 0, mt: 1, fromOrder: 1, pcp: true },
      { type: 'PageAllocated', zone: 0, pfn: 3075, order: 0, mt: 1, fromOrder: 0, pcp: true },
      { type: 'PcpAllocated', zone: 0, pfn: 3072, mt: 1, tag: 'a' },
    ])
  })

  it('puts hot frees at the head and cold frees at the tail', () => {
    const { events } = runInMemory(
      workload(
        [
          { op: 'alloc', cpu: 0, order: 0, tag: 'a' }, // 3072, list left: 3073 3074 3075
          { op: 'alloc', cpu: 0, order: 0, tag: 'b' }, // 3073
          { op: 'free', cpu: 0, tag: 'a', cold: true }, // list: 3074 3075 3072
          { op: 'free', cpu: 0, tag: 'b' }, // list: 3073 3074 3075 3072
          { op: 'alloc', cpu: 0, order: 0, count: 4, tag: 'c' },
        ],
        oneCpu,
      ),
    )
    expect(
      eventsOfType(events, 'PcpAllocated')
        .slice(2)
        .map((e) => e.data.pfn),
    ).toEqual([3073, 3074, 3075, 3072])
  })

  it('returns a batch from the list tails once pcp->count reaches high (free_pcppages_bulk)', () => {
    const { events } = runInMemory(
      workload(
        [
          { op: 'alloc', cpu: 0, order: 0, count: 8, tag: 'a' },
          { op: 'free', cpu: 0, tag: 'a' },
        ],
        oneCpu,
      ),
    )
    const drained = eventsOfType(events, 'PcpDrained')
    expect(drained.map(body)).toEqual([{ type: 'PcpDrained', zone: 0, count: 4, reason: 'high' }])
    const drainFrees = eventsOfType(events, 'PageFreed').filter((e) => e.cause === drained[0]!.seq)
    // pcp->high is 8: the eighth free triggers it; the four coldest pages (the first freed) go.
    expect(drainFrees.map((e) => e.data.pfn)).toEqual([3072, 3073, 3074, 3075])
    expect(drainFrees.every((e) => e.data.from === 'pcp')).toBe(true)
  })

  it('drain_all_pages empties every CPU list through an IPI', () => {
    const { result } = runInMemory(
      workload(
        [
          { op: 'alloc', cpu: 0, order: 0, count: 3, tag: 'a' },
          { op: 'alloc', cpu: 1, order: 0, count: 3, tag: 'b' },
          { op: 'free', cpu: 0, tag: 'a' },
          { op: 'free', cpu: 1, tag: 'b' },
          { op: 'barrier' },
          { op: 'drain', cpu: 0, all: true },
        ],
        { ...oneCpu, cpus: 2 },
      ),
    )
    expect(result.state.zone.zones[0]!.pcpPages).toBe(0)
    expect(result.state.zone.zones[0]!.nrFreePages).toBe(4096)
  })
})

describe('fallback (__rmqueue_fallback, steal_suitable_fallback)', () => {
  it('an unmovable request takes a whole movable pageblock range when the block is that large', () => {
    const { events } = runInMemory(workload([{ op: 'alloc', cpu: 0, order: 1, mt: 'unmovable', tag: 'u' }], oneCpu))
    expect(after(events, bootEnd(events))).toEqual([
      { type: 'PageblockMigratetypeSet', zone: 0, pfn: 3072, pages: 1024, mt: MIGRATE_UNMOVABLE },
      { type: 'FreeBlockMoved', zone: 0, pfn: 3072, order: 10, toMt: MIGRATE_UNMOVABLE },
      { type: 'PageAllocated', zone: 0, pfn: 3072, order: 1, mt: MIGRATE_UNMOVABLE, fromOrder: 10, pcp: false, tag: 'u' },
    ])
  })

  it('a movable request that cannot steal the pageblock takes the smallest fallback block', () => {
    const { result } = runInMemory(
      workload(
        [
          { op: 'alloc', cpu: 0, order: 1, mt: 'unmovable', count: 2, tag: 'u' }, // 3072 pageblocks become unmovable
          // Take the unmovable halves of order 9..4, leaving blocks of order 3 (3080) and 2 (3076).
          ...[9, 8, 7, 6, 5, 4].map((order) => ({ op: 'alloc' as const, cpu: 0, order, mt: 'unmovable' as const, tag: `u${order}` })),
        ],
        oneCpu,
      ),
    )
    // The largest fallback block is order 3, below pageblock_order / 2 (4, in C): a movable
    // request cannot claim its pageblock, so __rmqueue_fallback takes the smallest that fits.
    expect(choose_fallback(result.state.zone, 0, 1, MIGRATE_MOVABLE)).toEqual({ pfn: 3076, order: 2, fallbackMt: MIGRATE_UNMOVABLE, canSteal: false })
    // A reclaimable request may always steal, so the largest fallback block is chosen: with
    // the movable order-10 blocks still free, that is the head of their list.
    expect(choose_fallback(result.state.zone, 0, 1, MIGRATE_RECLAIMABLE)).toEqual({ pfn: 2048, order: 10, fallbackMt: MIGRATE_MOVABLE, canSteal: true })
  })
})

describe('watermarks', () => {
  it('pressure allocates until the low watermark and no further', () => {
    const { result } = runInMemory(workload([{ op: 'pressure', cpu: 0, tag: 'p', watermark: 'low' }], oneCpu))
    const z = result.state.zone.zones[0]!
    expect(z.nrFreePages).toBeLessThan(z.watermarks.low)
    expect(z.nrFreePages).toBeGreaterThanOrEqual(z.watermarks.low - oneCpu.pcpBatch)
  })

  it('fails an allocation once free pages would drop to the min watermark', () => {
    const { events, result } = runInMemory(workload([{ op: 'alloc', cpu: 0, order: 9, count: 8, tag: 'big' }], oneCpu))
    const z = result.state.zone.zones[0]!
    const failed = eventsOfType(events, 'PageAllocFailed')
    expect(failed.length).toBeGreaterThan(0)
    expect(failed[0]!.data).toEqual({ order: 9, mt: MIGRATE_MOVABLE, tag: 'big' })
    expect(z.nrFreePages - 511).toBeLessThanOrEqual(z.watermarks.min)
  })
})
