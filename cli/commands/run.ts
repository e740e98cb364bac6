// `mmsim run`: simulate a workload and store every event (hunt/runToStore.ts), and print what
// happened.
import { PCT_DEPTH_DEFAULT, STRATEGIES, type EngineConfig } from '../../engine/config'
import { strategyConfig } from '../../hunt/strategy'
import { runToStore, type HintingSummary, type RunSummary } from '../../hunt/runToStore'
import { loadDefaultWorkload, loadWorkload } from '../../workload/load'
import { FlagArg, IntArg, OneOfArg, SeedArg, SnapshotEveryArg, StringArg, UsageError, VariantArg, strategyChoice, variantsOf } from '../args'
import { BLOCK_EVENTS, SNAPSHOT_EVERY_DEFAULT } from '../../storage'
import { DB_DEFAULT, DB_OPT, JSON_OPT, opt, optMany, type CommandSpec } from '../command'
import { formatCount, formatNs, strategyText, table } from '../format'
import { EXIT_FINDING, EXIT_INTERRUPTED, EXIT_OK } from '../io'
import { renderReportingSummary } from '../../projections'
import { simulating } from '../simulating'
import { loadScheduleFile, scheduleConfig, type ScheduleFile } from '../../hunt/shrink/scheduleFile'
import { withRun } from '../openRun'
import { compareRecording, renderRecordingComparison } from '../../formats/replayCompare'
import { renderIsolationWork, type IsolationView } from '../../projections'

export { hintingSummary, runToStore, type HintingSummary, type RunOptions, type RunSummary } from '../../hunt/runToStore'

/** --steps-max at most: steps of at most stepNs + jitterNs keep simulated time below 2^53 ns. */
const STEPS_MAX_LIMIT = 2 ** 40

export const renderRunSummary = (r: RunSummary): string => {
  const evps = r.wallMs > 0 ? Math.round((r.events / r.wallMs) * 1000) : 0
  let out = `run ${r.runId} ${r.status} in ${r.db}: workload "${r.workload}", seed ${r.seed}\n`
  out += table(
    ['', ''],
    [
      ['outcome', r.outcome],
      ...(r.reason ? [['reason', r.reason]] : []),
      ['events', `${formatCount(r.events)} (seq 1..${r.events})`],
      ['simulated', `${formatNs(r.simulatedNs)} in ${formatCount(r.steps)} steps, ${formatCount(r.decisions)} schedule decisions`],
      ['wall time', `${(r.wallMs / 1000).toFixed(2)}s (${formatCount(evps)} events/s)`],
      ['strategy', strategyText(r.config).replace(/^strategy /, '')],
      ['integrity', r.headHash],
      ['snapshots', r.snapshots === 0 ? 'none' : `${formatCount(r.snapshots)} (state at any seq: \`mmsim state ... --at SEQ\`)`],
      ['identity', `uuid ${r.uuid ?? '-'}, digest ${r.digest ?? '-'}`],
    ].map(([a, b]) => [`  ${a}`, b!]),
  )
    .split('\n')
    .slice(1)
    .join('\n')
  out += '\nevents by type\n'
  out +=
    Object.entries(r.eventsByType)
      .map(([k, v]) => `  ${k.padEnd(24)} ${formatCount(v).padStart(12)}`)
      .join('\n') + '\n'
  out += '\nfree blocks per order (/proc/buddyinfo)\n' + r.buddyinfo
  out +=
    '\nfree pages: ' +
    r.zones
      .map((z) => `${z.zone} ${formatCount(z.nrFreePages)} of ${formatCount(z.managed)} (min ${z.watermarks.min}, low ${z.watermarks.low}, high ${z.watermarks.high})`)
      .join('; ') +
    '\n'
  if (r.hinting !== null) out += renderHintingSummary(r.hinting)
  if (r.isolation !== undefined) out += renderIsolationSummary(r.isolation)
  if (r.reporting !== null) out += renderReportingSummary(r.reporting)
  out += `\ninvariants checked: ${r.invariants.checked.join(', ')}\n`
  if (r.invariants.violations === 0) out += 'invariants: all hold\n'
  else {
    out += `invariants: ${r.invariants.violations} violation(s)\n`
    for (const v of r.invariants.found) out += `  seq ${v.seq}: ${v.name}: ${v.message}\n`
  }
  return out
}

