// `mmsim replay`: re-execute a stored run under its recorded schedule and check that it comes out
// the same, event for event (hunt/replay.ts); with --variant, the same workload and schedule
// under other variants, reported side by side.
import { ENGINE_VERSION } from '../../engine/config'
import { replayRun, type ReplayReport } from '../../hunt/replay'
import { FlagArg, RunArg, SeedArg, VariantArg } from '../args'
import { DB_OPT, JSON_OPT, opt, optMany, type CommandSpec } from '../command'
import { bothFindings, deriveAction, divergenceWhat, divergentRows, scheduleText } from '../deriveText'
import { formatCount } from '../format'
import { EXIT_FINDING, EXIT_OK } from '../io'

const variantText = (v: Record<string, string>): string =>
  Object.entries(v)
    .map(([k, x]) => `${k}=${x}`)
    .join(', ')

export const renderReplay = (r: ReplayReport, file: string): string => {
  const p = r.parent
  const n = r.run
  const c = r.comparison
  const d = c.divergence
  const verdict = r.mode === 'verify' ? (r.identical ? 'identical' : d !== null ? `DIVERGED at seq ${d.seq}` : 'NOT identical') : `under ${variantText(r.variants!)}`
  let out = `replay of run ${p.id} into run ${n.runId} (${file}): ${verdict}\n`
  const by = c.by === 'row+hash' ? 'their columns and per-event chain hashes' : `their ${c.by === 'hash' ? 'per-event chain hashes' : 'columns'}`
  const boot = c.fromSeq > 1 ? `seq 1 names the variants; from seq ${c.fromSeq} ` : ''
  const same = d === null ? 'all the same' : d.seq === c.fromSeq ? `different from seq ${formatCount(d.seq)}` : `the same up to seq ${formatCount(d.seq - 1)}`
  out += `  events     ${boot}${same} (run ${p.id} has ${formatCount(p.events)}, run ${n.runId} ${formatCount(n.events)}; compared by ${by})\n`
  if (c.toSeq !== null) out += `  note       run ${p.id} was interrupted at seq ${c.toSeq}: events up to it are compared, run ${n.runId} went on past it\n`
  out += `  schedule   ${scheduleText(r.schedule, n.scheduleSeed)}`
  const head =
    r.sameHead === true
      ? ` (the same as run ${p.id}'s)`
      : r.sameHead === false
        ? `; run ${p.id}'s is ${p.headHash}`
        : c.toSeq !== null
          ? ` (run ${p.id}'s covers fewer events)`
          : ` (run ${p.id}'s was written by another engine or hash version)`
  out += `  head       ${n.headHash}${head}\n`
  if (d !== null) out += `first divergent seq ${d.seq}: ${divergenceWhat({ ...d, a: d.parent, b: d.child })}\n${divergentRows(file, p.id, n.runId, d)}`
  out += bothFindings(r)
  if (p.engineVersion !== ENGINE_VERSION) out += `note: run ${p.id} was stored by engine ${p.engineVersion} and replayed by ${ENGINE_VERSION} (--force)\n`
  return out
}

const options = {
  db: DB_OPT,
  run: opt('--run <id>', 'the run to replay (required)', RunArg),
  force: opt('--force', 'replay a run stored by another engine version all the same', FlagArg),
  seed: opt('--seed <n>', "seed of the schedule strategy that decides where the recorded schedule ends or no longer fits (default: the run's)", SeedArg),
  variant: optMany('--variant <key=value>', 'replay under another variant (repeatable), e.g. discardList=off: a report, not an identity check', VariantArg),
  json: JSON_OPT,
  progress: opt('--no-progress', 'no progress bar (it is drawn only when stderr is a terminal)', FlagArg),
}

export const replaySpec: CommandSpec<typeof options> = {
  name: 'replay',
  summary: 're-execute a stored run under its recorded schedule and check it is the same',
  description:
    "Re-executes a stored run's workload, seed and configuration, driven by its recorded schedule (each decision taken only " +
    'where it was recorded: the same CPU, site and object), into a new run of the same database, then compares the two event by ' +
    'event and prints the first divergent seq with both events. Exits 0 when identical, 1 when not. A run stored by another ' +
    'engine version is refused (exit 2) unless --force. With --variant the same workload and schedule run under other variants: ' +
    'where the schedule no longer fits, the seeded strategy goes on and the report says at which decision and seq; it shows the ' +
    'first divergent seq and the findings of each run, and exits 1 when the new run has findings.',
  examples: ['mmsim replay --run 1', 'mmsim replay --run 1 --seed 999 --json', 'mmsim replay --run 1 --variant discardList=off --variant stateChange=none'],
  options,
  action: (opts, ctx) =>
    deriveAction(ctx, opts, replayRun, renderReplay, (r) => (r.mode === 'verify' ? (r.identical ? EXIT_OK : EXIT_FINDING) : r.findings.child.count > 0 ? EXIT_FINDING : EXIT_OK)),
}
