// Race sweeps over seeds, in this source tree or in a copy with one protection removed
// (mutate/protections.ts). A removal exists only in the copy: the product has no switch for it.
import * as path from 'node:path'
import { afterAll } from 'vitest'
import type { Variants, Workload } from '../workload/codec'
import { patchedTree, removeTree, ROOT } from '../mutate/patched'
import type { Protection } from '../mutate/protections'

/** What a sweep needs from a source tree: load a workload, run it, collect finding names. */
export interface Simulator {
  loadWorkload(file: string): Workload
  violations(w: Workload, variants: Variants, seed: number): string[]
}

interface TreeModules {
  run: typeof import('../engine/run')
  config: typeof import('../engine/config')
  load: typeof import('../workload/load')
}

const simulatorOf = (m: TreeModules): Simulator => ({
  loadWorkload: (file) => m.load.loadWorkload(path.join(ROOT, file)),
  violations: (w, variants, seed) => {
    const names: string[] = []
    m.run.simulate({
      workload: { ...w, variants: { ...w.variants, ...variants } },
      seed,
      config: m.config.resolveConfig(),
      sink: { append: (e) => void (e.type === 'InvariantViolated' && !names.includes(e.data.name) && names.push(e.data.name)) },
    })
    return names
  },
})

const trees: string[] = []
afterAll(() => {
  for (const d of trees.splice(0)) removeTree(d)
})

/** This tree, every protection in place. */
export const intact = async (): Promise<Simulator> =>
  simulatorOf({ run: await import('../engine/run'), config: await import('../engine/config'), load: await import('../workload/load') })

/** A copy of this tree with `p` removed by its source patch. */
export const without = async (p: Protection): Promise<Simulator> => {
  const dir = patchedTree(p.edits)
  trees.push(dir)
  return simulatorOf({
    run: await import(path.join(dir, 'engine/run.ts')),
    config: await import(path.join(dir, 'engine/config.ts')),
    load: await import(path.join(dir, 'workload/load.ts')),
  })
}

/** The first seed of `seeds` whose run breaks `invariant`, or null. */
export const firstSeedBreaking = (sim: Simulator, w: Workload, variants: Variants, invariant: string, seeds: readonly number[]): number | null =>
  seeds.find((seed) => sim.violations(w, variants, seed).includes(invariant)) ?? null

/** Every seed of `seeds` whose run records a finding (any, or only those named `only`), with the findings. */
export const seedsViolating = (sim: Simulator, w: Workload, variants: Variants, seeds: readonly number[], only?: string): { seed: number; names: string[] }[] =>
  seeds.map((seed) => ({ seed, names: sim.violations(w, variants, seed).filter((n) => only === undefined || n === only) })).filter((r) => r.names.length > 0)

/**
 * The seeds a sweep covers: `from..to` in the regular suite, or the range in MMSIM_RACE_SEEDS
 * ("1-200"), which `npm run mutate` sets for its full sweeps.
 */
export const sweepSeeds = (from: number, to: number): { from: number; to: number; seeds: number[] } => {
  const m = /^(\d+)-(\d+)$/.exec(process.env.MMSIM_RACE_SEEDS ?? '')
  const [a, b] = m ? [Number(m[1]), Number(m[2])] : [from, to]
  return { from: a, to: b, seeds: Array.from({ length: b - a + 1 }, (_, i) => a + i) }
}

/** The message a sweep fails with: how many seeds of the range, the findings, then the seeds. */
export const failingSeeds = (bad: readonly { seed: number; names: string[] }[], range: { from: number; to: number }): string =>
  `${bad.length} of seeds ${range.from}..${range.to} record ${[...new Set(bad.flatMap((b) => b.names))].join(', ')}: ${bad.map((b) => b.seed).join(', ')}`
