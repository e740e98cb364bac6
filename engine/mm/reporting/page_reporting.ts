// Mainline free page reporting, mm/page_reporting.c (v5.7+; kernel-facts.md §4):
// page_reporting_notify_free, __page_reporting_request, page_reporting_process, _process_zone,
// _cycle and _drain. The walk of one list runs under the zone lock until the scatterlist is full;
// the lock is dropped while the host processes the batch, and the walk restarts at the list head.
import { MAX_ORDER, MIGRATE_HIGHATOMIC, MIGRATE_ISOLATE, MIGRATE_MOVABLE, MIGRATE_TYPES } from '../../../events/codecs'
import { NIL, freeListIdx, nrFreeIdx, pageblockMigratetype } from '../../../projections/zone/state'
import { PAGE_REPORTING_IDLE, PAGE_REPORTING_REQUESTED } from '../../../projections/boundary/state'
import { zone_watermark_ok } from '../buddy'
import { ReportingWork } from './device'

/** PAGE_REPORTING_DELAY: 2 * HZ. */
export const PAGE_REPORTING_DELAY_NS = 2_000_000_000

export class PageReporting extends ReportingWork {
  private zone = 0
  private order = 0
  private mt = 0
  private budget = 0
  /** Free scatterlist slots (`offset`): capacity when the batch is empty. */
  private offset = 0

  /** page_reporting_register: an initial request. */
  startup(): void {
    this.__page_reporting_request(0, this.b.minOrder, true)
  }

  notifyFree(zone: number, order: number): void {
    if (order < this.b.minOrder) return
    this.__page_reporting_request(zone, order, false)
  }

  /** REQUESTED, and from IDLE the work 2 s later (it is never scheduled twice). */
  private __page_reporting_request(zone: number, order: number, startup: boolean): void {
    if (this.b.deviceState === PAGE_REPORTING_REQUESTED) return
    const scheduled = this.b.deviceState === PAGE_REPORTING_IDLE
    this.k.emit(null, 'ReportingRequested', { zone, order, scheduled, startup })
    if (scheduled) this.scheduleWork(PAGE_REPORTING_DELAY_NS, zone, 'page_reporting_process', () => this.page_reporting_process())
  }

  /** ACTIVE, every zone, then IDLE, or another run 2 s later if someone requested one meanwhile. */
  private page_reporting_process(): void {
    this.k.emit(null, 'ReportingWorkStarted', { zone: 0 })
    this.zone = 0
    this.process_zone()
  }

  private finish(): void {
    const rescheduled = this.b.deviceState === PAGE_REPORTING_REQUESTED
    this.k.emit(null, 'ReportingWorkFinished', { rescheduled })
    if (rescheduled) this.scheduleWork(PAGE_REPORTING_DELAY_NS, 0, 'page_reporting_process', () => this.page_reporting_process())
  }

  /** page_reporting_process_zone: skipped below low + capacity blocks of the reporting order; lists from the lowest order. */
  private process_zone(): void {
    if (this.zone >= this.b.zones) return this.finish()
    const z = this.k.state.zone.zones[this.zone]!
    this.offset = this.cfg.capacity
    const mark = z.watermarks.low + (this.cfg.capacity << this.b.minOrder)
    if (!zone_watermark_ok(this.k.state.zone, this.zone, 0, mark)) return this.nextZone()
    this.order = this.b.minOrder
    this.mt = 0
    this.locked(this.zone, () => this.cycle())
  }

  private nextZone(): void {
    this.zone++
    this.process_zone()
  }

  /** On to the next list, or the leftover report once every list of the zone was walked. */
  private nextList(): void {
    if (++this.mt === MIGRATE_TYPES) {
      this.mt = 0
      this.order++
    }
    if (this.order < MAX_ORDER) return this.cycle()
    if (this.offset === this.cfg.capacity) return this.nextZone()
    // Report the leftover pages before going idle.
    this.react(this.zone, () => {
      this.drain()
      this.nextZone()
    })
  }

  /** page_reporting_cycle's start: skip isolate and empty lists; a budget of a sixteenth of the list, plus one call. */
  private cycle(): void {
    const s = this.k.state.zone
    // We do not pull pages from the isolate free list.
    if (this.mt === MIGRATE_ISOLATE || s.freeHead[freeListIdx(this.zone, this.order, this.mt)] === NIL) return this.nextList()
    this.budget = Math.ceil(s.nrFree[nrFreeIdx(this.zone, this.order)]! / (this.cfg.capacity * 16))
    this.walk(s.freeHead[freeListIdx(this.zone, this.order, this.mt)]!)
  }

  /** list_for_each_entry_safe from `from`, under the zone lock. */
  private walk(from: number): void {
    const s = this.k.state.zone
    const b = this.b
    const { zone, order, mt } = this
    const i = freeListIdx(zone, order, mt)
    const min = s.zones[zone]!.watermarks.min
    let next = NIL
    for (let page = from; page !== NIL;) {
      const after = s.next[page]!
      if (b.flag[page] === 1) {
        page = after
        continue
      }
      if (this.budget < 0) {
        // Budget spent: ask for another pass and leave the rest of this list.
        if (b.deviceState !== PAGE_REPORTING_REQUESTED) this.k.emit(null, 'ReportingRequested', { zone, order, scheduled: false, startup: false })
        next = page
        break
      }
      if (this.offset > 0) {
        // __isolate_free_page: not below min + the block.
        if (!zone_watermark_ok(s, zone, 0, min + (1 << order))) {
          next = page
          break
        }
        this.__isolate_free_page(zone, page, order, mt)
        this.offset--
        page = after
        continue
      }
      // The scatterlist is full: keep the first unreported block first while the lock is dropped.
      if (s.freeHead[i] !== page) this.k.emit(null, 'FreeListRotated', { zone, order, mt, pfn: page })
      this.react(zone, () => {
        this.offset = this.cfg.capacity
        this.budget--
        this.drain()
        // The old next is not valid: restart at the list head.
        this.walk(s.freeHead[i]!)
      })
      return
    }
    // Rotate any leftover pages to the head of the freelist.
    if (next !== NIL && s.freeHead[i] !== next) this.k.emit(null, 'FreeListRotated', { zone, order, mt, pfn: next })
    this.nextList()
  }

  /**
   * __isolate_free_page's removal (the watermark is checked by the caller): the block leaves its
   * list, and since it is at least half a pageblock, each pageblock it covers that is neither
   * isolated nor highatomic becomes MIGRATE_MOVABLE (so drain puts it back on the Movable list).
   */
  private __isolate_free_page(zone: number, pfn: number, order: number, mt: number): void {
    this.pull(zone, pfn, order, mt)
    const s = this.k.state.zone
    for (let p = pfn; p < pfn + (1 << order); p += s.pageblockPages) {
      const pmt = pageblockMigratetype(s, p)
      if (pmt === MIGRATE_MOVABLE || pmt === MIGRATE_ISOLATE || pmt === MIGRATE_HIGHATOMIC) continue
      this.k.emit(null, 'PageblockMigratetypeSet', { zone, pfn: p, pages: s.pageblockPages, mt: MIGRATE_MOVABLE })
    }
  }

  /**
   * page_reporting_drain: each block back to the tail of its pageblock's current list without a
   * notify; PageReported when it did not merge (a merged block is reported later, larger).
   */
  private drain(): void {
    const s = this.k.state.zone
    while (this.b.batch.pfns.length > 0) this.putBack(this.zone, pageblockMigratetype(s, this.b.batch.pfns[0]!), true)
  }
}
