// What a schedule decision says about where it was made. Every decision of a run is recorded as
// three 32-bit words: the delay the strategy chose, then `where` (the actor, why it was being
// scheduled, the yield site it is paused at and the kind of object its next step touches), then
// the object's id (a pfn, a zone, a process, a file, a CPU). A replay compares `where` and the
// object with what it is asked for, so it knows the decision at which a schedule stops fitting;
// shrinking a schedule and a partial-order search (ROADMAP.md §5) read the same words to find
// which steps touch the same object. storage/HASHES.md documents the layout.
import { assert } from '../../lib'

export { DECISION_WORDS, decisionCount, type RecordedSchedule } from '../../events/schedule'

/** The actor of a timer decision: the host (hypervisor). CPUs are 0..254. */
export const ACTOR_HOST = 0xff

/** Why an actor is being scheduled (`where` bits 8..10). */
export const POINT_STEP = 0 // the next step of a kernel path
export const POINT_WAKE = 1 // woken: a lock handed over, an IPI done, a wait satisfied
export const POINT_IPI = 2 // an interrupt delivered to this CPU
export const POINT_OP = 3 // the next workload operation (reserved)
export const POINT_TIMER = 4 // a timer's next expiry (the host's next pass)
export const POINT_NAMES = ['step', 'wake', 'ipi', 'op', 'timer'] as const

/**
 * The object a step is about to touch (`where` bits 11..15), by kind. A lock counts as what it
 * protects: a zone lock is the zone, the state-change bit and PG_locked are the page, a page
 * table lock is the process (mm), an i_mmap lock is the file; the site says which lock. `ipi` is
 * call_lock and the IPIs of smp_call_function; `anon_vma` is the root of an anon_vma tree (its lock).
 */
export const OBJ = { none: 0, page: 1, zone: 2, mm: 3, file: 4, cpu: 5, ipi: 6, anon_vma: 7 } as const
export type ObjKind = keyof typeof OBJ
export const OBJ_NAMES = Object.keys(OBJ) as readonly ObjKind[]

/**
 * The yield sites, by id. The id is the index, stored in every recorded decision: append new
 * sites at the end, never reorder or remove one (stored schedules name them by number).
 */
export const SITES = [
  'start', // a thread before its first step
  'done', // a thread that finished (it still takes IPIs)
  'spin_lock', // spinning on a lock held by another CPU
  'wait_event', // sleeping on a wait queue
  'sleep', // sleeping for a time (I/O, think time, congestion_wait)
  'smp_call_function', // IPIs sent, before looking whether they were all taken
  'smp_call_function:wait', // waiting for the IPIs to be taken
  'find_get_page', // before the page cache lookup
  'file_read_page', // copy_to_user of a referenced, stable page
  'file_write_page', // copy_from_user into a locked, stable page
  'writeback_page', // before the page cache lookup of write_cache_pages
  'invalidate_page', // before the page cache lookup of drop_caches / reclaim
  'touch_file_page', // before reading the process's pte
  'unmap_file_page', // before taking the page table lock
  'fork_mm', // before copying one pte under both page table locks
  'exit_mm', // before clearing one pte under the page table lock
  'page_make_volatile', // checks done, before the ESSA that commits them
  'page_unmap_all', // before the next process of the rmap walk
  'do_discard_fault:lowcore', // the fault's absolute address, interrupts off
  'do_discard_fault:pfn_to_page', // before get_page_unless_zero, interrupts off
  'page_shrink_discards', // before freeing the next collected page
  '__free_pages', // before freeing a block
  'should_reclaim_retry', // cond_resched
  '__alloc_pages', // before the fast path
  'cpu_down', // waiting for the target CPU to park
  'cpu_up', // after bringing the target CPU online
  'host_pass', // the host's next reclaim pass, from its clock hand
  'set_migratetype_isolate', // has_unmovable_pages scanning a pageblock, the zone lock held
  'migrate_pages', // before moving the next page out of an isolated range
  'offline_pages', // the migrate loop's wait before it retries (the range is isolated)
  'isolate_range', // between two pageblocks of start_isolate_page_range / undo_isolate_page_range
  'reporting_work', // free page reporting's delayed work (aerator_cycle, page_reporting_process), by zone
  'reporting_react', // the host processing a reporting batch, by zone
] as const
export type SiteName = (typeof SITES)[number]

const SITE_SHIFT = 16
const KIND_SHIFT = 11
const POINT_SHIFT = 8

/** A site and the kind of object touched there, packed as `where` holds them (no actor, no point). */
export const siteAt = (site: SiteName, kind: ObjKind): number => {
  const id = SITES.indexOf(site)
  assert(id >= 0, `site ${site} is in the table`)
  return ((id << SITE_SHIFT) | (OBJ[kind] << KIND_SHIFT)) >>> 0
}

/** The full `where` word: a site (from siteAt), why the actor is scheduled, and the actor. */
export const whereOf = (at: number, point: number, actor: number): number => (at | (point << POINT_SHIFT) | actor) >>> 0

export const actorOf = (where: number): number => where & 0xff
export const pointOf = (where: number): number => (where >>> POINT_SHIFT) & 0x7
export const kindOf = (where: number): number => (where >>> KIND_SHIFT) & 0x1f
export const siteOf = (where: number): number => where >>> SITE_SHIFT

/** A decision's where and object, decoded for people and for JSON. */
export interface DecisionPlace {
  /** A CPU id, or 'host'. */
  readonly actor: number | 'host'
  readonly point: string
  readonly site: string
  readonly object: string
}

const objectText = (kind: number, obj: number): string => (kind === OBJ.none ? '-' : `${OBJ_NAMES[kind] ?? `kind${kind}`} ${kind === OBJ.page ? `0x${obj.toString(16)}` : obj}`)

export const describePlace = (where: number, obj: number): DecisionPlace => {
  const a = actorOf(where)
  return {
    actor: a === ACTOR_HOST ? 'host' : a,
    point: POINT_NAMES[pointOf(where)] ?? `point${pointOf(where)}`,
    site: SITES[siteOf(where)] ?? `site${siteOf(where)}`,
    object: objectText(kindOf(where), obj),
  }
}

/** `cpu 1 step at find_get_page (file 3)`: one line for a decision's place. */
export const placeText = (p: DecisionPlace): string => `${p.actor === 'host' ? 'host' : `cpu ${p.actor}`} ${p.point} at ${p.site}${p.object === '-' ? '' : ` (${p.object})`}`
