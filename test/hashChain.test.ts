// The hashes of storage/HASHES.md, as specified: published cyrb53 values, and the vectors that
// page gives for each hash, so another program that follows the page gets the same values.
import { describe, expect, it } from 'vitest'
import { ACTOR_HOST, POINT_STEP, POINT_TIMER, describePlace, placeText, siteAt, whereOf } from '../engine/sim/decisions'
import { blockHash, cyrb53, eventFrames, headHash, identityHash, rowHash, rowHashV1, rowText, rowTextV1, scheduleHash, sealHash } from '../storage'

const row1 = [1, 0, null, 'MachineBooted', null, null, null, [], '{"zones":1}'] as const
const row2 = [2, 1500, 1, 'DiscardListSpliced', null, null, 1, [7, 96311], '{"cpu":1,"pfns":[96311,7]}'] as const
const IDENTITY = '33722c5122fd3af5594203cdcc0d97606109bf79361123d41e430051570e7cd0'

describe('cyrb53', () => {
  it('with seed 0 gives the values its author published', () => {
    expect(cyrb53('a')).toBe(7929297801672961)
    expect(cyrb53('b')).toBe(8684336938537663)
    expect(cyrb53('revenge')).toBe(4051478007546757)
    expect(cyrb53('revenue')).toBe(8309097637345594)
  })

  it('takes a 53-bit seed: the high bits change the hash too', () => {
    expect(cyrb53('a', 2 ** 40)).not.toBe(cyrb53('a'))
    expect(cyrb53('a', 2 ** 40)).not.toBe(cyrb53('a', 2 ** 41))
    expect(Number.isSafeInteger(cyrb53('a', 2 ** 53 - 1))).toBe(true)
  })
})

describe('row text and row hash (hash version 2)', () => {
  it('the row text joins the fields with U+001F, nulls empty, frames comma-separated', () => {
    expect(rowText(...row1)).toBe('1\u001f0\u001f\u001fMachineBooted\u001f\u001f\u001f\u001f\u001f{"zones":1}')
    expect(rowText(...row2)).toBe('2\u001f1500\u001f1\u001fDiscardListSpliced\u001f\u001f\u001f1\u001f7,96311\u001f{"cpu":1,"pfns":[96311,7]}')
    expect(rowText(3, 2000, 0, 'PageAllocated', 4096, 8, null, [], '{"pfn":4096}')).toBe('3\u001f2000\u001f0\u001fPageAllocated\u001f4096\u001f8\u001f\u001f\u001f{"pfn":4096}')
  })

  it('the row hash is cyrb53 of the row text seeded with the previous hash, and matches the vectors', () => {
    const h1 = rowHash(0, ...row1)
    expect(h1).toBe(4406419558164862)
    expect(h1).toBe(cyrb53(rowText(...row1), 0))
    const h2 = rowHash(h1, ...row2)
    expect(h2).toBe(784480971146054)
    expect(h2).toBe(cyrb53(rowText(...row2), h1))
  })

  it('every column changes the hash, and a field cannot slide into its neighbour', () => {
    const base = rowHash(0, 5, 10, 0, 'PcpFreed', 12, 1, 3, [], '{}')
    const variants = [
      rowHash(0, 5, 10, 0, 'PcpFreed', 13, 1, 3, [], '{}'),
      rowHash(0, 5, 10, 0, 'PcpFreed', 12, 2, 3, [], '{}'),
      rowHash(0, 5, 10, 0, 'PcpFreed', 12, 1, null, [], '{}'),
      rowHash(0, 5, 10, 0, 'PcpFreed', 12, 1, 3, [12], '{}'),
      rowHash(0, 5, 10, 0, 'PcpFreed', 121, null, 3, [], '{}'),
      rowHash(0, 5, 10, null, 'PcpFreed', 12, 1, 3, [], '{}'),
      rowHash(1, 5, 10, 0, 'PcpFreed', 12, 1, 3, [], '{}'),
    ]
    for (const v of variants) expect(v).not.toBe(base)
  })

  it("an event's frames are its distinct pfns, ascending", () => {
    expect(eventFrames(null)).toEqual([])
    expect(eventFrames([96311, 7, 96311, 12])).toEqual([7, 12, 96311])
  })

  it('hash version 1 hashes the row without pfn, npages and frames, as schema 1 wrote it', () => {
    expect(rowTextV1(1, 0, null, 'MachineBooted', null, '{"zones":1}')).toBe('1\u001f0\u001f\u001fMachineBooted\u001f\u001f{"zones":1}')
    expect(rowHashV1(0, 1, 0, null, 'MachineBooted', null, '{"zones":1}')).toBe(5938920053659548)
  })
})

