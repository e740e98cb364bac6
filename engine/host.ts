// The host (hypervisor) as an actor with memory pressure of its own: at each pass its clock hand
// sweeps the guest's frames and takes what the guest's hints allow. Unused pages are discarded
// (Ur -> Uz), volatile ones too (Vr -> Vz); stable pages can only be paged out (Sr -> Sp). A
// potentially volatile page goes by its dirty bit (kernel facts §1, GPH09 6/6): clean, it is
// discarded (Pr -> Vz), whether the host takes it as volatile or while paging out, since there
// is nothing to write; dirty, it is written out (Pr -> Sp), only when paging out.
import { PAGE_STATES } from '../events/hinting'
import { SK_changed } from '../projections/pages/state'
import { STATE_CODE } from '../projections/pages/states'
import type { HostSpec } from '../workload/codec'
import type { Kernel } from './kernel'
import { ACTOR_HOST, POINT_TIMER, siteAt, whereOf } from './sim/decisions'
import type { Timer } from './sim/simulator'

/** The host's pass decisions: the host, a timer, at its clock hand. */
const WHERE_PASS = whereOf(siteAt('host_pass', 'page'), POINT_TIMER, ACTOR_HOST)

export interface HostConfig {
  readonly intervalNs: number
  readonly pagesPerPass: number
  readonly scanPerPass: number
  readonly unused: boolean
  readonly volatile: boolean
  readonly pageOut: boolean
  readonly activeFromNs: number
  readonly activeUntilNs: number
}

export const DEFAULT_HOST: HostConfig = {
  intervalNs: 20_000,
  pagesPerPass: 64,
  scanPerPass: 4096,
  unused: true,
  volatile: true,
  pageOut: false,
  activeFromNs: 0,
  activeUntilNs: Number.MAX_SAFE_INTEGER,
}

export const resolveHost = (h: HostSpec | undefined): HostConfig => ({ ...DEFAULT_HOST, ...(h ?? {}) })

const { Ur, Vr, Pr, Sr } = STATE_CODE

export class Host {
  private hand = 0
  /** The page states a pass may take, by the host's configuration. */
  private readonly candidates: readonly number[]
  /** One timer for every pass: a pass is scheduled as often as a CPU steps, so it allocates nothing. */
  private readonly timer: Timer

  constructor(
    private readonly k: Kernel,
    private readonly cfg: HostConfig,
  ) {
    this.candidates = hostCandidates(cfg)
    this.timer = {
      name: 'host reclaim pass',
      fire: () => {
        this.pass()
        if (this.k.sim.running) this.schedule()
      },
      daemon: true,
    }
  }

  /**
   * Schedules the first pass; each pass schedules the next, jittered by up to half an interval.
   * The jitter is a schedule decision like a CPU's step: recorded, replayed, and drawn by the
   * seeded strategy from its own stream.
   */
  start(): void {
    this.schedule()
  }

  private schedule(): void {
    const sim = this.k.sim
    const minNs = this.cfg.intervalNs - (this.cfg.intervalNs >> 2)
    const delay = sim.timerDelayNs(WHERE_PASS, this.hand, minNs, minNs + (this.cfg.intervalNs >> 1))
    const at = Math.max(sim.nowNs + delay, this.cfg.activeFromNs)
    if (at > this.cfg.activeUntilNs) return
    sim.atTimer(at, this.timer)
  }

  private pass(): void {
    const k = this.k
    const p = k.pages
    let left = 0
    for (const st of this.candidates) left += p.stateCounts[st]!
    // Nothing the host may take: skip the sweep (the counts are the projection's own).
    if (left === 0) return
    this.hand = sweep(p.pstate, p.flags, this.candidates, left, this.hand, k.state.zone.pfnEnd, this.cfg, this.take)
  }

  private readonly take = (pfn: number, st: number, to: 'Uz' | 'Vz' | 'Sp'): void => {
    const from = PAGE_STATES[st]!
    if (to === 'Sp') this.k.emit(null, 'HostPagedOut', { pfn, from, to })
    else this.k.emit(null, 'HostDiscarded', { pfn, from, to })
  }
}

/** The state the host leaves a frame in, or null when it leaves the frame alone. */
export const hostTakes = (st: number, flags: number, c: HostConfig): 'Uz' | 'Vz' | 'Sp' | null => {
  if (st === Ur && c.unused) return 'Uz'
  if (st === Vr && c.volatile) return 'Vz'
  // A potentially volatile page goes by its dirty bit: clean, there is nothing to write.
  if (st === Pr && (c.volatile || c.pageOut) && (flags & SK_changed) === 0) return 'Vz'
  if ((st === Pr || st === Sr) && c.pageOut) return 'Sp'
  return null
}

/** The page states hostTakes may take under `c`. */
export const hostCandidates = (c: HostConfig): number[] => [
  ...(c.unused ? [Ur] : []),
  ...(c.volatile ? [Vr] : []),
  ...(c.volatile || c.pageOut ? [Pr] : []),
  ...(c.pageOut ? [Sr] : []),
]

/**
 * One sweep of the clock hand from `hand` over up to scanPerPass of the `n` frames, taking up to
 * pagesPerPass; returns where the hand stops. The hand jumps from one frame in a candidate state
 * to the next (the frames between could not be taken), and once all `left` such frames were
 * visited nothing more can be taken: the hand ends where the whole sweep would have left it.
 * `take` applies what the host does to a frame; it changes only that frame.
 */
export const sweep = (
  pstate: Uint8Array,
  flags: Uint16Array,
  candidates: readonly number[],
  left: number,
  hand: number,
  n: number,
  c: HostConfig,
  take: (pfn: number, st: number, to: 'Uz' | 'Vz' | 'Sp') => void,
): number => {
  const end = hand + Math.min(c.scanPerPass, n)
  let taken = 0
  // `at` runs from the hand over the sweep without wrapping; the frame visited is at % n.
  let at = hand
  while (at < end && taken < c.pagesPerPass) {
    if (left === 0) return end % n
    const pfn = at < n ? at : at - n
    const stretchEnd = at < n ? Math.min(n, end) : end - n
    const next = nextCandidate(pstate, candidates, pfn, stretchEnd)
    if (next < 0) {
      // None before the end of this stretch: go on from frame 0, or the sweep is over.
      at += stretchEnd - pfn
      continue
    }
    at += next - pfn + 1
    left--
    const st = pstate[next]!
    const to = hostTakes(st, flags[next]!, c)
    if (to === null) continue
    take(next, st, to)
    taken++
  }
  return at % n
}

/** The first frame in [from, end) in one of `states`, or -1: a native scan per state (there are at most four). */
const nextCandidate = (pstate: Uint8Array, states: readonly number[], from: number, end: number): number => {
  let best = -1
  for (let i = 0; i < states.length; i++) {
    const at = pstate.indexOf(states[i]!, from)
    if (at >= 0 && at < end && (best < 0 || at < best)) best = at
  }
  return best
}
