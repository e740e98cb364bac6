// `mmsim experiment reporting-idle`: mm/page_reporting.c's own figure, "This should result in us
// reporting all pages on an idle system in about 30 seconds" (page_reporting_cycle's comment),
// on an idle x86 guest (32 GiB by default, the v17 cover letter's size), beside the aeration RFC
// on the same guest. Both runs are stored; the time is when the reported share of reportable free
// memory first reaches 100 %, in simulated time.
import type { Logger } from 'pino'
import { resolveConfig } from '../engine/config'
import { REPORTING_MECHANISMS } from '../events/reporting'
import type { ReportingSummary } from '../projections'
import type { Workload } from '../workload/codec'
import { runToStore } from './runToStore'

/** The source's claim. */
export const REPORTING_IDLE_CLAIM_NS = 30_000_000_000
/** How far the measured time may be from what the budget rule predicts before it is a finding. */
export const REPORTING_IDLE_TOLERANCE = 0.2
/** Long enough for page reporting to finish on any guest the command accepts (a pass every 2 s, about 16 passes). */
const IDLE_NS = 60_000_000_000
/** At most 64 GiB: the frame arrays hold 2^24 frames of a 4 KiB x86 page. */
export const REPORTING_IDLE_GIB_MAX = 64

export const idleWorkload = (gib: number): Workload => ({
  version: 1,
  name: `reporting-idle-${gib}g`,
  description: `An idle ${gib} GiB x86 guest while free page reporting works (mmsim experiment reporting-idle).`,
  machine: { arch: 'x86', cpus: 1, zones: [{ name: 'Normal', mib: gib * 1024 }] },
  variants: { reporting: 'page-reporting' },
  ops: [{ op: 'idle', cpu: 0, ns: IDLE_NS }],
})

/**
 * What page_reporting_cycle's budget predicts for one list of `blocks` blocks: each 2 s pass
 * reports DIV_ROUND_UP(blocks, 32 * 16) + 1 batches of 32, the first pass 2 s after registration.
 */
export const predictedIdleNs = (blocks: number, capacity = 32): number => {
  const perPass = (Math.ceil(blocks / (capacity * 16)) + 1) * capacity
  return 2_000_000_000 * Math.ceil(blocks / perPass)
}

export interface IdleRow {
  readonly mechanism: (typeof REPORTING_MECHANISMS)[number]
  readonly runId: number
  readonly events: number
  readonly reporting: ReportingSummary
}

export interface IdleResult {
  readonly gib: number
  readonly blocks: number
  readonly claimNs: number
  readonly predictedNs: number
  readonly rows: readonly IdleRow[]
  readonly db: string
  readonly interrupted: string | null
}

export interface IdleOptions {
  readonly gib: number
  readonly seed: number
  readonly db: string
  readonly log?: Logger
  readonly interrupted?: () => string | null
}

export const runReportingIdle = async (o: IdleOptions): Promise<IdleResult> => {
  const base = idleWorkload(o.gib)
  const blocks = (o.gib * 1024 * 256) >> 10
  const rows: IdleRow[] = []
  let interrupted: string | null = null
  for (const mechanism of ['page-reporting', 'aeration'] as const) {
    const summary = await runToStore({
      workload: { ...base, variants: { reporting: mechanism } },
      workloadSource: `mmsim experiment reporting-idle (${mechanism})`,
      seed: o.seed,
      db: o.db,
      config: resolveConfig(),
      snapshotEvery: 0,
      ...(o.log ? { log: o.log } : {}),
      ...(o.interrupted ? { interrupted: o.interrupted } : {}),
    })
    if (summary.status === 'interrupted') {
      interrupted = summary.reason
      break
    }
    rows.push({ mechanism, runId: summary.runId, events: summary.events, reporting: summary.reporting! })
  }
  return { gib: o.gib, blocks, claimNs: REPORTING_IDLE_CLAIM_NS, predictedNs: predictedIdleNs(blocks), rows, db: o.db, interrupted }
}

/** What is wrong with the figure: page reporting never reached 100 %, or not within the tolerance of the budget rule's prediction. */
export const idleFindings = (r: IdleResult): string[] => {
  const pr = r.rows.find((x) => x.mechanism === 'page-reporting')
  if (pr === undefined) return []
  const at = pr.reporting.fullyReportedAtNs
  if (at === null) return ['page reporting never reported all free memory']
  const off = Math.abs(at - r.predictedNs) / r.predictedNs
  return off > REPORTING_IDLE_TOLERANCE ? [`page reporting took ${at / 1e9} s, ${Math.round(off * 100)} % off the ${r.predictedNs / 1e9} s its budget rule predicts`] : []
}
