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

  constructor(
    private readonly k: Kernel,
    private readonly cfg: HostConfig,
  ) {}

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
    sim.at(
      at,
      'host reclaim pass',
      () => {
        this.pass()
        if (sim.running) this.schedule()
      },
      true,
    )
  }

  private pass(): void {
    const k = this.k
    const p = k.pages
    const n = k.state.zone.pfnEnd
    const c = this.cfg
    // Nothing the host may take: skip the sweep (the counts are the projection's own).
    const counts = p.stateCounts
    const takeable = (c.unused ? counts[Ur]! : 0) + (c.volatile ? counts[Vr]! + counts[Pr]! : 0) + (c.pageOut ? counts[Sr]! + counts[Pr]! : 0)
    if (takeable === 0) return
    let taken = 0
    for (let scanned = 0; scanned < Math.min(c.scanPerPass, n) && taken < c.pagesPerPass; scanned++) {
      const pfn = this.hand
      this.hand = this.hand + 1 === n ? 0 : this.hand + 1
      const st = p.pstate[pfn]!
      const from = PAGE_STATES[st]!
      if (st === Ur && c.unused) k.emit(null, 'HostDiscarded', { pfn, from, to: 'Uz' })
      else if (st === Vr && c.volatile) k.emit(null, 'HostDiscarded', { pfn, from, to: 'Vz' })
      else if (st === Pr && (c.volatile || c.pageOut) && (p.flags[pfn]! & SK_changed) === 0) k.emit(null, 'HostDiscarded', { pfn, from, to: 'Vz' })
      else if (st === Pr && c.pageOut) k.emit(null, 'HostPagedOut', { pfn, from, to: 'Sp' })
      else if (st === Sr && c.pageOut) k.emit(null, 'HostPagedOut', { pfn, from, to: 'Sp' })
      else continue
      taken++
    }
  }
}
