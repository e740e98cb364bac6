// The protections guest page hinting carries from the patches, each as a source patch that
// removes it. The product has no switch for these: a removal exists only in a temporary copy of
// the source (mutate/patched.ts), so that the race tests and `npm run mutate` can show that
// every protection matters (some race workload fails without it) while users can never run a
// simulator that lacks one.

/** One textual edit: `find` must occur exactly once in `file`, or the patch does not apply. */
export interface Edit {
  readonly file: string
  readonly find: string
  readonly replace: string
}

export interface Protection {
  /** Short id, used in test names and the mutate report. */
  readonly id: string
  /** What the kernel does, and what the removal does instead. */
  readonly what: string
  readonly edits: readonly Edit[]
  /** The race workload that shows it and the invariant its removal breaks. */
  readonly workload: string
  readonly invariant: string
  /** Why no workload shows it yet, when none does (printed by `npm run mutate`). */
  readonly survives?: string
}

const DISCARD = 'engine/mm/hinting/discard.ts'
const RMAP = 'engine/mm/rmap.ts'

export const PROTECTIONS: readonly Protection[] = [
  {
    id: 'fault-pins-before-irq-enable',
    what: 'do_discard_fault keeps interrupts off until get_page_unless_zero has pinned the page (removed: interrupts stay on)',
    edits: [
      { file: DISCARD, find: "  local_irq_disable(cpu)\n  k.emit(cpu, 'DiscardFault'", replace: "  k.emit(cpu, 'DiscardFault'" },
      { file: DISCARD, find: '  local_irq_enable(k.sim, cpu)\n  if (!pinned) return', replace: '  if (!pinned) return' },
    ],
    workload: 'workloads/gph-tiny-pcp.json',
    invariant: 'hinting.discard-fault-on-reused-frame',
  },
  {
    id: 'ipi-waits-for-irqs-off',
    what: 'smp_call_function waits for targets running with interrupts off: the IPI is taken only once they enable them (removed: it is taken at once)',
    edits: [
      { file: 'engine/sim/cpu.ts', find: 'this.irqsOff === 0 && this.ipis.length > 0', replace: 'this.ipis.length > 0' },
      { file: 'engine/sim/simulator.ts', find: 'if (target.irqsOff === 0) this.schedule(target, POINT_IPI)', replace: 'this.schedule(target, POINT_IPI)' },
    ],
    workload: 'workloads/gph-tiny-pcp.json',
    invariant: 'hinting.discard-fault-on-reused-frame',
  },
  {
    id: 'collection-on-each-cpu',
    what: "page_shrink_discards collects every CPU's list with on_each_cpu (removed: only the local list, no IPI)",
    edits: [
      {
        file: DISCARD,
        find: "yield* on_each_cpu(k.sim, cpu, k.callFunctionLock, 'page_shrink_discards', (target) => {",
        replace: "yield* ((_n: string, run: (target: Cpu) => void): Path => { run(cpu); return (function* () {})() })('page_shrink_discards', (target) => {",
      },
    ],
    workload: 'workloads/gph-tiny-pcp-local.json',
    invariant: 'hinting.discard-fault-on-reused-frame',
  },
  {
    id: 'check-bits-writeback',
    what: 'check_bits refuses a page under writeback (PG_writeback in the must-be-clear mask; removed: it is not checked)',
    edits: [
      {
        file: 'engine/mm/hinting/page_states.ts',
        find: 'const MUST_BE_CLEAR = PG_dirty | PG_writeback | ',
        replace: 'const MUST_BE_CLEAR = PG_dirty | 0 * PG_writeback | ',
      },
    ],
    workload: 'workloads/gph-volatile-at.json',
    invariant: 'hinting.no-discard-writeback',
  },
  {
    id: 'fault-rechecks-discarded',
    what: 'do_no_page rechecks PG_discarded under the pte lock before it sets the pte (removed: only the page cache lookup is rechecked)',
    edits: [
      {
        file: 'engine/mm/memory.ts',
        find: 'if (!present && ((k.pages.flags[pfn]! & PG_discarded) !== 0 || lookup(k, file, index) !== pfn)) {',
        replace: 'if (!present && (0 * PG_discarded !== 0 || lookup(k, file, index) !== pfn)) {',
      },
    ],
    workload: 'workloads/gph-state-change.json',
    invariant: 'hinting.no-pte-to-discarded',
    survives:
      "unreachable in the model with the patch's other protections in place: PG_discarded is set only on a page the host discarded (Vz), a Vz page never " +
      'becomes stable again, and the fault path holds a page it made stable and referenced, so no make_volatile passes check_counts before the pte is set (see engine/mm/memory.ts)',
  },
  // Anonymous reverse mapping (mm/rmap.c, mm/mmap.c; kernel-facts.md §3). Three are the protected
  // side of a variant a user can switch (anonVmaPrepare, lockRmap, anonVmaReuse): the removal makes
  // the kernel's setting behave like the unprotected one. Two are not switches at all.
  {
    id: 'anon-vma-prepare-rechecks',
    what: 'anon_vma_prepare re-checks vma->anon_vma under mm->page_table_lock before it attaches its own (removed: it attaches regardless)',
    edits: [
      { file: RMAP, find: "if (k.rmap.anonVmaPrepare === 'unchecked' || v.anonVma === null)", replace: "if (k.rmap.anonVmaPrepare === 'unchecked' || v.anonVma === null || true)" },
    ],
    workload: 'workloads/anon-vma-prepare.json',
    invariant: 'rmap.prepare-once',
  },
  {
    id: 'vma-adjust-locks-rmap',
    what: "vma_adjust holds the root anon_vma's lock while it moves a VMA boundary, keeping rmap walks out (removed: each VMA changes in its own step)",
    edits: [{ file: 'engine/mm/mmap.ts', find: "if (k.rmap.lockRmap === 'on' || ranges.length === 1) {", replace: 'if (ranges.length === 1) {' }],
    workload: 'workloads/anon-vma-lock-rmap.json',
    invariant: 'rmap.walk-complete',
  },
  {
    id: 'anon-vma-reuse-counts-apart',
    what: 'anon_vma_clone reuses an anon_vma only with no active VMA and fewer than two children, counted apart (2555283eb40d; removed: one degree counts both)',
    edits: [
      {
        file: RMAP,
        find: ': src.anonVma !== null && av.numChildren < 2 && av.numActiveVmas === 0',
        replace: ': av.id !== src.anonVma && av.numChildren + av.numActiveVmas < 2',
      },
    ],
    workload: 'workloads/anon-vma-reuse.json',
    invariant: 'rmap.anon-vma-freed-in-use',
  },
  {
    id: 'walk-rechecks-page-mapped',
    what: "page_lock_anon_vma checks page_mapped again once it holds the root's lock (removed: it walks whatever page->mapping named)",
    edits: [
      {
        file: RMAP,
        find: '  if (a.mapcount[pfn] === 0) {\n    // The page was unmapped meanwhile',
        replace: '  if (0 * a.mapcount[pfn] !== 0) {\n    // The page was unmapped meanwhile',
      },
    ],
    workload: 'workloads/anon-vma-stale-walk.json',
    invariant: 'rmap.walk-on-stale-mapping',
  },
  {
    id: 'fork-links-parent-anon-vmas',
    what: "anon_vma_fork links the child VMA to every anon_vma of the parent's chain before giving it its own (removed: only its own)",
    edits: [{ file: RMAP, find: "if ((yield* anon_vma_clone(k, cpu, child, parent, 'reuse')) !== null) return", replace: 'if (child.anonVma !== null) return' }],
    workload: 'workloads/anon-vma-fork.json',
    invariant: 'rmap.pages-reachable',
  },
  // Free page aeration (the RFC v1 5/6): the protected side of the delFromBoundary variant.
  {
    id: 'aerator-del-from-boundary',
    what: 'clear_page_aerated moves the boundary on when the boundary block leaves its list for an allocation (aerator_del_from_boundary; removed: the boundary stays on the allocated block)',
    edits: [{ file: 'projections/boundary/hooks.ts', find: "&& !(why === 'alloc' && skipWhenAllocated)) b.boundary[i]", replace: "&& why !== 'alloc') b.boundary[i]" }],
    workload: 'workloads/aeration-boundary-race.json',
    invariant: 'boundary.valid-between-events',
  },
]

export const protection = (id: string): Protection => {
  const p = PROTECTIONS.find((x) => x.id === id)
  if (p === undefined) throw new Error(`no protection ${id}`)
  return p
}
