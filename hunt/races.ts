// Every race variant in mmsim, one entry each: the example workload that shows it, the variant
// switch, its value with the protection off (the race can happen) and on (it cannot), and the
// invariant the race breaks first. The race-hunting tests (explore, bisect, shrink, inevitable),
// and the exploration bench read this list, so a new variant is one line here.
import type { Variants } from '../workload/codec'

export interface RaceVariant {
  /** `discardList=off`: how a person names it. */
  readonly id: string
  /** The example workload, relative to the repository. */
  readonly workload: string
  readonly key: keyof Variants
  /** The value that lets the race happen. */
  readonly unprotected: string
  /** The value that protects against it (the kernel's design, or the patch's). */
  readonly protection: string
  /** The invariant a racing schedule breaks first. */
  readonly invariant: string
  /** Seeds 1..seedsMax hold at least one that breaks it with the protection off. */
  readonly seedsMax: number
}

const race = <K extends keyof Variants>(
  workload: string,
  key: K,
  unprotected: NonNullable<Variants[K]>,
  protection: NonNullable<Variants[K]>,
  invariant: string,
  seedsMax: number,
): RaceVariant => ({ id: `${key}=${unprotected}`, workload, key, unprotected, protection, invariant, seedsMax })

export const RACE_VARIANTS: readonly RaceVariant[] = [
  // Guest page hinting (GPH06 8/9, GPH09 and its review).
  race('workloads/gph-discard-list.json', 'discardList', 'off', 'on', 'hinting.discard-fault-on-reused-frame', 40),
  race('workloads/gph-state-change.json', 'stateChange', 'none', 'lock', 'hinting.no-discard-in-use', 20),
  race('workloads/gph-volatile-at.json', 'volatileAt', 'writeback-start', 'writeback-end', 'hinting.no-discard-writeback', 20),
  race('workloads/gph-fork-vs-discard.json', 'forkVsDiscard', 'unchecked', 'checked', 'hinting.no-pte-to-discarded', 40),
  // Anonymous reverse mapping (mm/rmap.c).
  race('workloads/anon-vma-prepare.json', 'anonVmaPrepare', 'unchecked', 'recheck', 'rmap.prepare-once', 20),
  race('workloads/anon-vma-lock-rmap.json', 'lockRmap', 'off', 'on', 'rmap.walk-complete', 20),
  race('workloads/anon-vma-reuse.json', 'anonVmaReuse', 'degree', 'fixed', 'rmap.reuse-unused', 5),
  // Page isolation (mm/page_isolation.c): Kravetz 2018 (2c7452a075d4), and guest page hinting beside hot-remove.
  race('workloads/isolation-contig.json', 'isolateRecheck', 'off', 'on', 'isolation.no-alloc-inside', 5),
  race('workloads/isolation-discard.json', 'discardIntoIsolated', 'pcp', 'isolate-check', 'hinting-isolation.collected-page-reallocated', 20),
  // Free page aeration (the RFC's aerator_del_from_boundary).
  race('workloads/aeration-boundary-race.json', 'delFromBoundary', 'skip-when-allocated', 'always', 'boundary.valid-between-events', 5),
  // Joonsoo Kim 2014 (a run is about 200,000 events; its reproducer shrinks to a few hundred).
  race('workloads/isolation-free-race.json', 'freeMtRecheck', 'off', 'on', 'buddy.page-conservation', 2),
]

/** The variant's workload variants with the protection off, or on. */
export const raceVariants = (r: RaceVariant, protectedOn: boolean): Variants => ({ [r.key]: protectedOn ? r.protection : r.unprotected }) as Variants