/** Each range's outcome and the work its design did: the review's argument as numbers. */
export const renderIsolationSummary = (v: IsolationView): string => {
  let out = `\npage isolation\n${renderIsolationWork(v)}`
  for (const r of v.ranges)
    out += `  range ${r.id}          [${r.startPfn}, ${r.endPfn}) ${r.by}: ${r.outcome ?? r.status}${r.errno !== null ? ` -${r.errno}` : ''}${r.reason !== '' ? ` (${r.reason})` : ''}; ${r.migrated} migrated\n`
  for (const r of v.refused) out += `  refused          [${r.startPfn}, ${r.endPfn}) ${r.by}: -${r.errno} (${r.reason})\n`
  return out
}

export const renderHintingSummary = (h: HintingSummary): string => {
  const d = h.states
  let out = `\nguest page hinting (${Object.entries(h.variants)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')})\n`
  out += `  page states      S ${formatCount(d.usage.S)}, U ${formatCount(d.usage.U)}, P ${formatCount(d.usage.P)}, V ${formatCount(d.usage.V)}; ${formatCount(d.resident)} of ${formatCount(d.frames)} resident\n`
  out += `  host             ${formatCount(h.hostDiscards)} discards, ${formatCount(h.hostPagedOut)} paged out\n`
  out += `  discard faults   ${h.discardFaultsPerCpu.map((n, c) => `cpu${c} ${formatCount(n)}`).join(', ')}\n`
  out += `  collections      ${formatCount(h.collections)}, pages collected from ${h.collectedPagesPerCpu.map((n, c) => `cpu${c} ${formatCount(n)}`).join(', ')}\n`
  out += '  transitions (from>to)\n'
  out +=
    Object.entries(h.transitions)
      .map(([k, v]) => `    ${k.padEnd(8)} ${formatCount(v).padStart(12)}`)
      .join('\n') + '\n'
  return out
}

const options = {
  workload: opt('--workload <file>', 'the workload JSON file (default: the embedded workloads/default.json)', StringArg),
  seed: opt('--seed <n>', "seed of the run's PRNG (default 1): the same workload and seed give the same events", SeedArg),
  variant: optMany('--variant <key=value>', "set a switch of the workload's variants (repeatable), e.g. discardList=off", VariantArg),
  db: DB_OPT,
  stepsMax: opt('--steps-max <n>', `stop after this many simulator steps (StepLimitReached; at most 2^40)`, IntArg(1, STEPS_MAX_LIMIT)),
  checkEvery: opt('--check-every <n>', 'check the state invariants every n events as well as at the end (0: only at the end)', IntArg()),
  stopOnViolation: opt('--stop-on-violation', 'end the run at the first finding', FlagArg),
  snapshotEvery: opt(
    '--snapshot-every <n>',
    `snapshot the state every n events, a multiple of ${BLOCK_EVENTS} (default ${SNAPSHOT_EVERY_DEFAULT}; 0: none, \`mmsim snapshot\` can add them later)`,
    SnapshotEveryArg(0),
  ),
  strategy: opt('--strategy <name>', 'schedule strategy: random (seeded jitter, the default) or pct (probabilistic concurrency testing)', OneOfArg(STRATEGIES)),
  depth: opt('--depth <d>', `PCT's bug depth d: d - 1 priority change points (default ${PCT_DEPTH_DEFAULT}; with --strategy pct)`, IntArg(1, 64)),
  monitors: opt('--no-monitors', 'do not check the event monitors while simulating (`mmsim check` still re-runs them over the stored run)', FlagArg),
  schedule: opt(
    '--schedule <file>',
    'follow a schedule file written by `mmsim shrink` (its seed, engine settings and preemptions; not with --seed, --strategy, --depth, --steps-max, --check-every, --stop-on-violation, --no-monitors)',
    StringArg,
  ),
  json: JSON_OPT,
  progress: opt('--no-progress', 'no progress bar (it is drawn only when stderr is a terminal)', FlagArg),
}

