// Duyck's free page aeration, RFC v1 5/6 (reference/aeration-raw-vs-aerated-boundary.txt):
// aerator_notify_free, __aerator_notify, aerator_cycle / aerator_scrub_zone with its fill,
// react, drain and idle stages, and get_aeration_page (v1 4/6, as kernel-facts.md §4 describes it).
import { MAX_ORDER, MIGRATE_TYPES } from '../../../events/codecs'
import { NIL, freeListIdx, nrFreeIdx, pageblockMigratetype } from '../../../projections/zone/state'
import { assert } from '../../../lib'
import type { Kernel } from '../../kernel'
import { ReportingWork } from './device'

/** AERATOR_HWM: raw blocks of one order that make a free request aeration. */
export const AERATOR_HWM = 32
/** schedule_delayed_work(&aerator_work, HZ / 10): at most ten runs a second. */
export const AERATOR_DELAY_NS = 100_000_000

/** Laps of aerator_cycle over the zones without going idle, at most (each lap with work advances time by a react). */
const CYCLE_LAPS_MAX = 1 << 20

/**
 * The migratetype put_aeration_page frees a block back to: the one recorded at fill
 * (set_pcppage_migratetype), even if its pageblock was isolated while the block was in flight.
 * That is the RFC's hazard with page isolation (its fill walks MIGRATE_ISOLATE lists too, and a
 * block put back on a normal list inside an isolated pageblock is free memory the isolation does
 * not hold): offline_pages' test_pages_isolated sees PageBuddy and offlines it while NR_FREE_PAGES
 * still counts it (monitor `aeration-isolation.put-back-into-isolated-pageblock`). The variant
 * aerationPutBack=pageblock reads the pageblock's migratetype instead, as mainline's
 * page_reporting_drain does, and the block lands on the ISOLATE list the isolation holds.
 */
export const aerator_put_migratetype = (k: Kernel, pfn: number, recordedMt: number): number =>
  k.state.machine.reporting?.putBack === 'pageblock' ? pageblockMigratetype(k.state.zone, pfn) : recordedMt

export class Aerator extends ReportingWork {
  private zone = 0
  private laps = 0

  /** aerator_schedule_initial_aeration: every populated zone is requested. */
  startup(): void {
    for (let z = 0; z < this.b.zones; z++) this.__aerator_notify(z, this.b.minOrder, true)
  }

  notifyFree(zone: number, order: number): void {
    const b = this.b
    if (order < b.minOrder) return
    if (b.requested[zone] === 1) return
    const i = nrFreeIdx(zone, order)
    if (this.k.state.zone.nrFree[i]! - b.nrFreeAerated[i]! < AERATOR_HWM) return
    this.__aerator_notify(zone, order, false)
  }

  /** Sets ZONE_AERATION_REQUESTED and takes a reference; the first reference schedules the work. */
  private __aerator_notify(zone: number, order: number, startup: boolean): void {
    const scheduled = this.b.refcnt === 0
    this.k.emit(null, 'ReportingRequested', { zone, order, scheduled, startup })
    if (scheduled) this.scheduleWork(AERATOR_DELAY_NS, zone, 'aerator_cycle', () => this.aerator_cycle())
  }

  /** The work: one reference of its own, then every zone in turn until it holds the only reference. */
  private aerator_cycle(): void {
    this.k.emit(null, 'ReportingWorkStarted', { zone: 0 })
    this.zone = 0
    this.laps = 0
    this.aerator_scrub_zone()
  }

  private aerator_scrub_zone(): void {
    if (this.b.requested[this.zone] === 0) return this.nextZone()
    this.locked(this.zone, () => this.fill())
  }

  /** aerator_fill, then react with the lock dropped, or the end of the scrub when nothing was pulled. */
  private fill(): void {
    const zone = this.zone
    let budget = this.cfg.capacity
    fill: for (let order = MAX_ORDER - 1; order >= this.b.minOrder; order--)
      // Every migratetype, MIGRATE_ISOLATE included, as the RFC's loop runs (mainline skips it).
      for (let mt = MIGRATE_TYPES - 1; mt >= 0; mt--)
        for (let pfn = this.get_aeration_page(zone, order, mt); pfn !== NIL; pfn = this.get_aeration_page(zone, order, mt)) {
          this.pull(zone, pfn, order, mt)
          if (--budget === 0) break fill
        }
    // Too few blocks left to fill the reactor: this zone's request is done.
    if (budget > 0) this.k.emit(null, 'AerationRequestCleared', { zone })
    if (this.b.batch.pfns.length === 0) return this.endScrub()
    this.react(zone, () => this.drain())
  }

  /**
   * get_aeration_page: the block above the boundary (the list's tail when the zone is not being
   * aerated). An aerated block there means raw blocks are mixed in above it: take the head
   * instead, unless the head is aerated too, when the list is fully aerated and the boundary
   * moves to its head. NIL when there is nothing to take.
   */
  private get_aeration_page(zone: number, order: number, mt: number): number {
    const s = this.k.state.zone
    const b = this.b
    const i = freeListIdx(zone, order, mt)
    const head = s.freeHead[i]!
    if (head === NIL) return NIL
    const anchor = b.active[zone] === 1 ? b.boundary[i]! : NIL
    const start = anchor === NIL ? s.freeTail[i]! : s.prev[anchor]!
    if (start === NIL) return NIL
    if (b.flag[start] === 0) return start
    if (b.flag[head] === 0) return head
    if (b.boundary[i] !== head) this.k.emit(null, 'BoundaryMoved', { zone, order, mt, pfn: head })
    return NIL
  }

  /** Boundaries populated on the first drain, then every block back to its list; merged ones are raw and notify. */
  private drain(): void {
    const zone = this.zone
    if (this.b.active[zone] === 0) this.k.emit(null, 'AerationBoundariesPopulated', { zone })
    while (this.b.batch.pfns.length > 0) {
      const put = this.putBack(zone, aerator_put_migratetype(this.k, this.b.batch.pfns[0]!, this.b.batch.mts[0]!), true)
      if (put.merged) this.notifyFree(zone, put.order)
    }
    if (this.b.requested[zone] === 1) return this.fill()
    this.endScrub()
  }

  private endScrub(): void {
    if (this.b.active[this.zone] === 1) this.k.emit(null, 'AerationActiveCleared', { zone: this.zone })
    this.nextZone()
  }

  /** next_zone, and at the end of the list: idle when only the work's own reference is left, else another lap. */
  private nextZone(): void {
    if (++this.zone < this.b.zones) return this.aerator_scrub_zone()
    this.zone = 0
    if (this.b.refcnt === 1) {
      this.k.emit(null, 'ReportingWorkFinished', { rescheduled: false })
      return
    }
    assert(++this.laps < CYCLE_LAPS_MAX, 'aerator_cycle keeps finding requests')
    this.aerator_scrub_zone()
  }
}
