// `mmsim experiment anon-vma-scaling`: the figure of the anon_vma_chain commit (5beb49305251,
// Rik van Riel 2010; rmap-c-annotated-history.txt): "1000 child processes and a VMA with 1000
// anonymous pages per process that get COWed ... the current rmap code needs to walk them all,
// leading to O(N) scanning complexity for each page ... This reduces the average scanning cost in
// heavily forking workloads from O(N) to 2." Both linkings run the same workload into the store;
// the cost of an rmap walk of every mapped anonymous page is computed from the final structure
// (projections/anon_vma/cost.ts), and real walks (rmap_walk) on a stratified sample, a few
// pages of every anon_vma, must agree with it.
import type { Logger } from 'pino'
import { resolveConfig } from '../engine/config'
import type { MmEvent } from '../events'
import { pageCost, rmapCost, type MmState, type RmapCost } from '../projections'
import { openForRead, readEvents } from '../storage'
import type { Op, Workload } from '../workload/codec'
import { runToStore, type RunSummary } from './runToStore'

export const LINKINGS = ['legacy', 'chain'] as const
export type Linking = (typeof LINKINGS)[number]

/** Frames the experiment may use in all: a 16 GiB guest (DESIGN.md, "Scale"). */
export const SCALING_FRAMES_MAX = 1 << 22

export interface ScalingOptions {
  readonly children: number
  readonly pages: number
  /** Pages walked in each anon_vma (stratum) that mapped pages name. */
  readonly sample: number
  readonly seed: number
  readonly db: string
  readonly log?: Logger
  /** Called between phases: which linking is running. */
  readonly onPhase?: (linking: Linking) => void
  /** Checked between slices of each run; a reason stops the experiment, the run marked interrupted. */
  readonly interrupted?: () => string | null
}

export interface ScalingRow {
  readonly linking: Linking
  readonly runId: number
  readonly events: number
  readonly wallMs: number
  readonly violations: number
  /** Mapped anonymous pages, the anon_vmas they name, and what walking each would cost. */
  readonly pages: number
  readonly anonVmas: number
  readonly exact: { readonly average: number; readonly max: number }
  /** What the commit message predicts for this linking: N + 1, or (2N + 1) / (N + 1). */
  readonly expected: number
  /** Real walks: how many, the stratified estimate of the average, the most one visited. */
  readonly sample: { readonly walks: number; readonly strata: number; readonly average: number; readonly max: number }
  /** Walks whose VMAs visited differ from what the structure gives for their page (none, when they agree). */
  readonly disagreeing: number
}

export interface ScalingResult {
  /** Set when a signal stopped the experiment: the rows before it are complete, the rest missing. */
  readonly interrupted: string | null
  readonly children: number
  readonly pages: number
  readonly sample: number
  readonly seed: number
  readonly db: string
  readonly rows: readonly ScalingRow[]
  readonly events: number
  readonly wallMs: number
}

/** What the commit predicts: legacy walks all N + 1 VMAs; chain walks 1 for the N·P children's pages and N + 1 for the parent's P. */
export const expectedAverage = (linking: Linking, children: number): number => (linking === 'legacy' ? children + 1 : (2 * children + 1) / (children + 1))

/** x86 pageblocks of 512 pages; room for every page, the page tables' share of the zone and its watermarks. */
const zonePages = (children: number, pages: number): number => {
  const need = (children + 1) * pages
  const pages512 = Math.ceil((need + (need >> 4) + 16384) / 512) * 512
  return pages512
}

/** The workload: one parent with P anonymous pages, N children forked, every child COWs every page, then the sampled walks. */
export const scalingWorkload = (linking: Linking, children: number, pages: number, sample: number): Workload => {
  const ops: Op[] = [{ op: 'anon', cpu: 0, mm: 1, pages }]
  for (let c = 0; c < children; c++) ops.push({ op: 'fork', cpu: 0, parent: 1, child: c + 2 })
  for (let c = 0; c < children; c++) ops.push({ op: 'anon-write', cpu: 0, mm: c + 2, index: 0, count: pages })
  // rmap_walk visits every VMA that covers the page; page_referenced would stop at the one pte.
  ops.push({ op: 'rmap', cpu: 0, walk: 'rmap_walk', sample })
  return {
    version: 1,
    name: `anon-vma-scaling-${linking}`,
    description: `${children} children of one process with ${pages} anonymous pages, every page COWed by every child, anon_vma linking ${linking}`,
    machine: { arch: 'x86', cpus: 1, zones: [{ name: 'Normal', pages: zonePages(children, pages) }] },
    variants: { anonVmaLinking: linking },
    ops,
  }
}

