// The first event of every run: the machine the rest of the events happen on. Projections build
// their arrays from it, so a run can be folded without the workload that produced it.
import * as t from 'io-ts'
import { Int, NonNegInt, PosInt, intIn, oneOf } from './codecs'
import { ReportingConfig } from './reporting'

export const ZoneShape = t.type({
  name: t.string,
  startPfn: NonNegInt,
  pages: PosInt,
  /** zone->watermark[WMARK_MIN/LOW/HIGH] in pages. */
  watermarks: t.type({ min: NonNegInt, low: NonNegInt, high: NonNegInt }),
  /** lowmem_reserve[classzone]: pages kept back from requests whose highest zone is above this one. */
  lowmemReserve: t.array(NonNegInt),
  /** per_cpu_pages batch and high (zone_batchsize, pageset_set_batch). */
  pcp: t.type({ batch: PosInt, high: NonNegInt }),
})
export type ZoneShape = t.TypeOf<typeof ZoneShape>

/**
 * Guest page hinting as configured for the run: the kernel's design by default, or one of the
 * alternatives the reference material argues about (each a switch, each guarded by an invariant).
 */
export const HintingConfig = t.type({
  /** GPH06 8/9: discarded pages wait on per-CPU lists for an smp_call_function collection. */
  discardList: oneOf(['on', 'off'] as const),
  /** How page_make_volatile and page_make_stable exclude each other. */
  stateChange: oneOf(['lock', 'cas', 'none'] as const),
  /**
   * Where a written-back page is made volatile: test_clear_page_writeback (the patch), or when
   * the I/O starts, either without the PG_writeback check (the race) or with every check.
   */
  volatileAt: oneOf(['writeback-end', 'writeback-start', 'writeback-start-checked'] as const),
  /** copy_one_pte checks PG_discarded (GPH09), or copies the pte regardless. */
  forkVsDiscard: oneOf(['checked', 'unchecked'] as const),
})
export type HintingConfig = t.TypeOf<typeof HintingConfig>

export const DEFAULT_HINTING: HintingConfig = {
  discardList: 'on',
  stateChange: 'lock',
  volatileAt: 'writeback-end',
  forkVsDiscard: 'checked',
}

/**
 * How anonymous memory is reverse-mapped: the kernel's design by default, or one of the designs
 * and bugs mm/rmap.c's history went through (kernel-facts.md §3), each a switch.
 */
export const RmapConfig = t.type({
  /**
   * anon_vma_chain (5beb49305251, 2010): each forked VMA gets its own anon_vma, linked to its
   * parent's; legacy: a parent and all its children share one anon_vma.
   */
  anonVmaLinking: oneOf(['chain', 'legacy'] as const),
  /**
   * vma_adjust holds the root anon_vma's lock while it moves VMA boundaries, so an rmap walk sees
   * them before or after (what VM_LOCK_RMAP first guarded); off, a walk can meet a VMA half-way.
   */
  lockRmap: oneOf(['on', 'off'] as const),
  /**
   * anon_vma_clone's reuse of an existing anon_vma at fork (7a3ef208e662): counting children and
   * active VMAs apart (2555283eb40d), one `degree` for both (the 2015 heuristic), or never.
   */
  anonVmaReuse: oneOf(['fixed', 'degree', 'off'] as const),
  /** anon_vma_prepare re-checks vma->anon_vma under the locks (threads race), or not. */
  anonVmaPrepare: oneOf(['recheck', 'unchecked'] as const),
})
export type RmapConfig = t.TypeOf<typeof RmapConfig>

export const DEFAULT_RMAP: RmapConfig = {
  anonVmaLinking: 'chain',
  lockRmap: 'on',
  anonVmaReuse: 'fixed',
  anonVmaPrepare: 'recheck',
}

export const RMAP_VARIANTS = Object.keys(DEFAULT_RMAP) as (keyof RmapConfig)[]

/**
 * Page isolation as configured for the run (kernel-facts.md §2, the hot-remove review): the
 * kernel's design (v4.13 plus each race's fix) by default, or the alternatives, each a switch.
 */
export const IsolationConfig = t.type({
  /** The review's MIGRATE_ISOLATE pageblocks (mainline), or the patch's per-zone isolation list. */
  isolation: oneOf(['migratetype', 'list'] as const),
  /**
   * Joonsoo Kim 2014: the free path re-reads the pageblock's migratetype under the zone lock when
   * the zone has isolated pageblocks (free_one_page, free_pcppages_bulk); off, it trusts the type
   * it read before taking the lock.
   */
  freeMtRecheck: oneOf(['on', 'off'] as const),
  /** Kravetz 2018 (2c7452a075d4): set_migratetype_isolate refuses a pageblock that is already ISOLATE; off, as v4.13. */
  isolateRecheck: oneOf(['on', 'off'] as const),
  /**
   * The patch captures a freed page in __free_one_page only, so an order-0 page freed into a
   * registered range waits on a per-CPU list, where the next allocation takes it again (pcp);
   * bypass frees it straight to the buddy allocator, as free_hot_cold_page does for ISOLATE.
   */
  listFreeHot: oneOf(['pcp', 'bypass'] as const),
  /**
   * Guest page hinting beside isolation: page_shrink_discards frees each collected page with
   * free_cold_page, onto this CPU's per-CPU list (GPH06, pcp), where the next allocation may take
   * it even inside an isolated pageblock; isolate-check gives it to the buddy lists at once, as
   * v4.13's free_hot_cold_page does for a MIGRATE_ISOLATE pageblock.
   */
  discardIntoIsolated: oneOf(['pcp', 'isolate-check'] as const),
})
export type IsolationConfig = t.TypeOf<typeof IsolationConfig>

export const DEFAULT_ISOLATION: IsolationConfig = { isolation: 'migratetype', freeMtRecheck: 'on', isolateRecheck: 'on', listFreeHot: 'pcp', discardIntoIsolated: 'pcp' }

export const ISOLATION_VARIANTS = Object.keys(DEFAULT_ISOLATION) as (keyof IsolationConfig)[]

export const MachineBooted = t.type({
  type: t.literal('MachineBooted'),
  data: t.intersection([
    t.type({
      cpus: intIn(1, 256),
      pageblockOrder: intIn(1, 10),
      zones: t.array(ZoneShape),
      /** Size of the frame arrays: the highest pfn + 1 of any zone. */
      pfnEnd: Int,
      /** Guest page hinting, or null when the guest does not hint (no page states at all). */
      hinting: t.union([HintingConfig, t.null]),
    }),
    t.partial({
      /** Anonymous reverse mapping, when the workload switches it; absent means DEFAULT_RMAP. */
      rmap: RmapConfig,
      /** Page isolation, when the workload switches it; absent means DEFAULT_ISOLATION. */
      isolation: IsolationConfig,
      /** Free page reporting's device (aeration or page reporting); absent when the run reports nothing. */
      reporting: ReportingConfig,
    }),
  ]),
})
export type MachineBooted = t.TypeOf<typeof MachineBooted>