/** A schedule file brings its own seed and engine settings: a flag that would change them is a mistake worth saying. */
const scheduleOf = (command: string, file: string, o: { readonly [k: string]: unknown }): ScheduleFile => {
  const clash = (
    [
      ['seed', '--seed'],
      ['strategy', '--strategy'],
      ['depth', '--depth'],
      ['stepsMax', '--steps-max'],
      ['checkEvery', '--check-every'],
      ['stopOnViolation', '--stop-on-violation'],
    ] as const
  ).find(([k]) => o[k] !== undefined && o[k] !== false)
  if (clash !== undefined) throw new UsageError(`${command}: ${clash[1]} cannot be given with --schedule: the schedule file sets it`)
  if (o['monitors'] === false) throw new UsageError(`${command}: --no-monitors cannot be given with --schedule: the schedule file sets it`)
  return loadScheduleFile(file)
}

export const runSpec: CommandSpec<typeof options> = {
  name: 'run',
  summary: 'simulate a workload into the database',
  description:
    'Simulates a workload (the embedded default without --workload) and stores every event as a new ' +
    'run of the database, then prints a summary. Exits 1 when an invariant was violated or the run ' +
    'deadlocked, 130 when SIGINT or SIGTERM stopped it (its events up to the last batch stay readable).',
  examples: [
    'mmsim run',
    'mmsim run --workload workloads/gph-discard-list.json --seed 7',
    'mmsim run --workload workloads/gph-discard-list.json --variant discardList=off --seed 7',
    'mmsim run --workload workloads/gph-host-pressure-4g.json --json',
    'mmsim run --workload workloads/gph-discard-list.json --variant discardList=off --strategy pct --depth 2 --seed 1',
    'mmsim run --workload shrunk/workload.json --schedule shrunk/schedule.json',
  ],
  options,
  action: async (opts, ctx) => {
    const { io, log } = ctx
    const file = opts.workload
    const loaded = file === undefined ? loadDefaultWorkload() : loadWorkload(file)
    const variants = variantsOf(ctx.name, opts.variant)
    const workload = variants === undefined ? loaded : { ...loaded, variants: { ...loaded.variants, ...variants } }
    const schedule = opts.schedule === undefined ? null : scheduleOf(ctx.name, opts.schedule, opts)
    const overrides: EngineConfig = {}
    if (opts.stepsMax !== undefined) overrides.stepsMax = opts.stepsMax
    if (opts.checkEvery !== undefined) overrides.checkEveryEvents = opts.checkEvery
    if (opts.stopOnViolation) overrides.stopOnViolation = true
    if (opts.monitors === false) overrides.monitors = false
    const config = schedule !== null ? scheduleConfig(schedule) : strategyConfig(workload, overrides, strategyChoice(ctx.name, opts))
    return simulating(ctx, opts.progress !== false, async (hooks) => {
      const summary = await runToStore({
        workload,
        workloadSource: file ?? 'workloads/default.json (embedded)',
        seed: schedule?.seed ?? opts.seed ?? 1,
        db: opts.db ?? DB_DEFAULT,
        config,
        log,
        onProgress: hooks.onProgress,
        interrupted: hooks.interrupted,
        snapshotEvery: opts.snapshotEvery ?? SNAPSHOT_EVERY_DEFAULT,
      })
      hooks.simulated()
      log.info({ runId: summary.runId, status: summary.status, outcome: summary.outcome, events: summary.events, headHash: summary.headHash }, `run ${summary.status}`)
      // A workload imported from a recording: how the replay compares with it.
      const recording =
        workload.recording === undefined || summary.events === 0
          ? null
          : withRun(ctx.name, { file: summary.db, run: summary.runId }, (r) => compareRecording(r.db, r.file, r.run.id, workload.recording!))
      io.out(
        opts.json
          ? `${JSON.stringify(recording === null ? summary : { ...summary, recording })}\n`
          : renderRunSummary(summary) + (recording === null ? '' : renderRecordingComparison(recording)),
      )
      if (summary.status === 'interrupted') return EXIT_INTERRUPTED
      return summary.invariants.violations > 0 || summary.outcome.startsWith('Deadlock') ? EXIT_FINDING : EXIT_OK
    })
  },
}
