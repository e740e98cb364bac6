// Keeping what an exploration found: each failing seed is simulated again, this time into the
// database (runToStore), with the exploration's workload and configuration. The engine is
// deterministic, so the stored run is the schedule that failed in memory; that is checked (the
// same events and the same first finding), since a difference would be a bug in mmsim.
import type { Logger } from 'pino'
import type { ResolvedConfig } from '../engine/config'
import { assert } from '../lib'
import type { Workload } from '../workload/codec'
import { runToStore, type RunSummary } from './runToStore'
import type { ScheduleOutcome } from './schedule'

export interface KeepOptions {
  readonly workload: Workload
  readonly workloadSource: string
  readonly config: ResolvedConfig
  readonly db: string
  readonly log?: Logger
  readonly interrupted?: () => string | null
}

export interface KeptRun {
  readonly seed: number
  readonly runId: number
  readonly uuid: string | null
  readonly headHash: string
  readonly events: number
}

/** Stores the schedules of `failing` (in order) as runs of `o.db`; stops early, with what it has, on an interrupt. */
export const keepFailing = async (failing: readonly ScheduleOutcome[], o: KeepOptions): Promise<KeptRun[]> => {
  const kept: KeptRun[] = []
  for (const f of failing) {
    if ((o.interrupted?.() ?? null) !== null) break
    const s: RunSummary = await runToStore({
      workload: o.workload,
      workloadSource: o.workloadSource,
      seed: f.seed,
      db: o.db,
      config: o.config,
      ...(o.log ? { log: o.log } : {}),
      ...(o.interrupted ? { interrupted: o.interrupted } : {}),
    })
    if (s.status === 'interrupted') break
    assert(s.events === f.events, `seed ${f.seed} stored ${s.events} events where its exploration had ${f.events}: the engine is deterministic`)
    assert((s.invariants.found[0]?.seq ?? null) === (f.first?.seq ?? null), `seed ${f.seed}'s stored run has its first finding where its exploration had it`)
    kept.push({ seed: f.seed, runId: s.runId, uuid: s.uuid, headHash: s.headHash, events: s.events })
  }
  return kept
}
