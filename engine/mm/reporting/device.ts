// What the aeration RFC and mainline page reporting share: a device the buddy allocator notifies
// on frees of large blocks, delayed work that runs as timers of the simulator (a kworker: it takes
// the zone lock only between CPU steps, and never while a CPU holds it), and the host processing a
// batch after a latency. Each phase is atomic under the zone lock, as in the kernel; the lock is
// dropped only while the host works on a batch.
import { ACTOR_HOST, POINT_TIMER, siteAt, whereOf } from '../../sim/decisions'
import type { Kernel } from '../../kernel'
import { decideFreeOnePage } from '../buddy'
import type { BoundaryState } from '../../../projections/boundary/state'
import type { ReportingConfig } from '../../../events/reporting'
import { assert } from '../../../lib'

export interface ReportingDevice {
  /** aerator_startup / page_reporting_register: the initial request, once boot memory is free. */
  startup(): void
  /** aerator_notify_free / page_reporting_notify_free at the end of __free_one_page, with the merged order. */
  notifyFree(zone: number, order: number): void
}

const WHERE_WORK = whereOf(siteAt('reporting_work', 'zone'), POINT_TIMER, ACTOR_HOST)
const WHERE_REACT = whereOf(siteAt('reporting_react', 'zone'), POINT_TIMER, ACTOR_HOST)

/** How long the kworker waits before trying a zone lock a CPU holds again. */
const LOCK_RETRY_NS = 1_000

export abstract class ReportingWork implements ReportingDevice {
  protected readonly cfg: ReportingConfig
  constructor(protected readonly k: Kernel) {
    assert(k.state.machine.reporting !== undefined && k.state.boundary !== null, 'the run reports free memory')
    this.cfg = k.state.machine.reporting
  }

  abstract startup(): void
  abstract notifyFree(zone: number, order: number): void

  protected get b(): BoundaryState {
    return this.k.state.boundary!
  }

  /** schedule_delayed_work: the work runs `delayNs` from now (a recorded timer decision). */
  protected scheduleWork(delayNs: number, zone: number, name: string, fire: () => void): void {
    const sim = this.k.sim
    const d = sim.timerDelayNs(WHERE_WORK, zone, delayNs, delayNs)
    sim.at(sim.nowNs + d, name, fire, true)
  }

  /**
   * prdev->report / a_dev_info->react: the host takes the batch and answers after its latency,
   * jittered by up to a half (the virtqueue round trip and madvise vary); then `then` runs.
   */
  protected react(zone: number, then: () => void): void {
    const sim = this.k.sim
    const d = sim.timerDelayNs(WHERE_REACT, zone, this.cfg.latencyNs, this.cfg.latencyNs + (this.cfg.latencyNs >> 1))
    sim.at(
      sim.nowNs + d,
      'reporting react',
      () => {
        const { pfns, orders } = this.b.batch
        let pages = 0
        for (const o of orders) pages += 1 << o
        this.k.emit(null, 'ReportingHostReacted', { zone, blocks: pfns.length, pages, freed: this.cfg.hostFrees })
        this.locked(zone, then)
      },
      true,
    )
  }

  /** spin_lock(&zone->lock) for a kworker: runs `fn` now, or once the CPU holding the lock has let it go. */
  protected locked(zone: number, fn: () => void): void {
    if (this.k.zoneLocks[zone]!.owner === null) return fn()
    const sim = this.k.sim
    sim.at(sim.nowNs + LOCK_RETRY_NS, 'reporting zone lock', () => this.locked(zone, fn), true)
  }

  /** One block leaves its free list for the batch. */
  protected pull(zone: number, pfn: number, order: number, mt: number): void {
    this.k.emit(null, 'ReportingPagesPulled', { zone, pfns: [pfn], orders: [order], mts: [mt] })
  }

  /**
   * __free_one_page of the batch's first block to the tail of free_list[mt] (put_aeration_page,
   * __putback_isolated_page): one event per block, since a block may merge with one returned
   * before it. Returns whether it merged.
   */
  protected putBack(zone: number, mt: number, reported: boolean): { pfn: number; order: number; merged: boolean } {
    const pfn = this.b.batch.pfns[0]!
    const order = this.b.batch.orders[0]!
    const { merges } = decideFreeOnePage(this.k.state.zone, zone, pfn, order, mt)
    this.k.emit(null, 'ReportingPagesReturned', { zone, pfns: [pfn], orders: [order], mts: [mt], merges: [merges], reported })
    return { pfn, order: order + merges, merged: merges > 0 }
  }
}
