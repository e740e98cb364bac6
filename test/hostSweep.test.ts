// The host's clock-hand sweep jumps from one frame it may take to the next; it must take the
// same frames in the same order, and leave the hand where it stops, as the plain sweep that
// looks at every frame in turn (the reference below, as engine/host.ts first had it).
import { describe, expect, it } from 'vitest'
import { DEFAULT_HOST, hostCandidates, hostTakes, sweep, type HostConfig } from '../engine/host'
import { Prng } from '../engine/prng'
import { PAGE_STATES } from '../events/hinting'
import { SK_changed } from '../projections/pages/state'

const reference = (pstate: Uint8Array, flags: Uint16Array, hand: number, n: number, c: HostConfig): { taken: [number, string][]; hand: number } => {
  const taken: [number, string][] = []
  for (let scanned = 0; scanned < Math.min(c.scanPerPass, n) && taken.length < c.pagesPerPass; scanned++) {
    const pfn = hand
    hand = hand + 1 === n ? 0 : hand + 1
    const to = hostTakes(pstate[pfn]!, flags[pfn]!, c)
    if (to !== null) taken.push([pfn, to])
  }
  return { taken, hand }
}

describe('the host sweep', () => {
  it('takes what the frame-by-frame sweep takes and stops where it stops (random states and configurations, seeds 1..400)', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = Prng.fromSeed(seed)
      const n = r.int(1, 300)
      const c: HostConfig = {
        ...DEFAULT_HOST,
        pagesPerPass: r.int(1, 12),
        scanPerPass: r.int(1, 2 * n),
        unused: r.chance(50),
        volatile: r.chance(70),
        pageOut: r.chance(30),
      }
      // Mostly states the host leaves alone, a few it may take.
      const pstate = Uint8Array.from({ length: n }, () => r.int(0, PAGE_STATES.length - 1))
      const flags = Uint16Array.from({ length: n }, () => (r.chance(30) ? SK_changed : 0))
      for (let i = 0; i < n; i++) if (r.chance(80)) pstate[i] = PAGE_STATES.indexOf('Sz')
      const hand = r.int(0, n - 1)
      const candidates = hostCandidates(c)
      const left = pstate.reduce((a, st) => a + (candidates.includes(st) ? 1 : 0), 0)
      const ref = reference(pstate, flags, hand, n, c)
      const got: [number, string][] = []
      const end = left === 0 ? hand : sweep(pstate, flags, candidates, left, hand, n, c, (pfn, _st, to) => void got.push([pfn, to]))
      if (left === 0) expect(ref.taken, `seed ${seed}`).toEqual([])
      else expect({ taken: got, hand: end }, `seed ${seed}`).toEqual(ref)
    }
  })
})
