// Builds a run's audit report: provenance (what ran, and that the stored events are the ones it
// made: both hash chains verified end to end), one section per mechanism folded from the events
// in one streaming pass, and every invariant with its verdict and the commands that show a failure.
// A read command: it never starts a simulator.
import { createHash } from 'node:crypto'
import { checkRun, type CheckReport } from '../analysis/check'
import { foldRun } from '../analysis/fold'
import { ENGINE_VERSION, resolveConfig, type EngineConfig } from '../engine/config'
import { eventMonitors, stateInvariants } from '../projections'
import { getRun, readEvents, type Db, type RunRow } from '../storage'
import { REPORT_FORMAT, REPORT_VERSION, type InvariantResult, type Provenance, type Report } from './model'
import type { Collector, SectionContext } from './section'
import { SECTIONS } from './sections'

/** Time series (buddyinfo, host discards) are sampled at about this many evenly spaced seqs. */
export const SAMPLES = 64
/** Recorded findings listed in the report; the rest are counted. */
export const RECORDED_SHOWN_MAX = 50

/** A word for a shell command line: quoted when it holds anything but safe characters. */
export const shellWord = (s: string): string => (/^[\w./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

/** The `mmsim state` view that shows an invariant's subject. */
const viewOf = (name: string): string => (name.startsWith('hinting.') ? 'pages' : name.startsWith('rmap.') ? 'anon-vma' : 'zone')

const commandsFor = (file: string, runId: number, name: string, seq: number): string[] => {
  const at = `--db ${shellWord(file)} --run ${runId}`
  return [`mmsim bisect ${at} --invariant ${name}`, `mmsim state ${viewOf(name)} ${at} --at ${seq}`, `mmsim events ${at} --from ${Math.max(1, seq - 5)} --to ${seq + 5}`]
}

export const invariantResults = (c: CheckReport, file: string): InvariantResult[] => {
  const stateNames = new Set(stateInvariants.map((i) => i.name))
  const eventNames = new Set(eventMonitors.map((m) => m.name))
  return c.checked.map((name) => {
    const kind = stateNames.has(name) || !eventNames.has(name) ? ('state' as const) : ('event' as const)
    const f = kind === 'state' ? c.state.find((x) => x.name === name) : c.monitors.find((x) => x.name === name)
    if (f === undefined) return { name, kind, passed: true, firstSeq: null, failures: 0, message: null, commands: [] }
    const failures = kind === 'event' ? (c.monitors.find((x) => x.name === name)?.count ?? 1) : 1
    return { name, kind, passed: false, firstSeq: f.firstSeq, failures, message: f.message, commands: commandsFor(file, c.run, name, f.firstSeq) }
  })
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex')

const provenance = (db: Db, file: string, run: RunRow, c: CheckReport): Provenance => {
  const config = resolveConfig(JSON.parse(run.config) as EngineConfig)
  const workload = JSON.parse(run.workload) as { variants?: Record<string, unknown> }
  let simulatedNs = 0
  if (run.head_seq > 0) for (const e of readEvents(db, file, run.id, { fromSeq: run.head_seq, toSeq: run.head_seq })) simulatedNs = e.t
  return {
    run: run.id,
    uuid: run.uuid,
    digest: run.digest,
    db: file,
    createdAt: run.created_at,
    finishedAt: run.finished_at,
    status: run.status,
    outcome: run.outcome,
    engineVersion: run.engine_version,
    reportEngineVersion: ENGINE_VERSION,
    seed: run.seed,
    config: JSON.parse(run.config) as unknown,
    strategy: config.strategy === 'pct' && config.pct !== undefined ? `pct (depth ${config.pct.depth}, ${config.pct.steps} steps)` : config.strategy,
    variants: Object.fromEntries(Object.entries(workload.variants ?? {}).map(([k, v]) => [k, String(v)])),
    workload: { name: run.workload_name, source: run.workload_source, sha256: sha256(run.workload) },
    lineage: run.parent_run === null ? null : { parentRun: run.parent_run, derivation: run.derivation ?? 'replay', forkSeq: run.fork_seq },
    events: run.head_seq,
    decisions: run.decisions,
    simulatedNs,
    headHash: run.head_hash,
    integrity: c.integrity,
    snapshots: { checked: c.snapshots.checked, failures: c.snapshots.failures.map((f) => ({ seq: f.seq, problem: f.problem })) },
  }
}

/** Every section's collector over one fold of the run, up to `upTo`. */
const collectSections = (db: Db, file: string, runId: number, upTo: number, workload: unknown): Report['sections'] => {
  if (upTo === 0) return []
  let ctx: SectionContext | null = null
  let collectors: { id: string; title: string; c: Collector<unknown> }[] = []
  const { state } = foldRun(
    db,
    file,
    runId,
    upTo,
    (s, e) => {
      if (ctx === null) {
        ctx = { machine: s.machine, headSeq: upTo, sampleEvery: Math.max(1, Math.ceil(upTo / SAMPLES)), workload }
        const c = ctx
        collectors = SECTIONS.map((d) => ({ id: d.id, title: d.title, c: d.collect(c) as Collector<unknown> }))
      }
      for (const x of collectors) x.c.after(s, e)
    },
    (s, e) => {
      for (const x of collectors) x.c.before?.(s, e)
    },
  )
  return collectors.flatMap((x) => {
    const data = x.c.finish(state)
    return data === null ? [] : [{ id: x.id, title: x.title, data }]
  })
}

/** The report of run `runId` of the open database `file`. */
export const buildReport = (db: Db, file: string, runId: number): Report => {
  const run = getRun(db, file, runId)
  const c = checkRun(db, file, runId)
  // An altered row may not fold; the sections then cover the events before it, and the
  // provenance says where integrity failed.
  const upTo = c.integrity.ok ? c.atSeq : Math.max(0, Math.min(c.atSeq, c.integrity.seq - 1))
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    provenance: provenance(db, file, run, c),
    sections: collectSections(db, file, runId, upTo, JSON.parse(run.workload) as unknown),
    invariants: { atSeq: c.atSeq, results: invariantResults(c, file), recorded: c.recorded.slice(0, RECORDED_SHOWN_MAX), recordedTotal: c.recorded.length },
  }
}
