// A 16 GiB guest (4M frames) runs: per-frame state lives in typed arrays.
import { describe, expect, it } from 'vitest'
import { checkInvariants, stateInvariants, renderBuddyinfo } from '../projections'
import { runInMemory, workload } from './helpers'

describe('scale', () => {
  it('boots and runs a 16 GiB guest with four CPUs, every invariant holding', () => {
    const { result } = runInMemory(
      workload(
        [
          { op: 'alloc', cpu: 0, order: 10, count: 1000, tag: 'big' },
          { op: 'churn', cpu: 1, steps: 20000 },
          { op: 'churn', cpu: 2, steps: 20000 },
          { op: 'pressure', cpu: 3, tag: 'p', zone: 'DMA32', order: 9, watermark: 'high' },
          { op: 'free', cpu: 0, tag: 'big' },
        ],
        {
          cpus: 4,
          zones: [
            { name: 'DMA32', mib: 4096 },
            { name: 'Normal', mib: 12288 },
          ],
        },
      ),
    )
    expect(result.outcome._tag).toBe('Finished')
    expect(result.state.zone.pfnEnd).toBe(4 * 1024 * 1024)
    expect(result.state.zone.zones.map((z) => z.managed)).toEqual([1 << 20, 3 << 20])
    expect(checkInvariants(stateInvariants, result.state)).toEqual([])
    // DMA32 was pressed down to its high watermark with order-9 blocks: few order-10 blocks left.
    const dma32 = renderBuddyinfo(result.state.zone).split('\n')[0]!.trim().split(/\s+/)
    expect(Number(dma32[dma32.length - 1])).toBeLessThan(10)
  })
})
