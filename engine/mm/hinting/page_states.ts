// page_make_volatile and page_make_stable (GPH09 1/6, mm/page-states.c) and how they exclude
// each other, per the stateChange variant:
//  - lock (the patch): make_volatile try-locks the per-page state-change bit and gives up when
//    it is taken; make_stable spins on it, so a stable request is never overtaken by a
//    make_volatile already in flight.
//  - cas (the review: "manage the page state bitmap with compare-and-swap"): no lock;
//    make_volatile reads the state word, runs its checks, and commits with a cmpxchg on that
//    word alone, which fails only if the page state itself changed in between. Flags and counts
//    are other words a cmpxchg does not see, so a reader that took a reference and found the
//    page already stable does not stop it: the race tests find the page discarded in use.
//    make_stable is one ESSA.
//  - none: neither; make_volatile commits what it decided on stale checks.
import { essa_set_pot_volatile, essa_set_stable_if_not_discarded, essa_set_volatile, stateName } from '../../../projections/pages/states'
import { PG_anon, PG_discarded, PG_dirty, PG_locked, PG_lru, PG_mlocked, PG_private, PG_uptodate, PG_writable, PG_writeback, SK_changed } from '../../../projections/pages/state'
import type { Kernel } from '../../kernel'
import { point, type Cpu, type Path } from '../../sim/cpu'
import { siteAt } from '../../sim/decisions'
import { spin_lock, spin_trylock, spin_unlock } from '../../sim/sync'
import { essa_page } from './essa'
import { absurd } from '../../../lib'

/** Between the checks and the ESSA that commits them: the window the stateChange variants argue about. */
const AT_MAKE_VOLATILE = siteAt('page_make_volatile', 'page')

const MUST_BE_CLEAR = PG_dirty | PG_writeback | PG_locked | PG_private | PG_discarded | PG_mlocked | PG_anon
const MUST_BE_SET = PG_uptodate | PG_lru

/**
 * check_bits: the page is a clean, idle page cache page the host may drop and the guest could
 * read back (not dirty, under writeback, locked, with buffers, discarded, mlocked or anonymous;
 * up to date, on the LRU, with a mapping). `ignoreWriteback` is the writeback-start variant's
 * call site, whose checks assume a writeback that has already ended.
 */
export const check_bits = (k: Kernel, pfn: number, ignoreWriteback = false): boolean => {
  const p = k.pages
  const f = p.flags[pfn]!
  const clear = ignoreWriteback ? MUST_BE_CLEAR & ~PG_writeback : MUST_BE_CLEAR
  return (f & clear) === 0 && (f & MUST_BE_SET) === MUST_BE_SET && p.file[pfn]! >= 0
}

/** check_counts: nobody but the page cache (offset 1) and the caller (offset 2) and the ptes holds it. */
export const check_counts = (k: Kernel, pfn: number, offset: number): boolean => k.pages.mapcount[pfn]! + offset === k.pages.refcount[pfn]!

/** page_set_volatile: SET_VOLATILE, or SET_POT_VOLATILE for a page mapped writable (PG_writable). */
const set_volatile = (k: Kernel, cpu: Cpu, pfn: number): void => {
  const p = k.pages
  const from = stateName(p.pstate[pfn]!)
  const f = p.flags[pfn]!
  const to = (f & PG_writable) !== 0 ? essa_set_pot_volatile(from, (f & SK_changed) !== 0) : essa_set_volatile(from)
  essa_page(k, cpu, pfn, to, 'page_make_volatile')
}

export interface MakeVolatileOptions {
  /** The caller holds a reference of its own: offset 2 instead of 1. */
  readonly callerHolds?: boolean
  readonly ignoreWriteback?: boolean
}

/** page_make_volatile: offer a clean page cache page to the host, if nothing needs it stable. */
export const page_make_volatile = function* (k: Kernel, cpu: Cpu, pfn: number, o: MakeVolatileOptions = {}): Path {
  const cfg = k.hinting
  if (cfg === null) return
  const offset = o.callerHolds ? 2 : 1
  const ok = () => check_bits(k, pfn, o.ignoreWriteback) && check_counts(k, pfn, offset)
  switch (cfg.stateChange) {
    case 'lock': {
      const bit = k.locks.stateChange(pfn)
      if (!spin_trylock(cpu, bit)) return
      // The checks may go stale while we hold the bit (a reader can still take a reference);
      // what the bit guarantees is that such a reader's page_make_stable runs after us.
      const go = ok()
      yield point(cpu, AT_MAKE_VOLATILE, pfn)
      if (go) set_volatile(k, cpu, pfn)
      spin_unlock(k.sim, cpu, bit)
      return
    }
    case 'cas': {
      const old = k.pages.pstate[pfn]
      const go = ok()
      yield point(cpu, AT_MAKE_VOLATILE, pfn)
      // cmpxchg(state word, old, new): it compares the page state and nothing else.
      if (go && k.pages.pstate[pfn] === old) set_volatile(k, cpu, pfn)
      return
    }
    case 'none': {
      const go = ok()
      yield point(cpu, AT_MAKE_VOLATILE, pfn)
      if (go) set_volatile(k, cpu, pfn)
      return
    }
    default:
      return absurd(cfg.stateChange)
  }
}

/**
 * page_make_stable: SET_STABLE_IF_NOT_DISCARDED, required before the guest touches a page's
 * content. False when the host has discarded the page; the caller must then discard it too.
 */
export const page_make_stable = function* (k: Kernel, cpu: Cpu, pfn: number): Path<boolean> {
  const cfg = k.hinting
  if (cfg === null) return true
  const attempt = (): boolean => {
    const to = essa_set_stable_if_not_discarded(stateName(k.pages.pstate[pfn]!))
    if (to === null) return false
    essa_page(k, cpu, pfn, to, 'page_make_stable')
    return true
  }
  if (cfg.stateChange !== 'lock') return attempt()
  // Spin while a make_volatile holds the bit, so that its state change lands before ours.
  const bit = k.locks.stateChange(pfn)
  yield* spin_lock(k.sim, cpu, bit)
  const r = attempt()
  spin_unlock(k.sim, cpu, bit)
  return r
}