/** The sealed columns of the vectors in storage/HASHES.md §6. */
const SEALED = {
  identity: IDENTITY,
  workloadName: 'w',
  workloadSource: 'w.json',
  createdAt: '2026-01-01T00:00:00.000Z',
  pid: 42,
  host: 'h',
  status: 'finished',
  outcome: 'Finished',
  reason: null,
  violations: 0,
  finishedAt: '2026-01-01T00:00:01.000Z',
}

describe('the SHA-256 hashes', () => {
  it('identity, block, schedule, head and seal match the vectors of storage/HASHES.md', () => {
    const id = identityHash({ engineVersion: '0.1.0', seed: 1, config: '{}', workload: '{"version":1}' })
    expect(id).toBe(IDENTITY)
    const block = blockHash(id, [rowText(...row1), rowText(...row2)])
    expect(block).toBe('8c6054179edbb29927096f94db99f02b7456fddb38aed1225157005695ee5496')
    const schedule = scheduleHash('', new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]))
    expect(schedule).toBe('026a97a3c3a8083dbd6bca47ec5682023df064879a076e10d90547f662c022e0')
    expect(headHash(block, 2, schedule, 2, 2)).toBe('1c1edc7e3a4d1bb3024ff2489e4ce37d0034d0b05a67816e28d1ed2e4489b040')
    const seal = sealHash(SEALED)
    expect(seal).toBe('bb94f891fbff085bf19242ca746d51b7112ce02581d78fe66c4ff0ddf55e2172')
  })

  it('hash version 3: decision records, their schedule and head, and the seal with the lineage match the vectors', () => {
    const block = '8c6054179edbb29927096f94db99f02b7456fddb38aed1225157005695ee5496'
    const alloc = whereOf(siteAt('__alloc_pages', 'zone'), POINT_STEP, 1)
    const host = whereOf(siteAt('host_pass', 'page'), POINT_TIMER, ACTOR_HOST)
    expect([alloc, host]).toEqual([0x00171001, 0x001a0cff])
    expect(placeText(describePlace(alloc, 1))).toBe('cpu 1 step at __alloc_pages (zone 1)')
    expect(placeText(describePlace(host, 7))).toBe('host timer at host_pass (page 0x7)')
    const bytes = new Uint8Array(new Uint32Array([100, alloc, 1, 20000, host, 7]).buffer)
    expect(Buffer.from(bytes).toString('hex')).toBe('640000000110170001000000204e0000ff0c1a0007000000')
    const schedule = scheduleHash('', bytes)
    expect(schedule).toBe('2312237eef4089478c1fa7773b0b99322cd672ea19ed73540a477b9ee2c07cdb')
    expect(headHash(block, 2, schedule, 2, 3)).toBe('88e25d407fba67f00d599a1b86c49df6d43fe35ed69774d9608b5aee0834d737')
    const lineage = { parentRun: 1, derivation: 'fork' as const, forkSeq: 500, scheduleSeed: 7, departedSeq: 500, departedDecision: 1234 }
    expect(sealHash(SEALED, lineage)).toBe('646b29dfe42a68c41d2c0b080d87b7ef1c0177aef6d3c3090ec9485bc1eacc85')
  })
})