/** Frames the experiment needs for N children of P pages. */
export const scalingFrames = (children: number, pages: number): number => zonePages(children, pages)

interface WalkSeen {
  readonly pfn: number
  readonly anonVma: number
  readonly visited: number
}

const oneLinking = async (o: ScalingOptions, linking: Linking): Promise<ScalingRow | null> => {
  o.onPhase?.(linking)
  const workload = scalingWorkload(linking, o.children, o.pages, o.sample)
  let cost: RmapCost | null = null
  let state: MmState | null = null
  const summary: RunSummary = await runToStore({
    workload,
    workloadSource: `mmsim experiment anon-vma-scaling (${linking})`,
    seed: o.seed,
    db: o.db,
    config: resolveConfig(),
    ...(o.log ? { log: o.log } : {}),
    ...(o.interrupted ? { interrupted: o.interrupted } : {}),
    onState: (s) => {
      state = s
      cost = rmapCost(s.anonVma)
    },
  })
  if (summary.status === 'interrupted') return null
  const final = state as MmState | null
  const c = cost as RmapCost | null
  if (final === null || c === null) throw new Error(`the ${linking} run ended before its final state was seen`)
  // The walks, read back from the store: each must visit what the structure gives for its page.
  const walks: WalkSeen[] = []
  const db = openForRead(o.db)
  try {
    for (const e of readEvents(db, o.db, summary.runId, { types: ['RmapWalkFinished'] }) as Iterable<MmEvent>)
      if (e.type === 'RmapWalkFinished') walks.push({ pfn: e.data.pfn, anonVma: e.data.anonVma, visited: e.data.visited })
  } finally {
    db.close()
  }
  const disagreeing = walks.filter((w) => w.visited !== pageCost(final.anonVma, w.pfn)).length
  // Stratified: each anon_vma's mean walk weighted by the pages that name it.
  const byStratum = new Map<number, { n: number; sum: number }>()
  for (const w of walks) {
    const s = byStratum.get(w.anonVma) ?? { n: 0, sum: 0 }
    s.n++
    s.sum += w.visited
    byStratum.set(w.anonVma, s)
  }
  let weighted = 0
  let weight = 0
  for (const st of c.perAnonVma) {
    const s = byStratum.get(st.anonVma)
    if (s === undefined) continue
    weighted += st.pages * (s.sum / s.n)
    weight += st.pages
  }
  return {
    linking,
    runId: summary.runId,
    events: summary.events,
    wallMs: summary.wallMs,
    violations: summary.invariants.violations,
    pages: c.pages,
    anonVmas: final.anonVma.anonVmas.size,
    exact: { average: c.average, max: c.max },
    expected: expectedAverage(linking, o.children),
    sample: { walks: walks.length, strata: byStratum.size, average: weight === 0 ? 0 : weighted / weight, max: walks.reduce((m, w) => Math.max(m, w.visited), 0) },
    disagreeing,
  }
}

/** Runs the workload under both linkings into `db` and returns the figures side by side. */
export const runAnonVmaScaling = async (o: ScalingOptions): Promise<ScalingResult> => {
  const started = performance.now()
  const rows: ScalingRow[] = []
  for (const linking of LINKINGS) {
    const row = await oneLinking(o, linking)
    if (row === null) break
    rows.push(row)
  }
  return {
    interrupted: rows.length < LINKINGS.length ? (o.interrupted?.() ?? 'interrupted') : null,
    children: o.children,
    pages: o.pages,
    sample: o.sample,
    seed: o.seed,
    db: o.db,
    rows,
    events: rows.reduce((n, r) => n + r.events, 0),
    wallMs: performance.now() - started,
  }
}

/** A finding: a run violated an invariant, or its walks do not agree with the structure (or the estimate with the exact average, beyond 2 %). */
export const scalingFindings = (r: ScalingResult): string[] =>
  r.rows.flatMap((row) => [
    ...(row.violations > 0 ? [`${row.linking}: ${row.violations} invariant violation(s) in run ${row.runId}`] : []),
    ...(row.disagreeing > 0 ? [`${row.linking}: ${row.disagreeing} walk(s) visited other than the structure gives`] : []),
    ...(Math.abs(row.sample.average - row.exact.average) > 0.02 * row.exact.average
      ? [`${row.linking}: the sampled average ${row.sample.average} is more than 2 % off the exact ${row.exact.average}`]
      : []),
  ])
