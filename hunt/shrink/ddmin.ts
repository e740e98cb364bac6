// Delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating Failure-Inducing Input",
// IEEE TSE 2002): ddmin reduces a failing set of units to a 1-minimal one, a set from which
// removing any single unit makes the test pass. It splits the set into n chunks, tries each chunk
// alone ("reduce to subset"), then each complement ("reduce to complement"), and doubles n when
// neither fails; it ends when n reaches the set's size and no complement fails.
//
// Units may depend on one another (an op that frees a tag needs the op that allocated it): the
// caller's `close` turns any candidate into a valid one by dropping the units whose prerequisites
// it lacks, so that a unit removed takes its dependents with it. A candidate that `close` leaves
// unchanged from the current set is not tried twice; every tried set is cached.
import { assert } from '../../lib'

export interface DdminOptions {
  /** Makes a candidate valid (drops units missing a prerequisite); ascending in, ascending out. */
  readonly close?: (kept: readonly number[]) => number[]
  /** Tests at most this many candidates; then the set reached is returned, marked not proven minimal. */
  readonly testsMax: number
}

export interface DdminResult {
  /** The units kept, ascending. */
  readonly kept: readonly number[]
  /** Candidates simulated (cache hits not counted). */
  readonly tests: number
  /** Every single unit's removal was tried and passed (false: testsMax was reached first). */
  readonly minimal: boolean
}

/**
 * ddmin over `units` (ascending), which must fail. `fails(kept)` simulates a candidate and says
 * whether it still shows the failure.
 */
export const ddmin = (units: readonly number[], fails: (kept: readonly number[]) => boolean, o: DdminOptions): DdminResult => {
  const close = o.close ?? ((k: readonly number[]) => [...k])
  const cache = new Map<string, boolean>()
  let tests = 0
  const test = (cand: readonly number[]): boolean => {
    const key = cand.join(',')
    const hit = cache.get(key)
    if (hit !== undefined) return hit
    tests++
    const r = fails(cand)
    cache.set(key, r)
    return r
  }
  let c = close(units)
  assert(c.length === units.length, 'the units given are a valid candidate')
  let n = 2
  while (c.length >= 2) {
    if (tests >= o.testsMax) return { kept: c, tests, minimal: false }
    const chunks = split(c, n)
    let reduced: number[] | null = null
    let nextN = n
    for (const chunk of chunks) {
      const cand = close(chunk)
      if (cand.length > 0 && cand.length < c.length && test(cand)) {
        reduced = cand
        nextN = 2
        break
      }
    }
    if (reduced === null)
      for (const chunk of chunks) {
        const drop = new Set(chunk)
        const cand = close(c.filter((u) => !drop.has(u)))
        if (cand.length < c.length && test(cand)) {
          reduced = cand
          nextN = Math.max(n - 1, 2)
          break
        }
        if (tests >= o.testsMax) return { kept: c, tests, minimal: false }
      }
    if (reduced !== null) {
      c = reduced
      n = Math.min(nextN, Math.max(c.length, 2))
      continue
    }
    if (n >= c.length) break
    n = Math.min(c.length, 2 * n)
  }
  // One unit left: it is 1-minimal only if the empty set passes.
  if (c.length === 1 && test(close([]))) c = []
  return { kept: c, tests, minimal: true }
}

/** `xs` in n contiguous chunks whose sizes differ by at most one. */
const split = (xs: readonly number[], n: number): number[][] => {
  const out: number[][] = []
  const k = Math.min(n, xs.length)
  let start = 0
  for (let i = 0; i < k; i++) {
    const end = start + Math.floor(xs.length / k) + (i < xs.length % k ? 1 : 0)
    out.push(xs.slice(start, end))
    start = end
  }
  return out
}
