// Machine profiles (issue 7 §3): the arch sets the geometry, pageblock_order = HPAGE_SHIFT -
// PAGE_SHIFT: 9 on x86, 8 on s390 (HPAGE_SHIFT 20); MAX_ORDER stays 11 on both.
import { describe, expect, it } from 'vitest'
import { compileWorkload } from '../engine/workload/compile'
import { loadWorkload } from '../workload/load'
import { runInMemory, workload } from './helpers'

const errorsOf = (w: ReturnType<typeof workload>) => {
  const c = compileWorkload(w)
  return 'errors' in c ? c.errors : []
}
const booted = (w: ReturnType<typeof workload>) => {
  const c = compileWorkload(w)
  if ('errors' in c) throw new Error(JSON.stringify(c.errors))
  return c.compiled.boot
}

describe('arch: x86 | s390', () => {
  it('x86 boots with pageblock_order 9, s390 with 8', () => {
    expect(booted(workload([], { arch: 'x86' })).pageblockOrder).toBe(9)
    expect(booted(workload([], { arch: 's390' })).pageblockOrder).toBe(8)
  })

  it('without arch, a guest that hints is s390 and any other machine x86', () => {
    expect(booted(workload([], {})).pageblockOrder).toBe(9)
    expect(booted(workload([], { guestPageHinting: true })).pageblockOrder).toBe(8)
  })

  it('an explicit pageblockOrder that disagrees with the arch is an error naming both', () => {
    expect(errorsOf(workload([], { arch: 's390', pageblockOrder: 9 }))).toEqual([
      { path: '$.machine.pageblockOrder', message: 'expected 8, pageblock_order on s390 (HPAGE_SHIFT 20), got 9' },
    ])
    expect(errorsOf(workload([], { arch: 'x86', pageblockOrder: 9 }))).toEqual([])
  })

  it("guest page hinting on x86 is an error (ESSA is s390's)", () => {
    expect(errorsOf(workload([], { arch: 'x86', guestPageHinting: true })).map((e) => e.path)).toEqual(['$.machine.arch'])
  })

  it('an s390 zone is sized in 1 MiB pageblocks: 256 pages fit, 128 do not', () => {
    expect(errorsOf(workload([], { arch: 's390', zones: [{ name: 'Normal', pages: 256 }] }))).toEqual([])
    expect(errorsOf(workload([], { arch: 's390', zones: [{ name: 'Normal', pages: 128 }] })).map((e) => e.path)).toEqual(['$.machine.zones[0].pages'])
  })

  it('an s390 machine keeps a migratetype per 256-page pageblock: claiming an order-10 block relabels four', () => {
    const ops = [{ op: 'alloc' as const, cpu: 0, order: 0, mt: 'unmovable' as const, tag: 'a' }]
    const unmovableBlocks = (arch: 'x86' | 's390') =>
      [...runInMemory(workload(ops, { cpus: 1, arch, zones: [{ name: 'Normal', pages: 1024 }] })).result.state.zone.pageblockMt].filter((mt) => mt === 0).length
    expect(unmovableBlocks('s390')).toBe(4)
    expect(unmovableBlocks('x86')).toBe(2)
  })

  it('the hinting example workloads run on s390', () => {
    for (const f of ['default', 'gph-discard-list', 'gph-state-change', 'gph-volatile-at', 'gph-fork-vs-discard', 'gph-host-pressure-4g'])
      expect([f, loadWorkload(`workloads/${f}.json`).machine.arch]).toEqual([f, 's390'])
  })
})
