// The anon_vma_chain commit's figure at N = P = 50 (5beb49305251: "from O(N) to 2"): legacy
// linking walks all N + 1 VMAs for every page; anon_vma_chain walks one for the children's N·P
// pages and N + 1 for the parent's P, (2N + 1) / (N + 1) on average. Each within 2 %, the real
// sampled walks agreeing; and a chain that forgot the parent link (its removal in
// mutate/protections.ts) averages 1, which the same check refuses.
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { expectedAverage, runAnonVmaScaling, scalingFindings, scalingWorkload } from '../hunt/anonVmaScaling'
import { rmapCost } from '../projections'
import { protection } from '../mutate/protections'
import { patchedTree, removeTree } from '../mutate/patched'
import { tmpDir } from './helpers'

const N = 50
const P = 50

/** What the issue asks of each linking: the exact average within 2 % of the commit's prediction. */
const within2Percent = (average: number, expected: number): boolean => Math.abs(average - expected) <= 0.02 * expected

describe(`anon-vma-scaling at N = P = ${N}`, () => {
  it('legacy walks N + 1 VMAs per page, anon_vma_chain (2N + 1) / (N + 1), each within 2 %; the sampled walks agree', async () => {
    const r = await runAnonVmaScaling({ children: N, pages: P, sample: 4, seed: 1, db: path.join(tmpDir(), 'scaling.db') })
    const [legacy, chain] = r.rows
    expect([legacy!.linking, chain!.linking]).toEqual(['legacy', 'chain'])
    expect(expectedAverage('legacy', N)).toBe(51)
    expect(expectedAverage('chain', N)).toBeCloseTo(101 / 51, 12)
    for (const row of r.rows) {
      expect(row.pages).toBe((N + 1) * P)
      expect(within2Percent(row.exact.average, row.expected), `${row.linking}: ${row.exact.average} against ${row.expected}`).toBe(true)
      expect(within2Percent(row.sample.average, row.expected), `${row.linking} sampled: ${row.sample.average}`).toBe(true)
      expect(row.exact.max).toBe(N + 1)
      expect(row.disagreeing).toBe(0)
      expect(row.violations).toBe(0)
    }
    // Every anon_vma is a stratum: legacy has one, chain one per process.
    expect([legacy!.anonVmas, chain!.anonVmas]).toEqual([1, N + 1])
    expect([legacy!.sample.strata, chain!.sample.strata]).toEqual([1, N + 1])
    expect(chain!.sample.walks).toBe(4 * (N + 1))
    expect(scalingFindings(r)).toEqual([])
  })

  it('a chain that forgot the parent link averages 1 VMA per walk, and the 2 % check refuses it', async () => {
    const dir = patchedTree(protection('fork-links-parent-anon-vmas').edits)
    let cost
    try {
      const run = (await import(path.join(dir, 'engine/run.ts'))) as typeof import('../engine/run')
      const config = (await import(path.join(dir, 'engine/config.ts'))) as typeof import('../engine/config')
      const r = run.simulate({ workload: scalingWorkload('chain', N, P, 1), seed: 1, config: config.resolveConfig(), sink: { append: () => undefined } })
      cost = rmapCost(r.state.anonVma)
    } finally {
      removeTree(dir)
    }
    expect(cost.average).toBe(1)
    expect(within2Percent(cost.average, expectedAverage('chain', N))).toBe(false)
  })
})
