// Shorter preemptions: after ddmin has kept the fewest, each CPU step that a preemption delays is
// brought as close to the non-preempting default (stepNs) as still fails, by bisection between
// the default (which fails to fail: 1-minimality says so) and its delay. A reader then sees how
// long a CPU must be held back for the race, not the jitter that happened to be drawn. A host
// pass is left as it is: its default is the start of a range the record does not hold.
import type { Preemption } from '../../engine/config'
import { POINT_TIMER, pointOf } from '../../engine/sim/decisions'

/** `ps` with each CPU step's delay as short as still fails (`fails` is asked about each candidate list). */
export const shortenPreemptions = (ps: readonly Preemption[], stepNs: number, fails: (ps: readonly Preemption[]) => boolean): Preemption[] => {
  const out = ps.map((p) => [...p] as Preemption)
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!
    if (pointOf(p[2]) === POINT_TIMER || p[1] <= stepNs) continue
    // Invariant: a delay of hi fails; a delay of lo does not (lo = stepNs is the default).
    let lo = stepNs
    let hi = p[1]
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2)
      const cand = out.map((q, j) => (j === i ? ([q[0], mid, q[2], q[3]] as Preemption) : q))
      if (fails(cand)) hi = mid
      else lo = mid
    }
    out[i] = [p[0], hi, p[2], p[3]]
  }
  return out
}
