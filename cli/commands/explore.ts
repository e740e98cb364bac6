// `mmsim explore`: simulate the schedules of a range of seeds in memory (hunt/explore.ts), keep
// the failing ones as runs of the database (hunt/keep.ts), and print them as a table.
import { PCT_DEPTH_DEFAULT, STRATEGIES, type EngineConfig } from '../../engine/config'
import { ScheduleCrashed, explore, workersMax, type ExploreResult } from '../../hunt/explore'
import { keepFailing, type KeptRun } from '../../hunt/keep'
import type { ScheduleOutcome } from '../../hunt/schedule'
import { shardOf, type SeedRange } from '../../hunt/seedRange'
import { strategyConfig, type StrategyChoice } from '../../hunt/strategy'
import type { ResolvedConfig } from '../../engine/config'
import type { Variants } from '../../workload/codec'
import { loadDefaultWorkload, loadWorkload } from '../../workload/load'
import { checkPath, openForWrite } from '../../storage'
import { FlagArg, IntArg, OneOfArg, SeedArg, ShardArg, StringArg, UsageError, VariantArg, strategyChoice, variantsOf, type Shard } from '../args'
import { DB_DEFAULT, DB_OPT, JSON_OPT, opt, optMany, type CommandSpec } from '../command'
import { formatCount, strategyText, table } from '../format'
import { EXIT_FINDING, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK } from '../io'
import { simulating } from '../simulating'

/** Seeds per exploration at most: the shared claim counter is a 32-bit word (hunt/claims.ts). */
export const SEEDS_MAX = 2 ** 31 - 2 ** 16
/** Failing runs stored with --all unless --keep says otherwise. */
export const KEEP_DEFAULT = 10

export interface ExploreReport extends ExploreResult {
  readonly workload: string
  readonly source: string
  readonly variants: Variants | null
  readonly config: ResolvedConfig
  /** The slice of the asked range this process explored (--shard K/N), or null. */
  readonly shard: (Shard & { readonly of: { readonly from: number; readonly to: number } }) | null
  readonly db: string
  /** How many failing schedules were to be stored (--keep), and those stored as runs, in seed order. */
  readonly keep: number
  readonly stored: readonly KeptRun[]
}

const outcomeText = (o: ScheduleOutcome): string =>
  o.outcome === 'Deadlock' ? 'deadlock' : o.violations > 0 ? 'violated' : o.outcome === 'StepLimitReached' ? 'step limit' : o.outcome === 'Finished' ? 'ok' : o.outcome

const variantsText = (v: Variants | null): string =>
  v === null
    ? ''
    : ` (${Object.entries(v)
        .map(([k, x]) => `${k}=${String(x)}`)
        .join(', ')})`

const rate = (n: number, ms: number): string => formatCount(ms > 0 ? Math.round((n * 1000) / ms) : 0)

export const renderExplore = (r: ExploreReport): string => {
  const range = `seeds ${r.range.from}..${r.range.to}`
  const where = r.shard === null ? range : `shard ${r.shard.k}/${r.shard.n} of seeds ${r.shard.of.from}..${r.shard.of.to}: ${r.range.count === 0 ? 'no seeds' : range}`
  const workers = `${r.simulated.workers} worker${r.simulated.workers === 1 ? '' : 's'}`
  let out = `explore ${r.source}${variantsText(r.variants)}, ${where}, ${strategyText(r.config)}, ${workers}\n`
  if (r.failing.length > 0) {
    const runOf = new Map(r.stored.map((k) => [k.seed, k.runId]))
    out += table(
      ['seed', 'outcome', 'first finding', 'seq', 'run'],
      r.failing.map((f) => [
        String(f.seed),
        outcomeText(f),
        f.first?.name ?? (f.deadlock !== null ? `deadlock: ${f.deadlock.join('; ')}` : '-'),
        f.first === null ? '-' : String(f.first.seq),
        runOf.has(f.seed) ? String(runOf.get(f.seed)) : '-',
      ]),
    )
  }
  const lowest = r.failing[0]
  const answer =
    lowest === undefined
      ? `no failing schedule`
      : r.all
        ? `${r.failing.length} failing, the lowest seed ${lowest.seed}`
        : `the lowest failing seed is ${lowest.seed} (exploration stops there; --all explores every seed)`
  const covered = r.complete ? '' : ` (${r.interrupted ?? 'interrupted'}: seeds ${r.range.from}..${r.range.from + r.explored - 1} explored without a gap)`
  out += `${formatCount(r.explored)} of ${formatCount(r.range.count)} seeds explored: ${answer}${covered}\n`
  const s = r.simulated
  out += `simulated ${formatCount(s.schedules)} schedule${s.schedules === 1 ? '' : 's'}, ${formatCount(s.events)} events in ${(s.wallMs / 1000).toFixed(2)}s: ${rate(s.schedules, s.wallMs)} schedules/s, ${rate(s.events, s.wallMs)} events/s\n`
  const first = r.stored[0]
  if (first !== undefined)
    out += `stored ${r.stored.length === 1 ? `seed ${first.seed} as run ${first.runId}` : `${r.stored.length} failing schedules as runs (the run column)`} of ${r.db}: mmsim replay --db ${r.db} --run ${first.runId}\n`
  const unkept = r.failing.length - r.stored.length
  if (unkept > 0) out += `${unkept} failing seed${unkept === 1 ? '' : 's'} not stored (--keep ${r.keep})\n`
  return out
}

/** The `mmsim run` that simulates one seed of an exploration, stopping at its first finding as exploration does. */
const runCommand = (source: string, variants: Variants | null, choice: StrategyChoice, seed: number): string =>
  [
    'mmsim run',
    ...(source.endsWith('(embedded)') ? [] : [`--workload ${source}`]),
    ...Object.entries(variants ?? {}).map(([k, v]) => `--variant ${k}=${String(v)}`),
    `--seed ${seed}`,
    '--stop-on-violation',
    ...(choice.strategy === 'pct' ? ['--strategy pct', ...(choice.depth !== undefined ? [`--depth ${choice.depth}`] : [])] : []),
  ].join(' ')

const options = {
  workload: opt('--workload <file>', 'the workload JSON file (default: the embedded workloads/default.json)', StringArg),
  variant: optMany('--variant <key=value>', "set a switch of the workload's variants (repeatable), e.g. discardList=off", VariantArg),
  seeds: opt('--seeds <n>', 'how many seeds (schedules) to explore (required)', IntArg(1, SEEDS_MAX)),
  fromSeed: opt('--from-seed <s>', 'the first seed of the range (default 1)', SeedArg),
  strategy: opt('--strategy <name>', 'schedule strategy: random (seeded jitter, the default) or pct (probabilistic concurrency testing)', OneOfArg(STRATEGIES)),
  depth: opt('--depth <d>', `PCT's bug depth d: d - 1 priority change points (default ${PCT_DEPTH_DEFAULT}; with --strategy pct)`, IntArg(1, 64)),
  workers: opt('--workers <n>', 'worker threads simulating schedules (default 1: this thread); the answer is the same for any number', IntArg(1, workersMax())),
  all: opt('--all', 'explore every seed and report every failing one, rather than stop at the lowest failing seed', FlagArg),
  db: DB_OPT,
  shard: opt('--shard <k/n>', 'explore only the k-th (from 0) of n disjoint slices of the seeds, e.g. --shard $JOB_COMPLETION_INDEX/8', ShardArg),
  keep: opt('--keep <n>', `store at most n failing schedules as runs of --db (default: the lowest, or ${KEEP_DEFAULT} with --all; 0 stores none)`, IntArg()),
  json: JSON_OPT,
  progress: opt('--no-progress', 'no progress bar (it is drawn only when stderr is a terminal)', FlagArg),
}

export const exploreSpec: CommandSpec<typeof options> = {
  name: 'explore',
  summary: 'simulate many schedules in memory and report those that break an invariant',
  description:
    'Simulates the schedules of seeds S..S+N-1 of a workload in memory (events dropped, every monitor and invariant checked, ' +
    'each schedule stopped at its first finding) and reports the failing ones: seed, outcome, first finding and its seq. It ' +
    'stops at the first failure but finishes every seed below it, so the answer is the lowest failing seed of the range for any ' +
    'number of --workers; --all explores every seed. Each failing schedule reported is simulated again into --db as a run ' +
    '(deterministic: the same events), which `mmsim replay`, `check` and `events` read; a --db named is created even when nothing ' +
    'fails. --shard k/n explores one slice of the ' +
    'range, for a campaign spread over machines; `mmsim merge` gathers their databases. Exits 0 when no schedule failed, 1 when ' +
    'one did, 130 when interrupted.',
  examples: [
    'mmsim explore --workload workloads/gph-discard-list.json --variant discardList=off --seeds 100',
    'mmsim explore --workload workloads/gph-discard-list.json --variant discardList=off --seeds 100 --strategy pct --depth 2 --all --workers 2',
    'mmsim explore --workload workloads/gph-fork-vs-discard.json --seeds 40 --json',
    'mmsim explore --workload workloads/gph-state-change.json --variant stateChange=none --seeds 400 --all --shard 0/4 --db shard-0.db',
  ],
  options,
  action: async (opts, ctx) => {
    if (opts.seeds === undefined) throw new UsageError(`${ctx.name}: --seeds is required: how many schedules to explore`)
    const file = opts.workload
    const loaded = file === undefined ? loadDefaultWorkload() : loadWorkload(file)
    const variants = variantsOf(ctx.name, opts.variant) ?? null
    const workload = variants === null ? loaded : { ...loaded, variants: { ...loaded.variants, ...variants } }
    const source = file ?? 'workloads/default.json (embedded)'
    const all = opts.all === true
    const asked: SeedRange = { from: opts.fromSeed ?? 1, count: opts.seeds }
    if (asked.from + asked.count - 1 > Number.MAX_SAFE_INTEGER)
      throw new UsageError(`${ctx.name}: --from-seed ${asked.from} with --seeds ${asked.count} goes past the last seed, ${Number.MAX_SAFE_INTEGER}`)
    const range = opts.shard === undefined ? asked : shardOf(asked, opts.shard.k, opts.shard.n)
    const overrides: EngineConfig = { stopOnViolation: true }
    const choice = strategyChoice(ctx.name, opts)
    const db = opts.db ?? DB_DEFAULT
    // A database that cannot take the failing runs is said before minutes of exploring. One named
    // with --db is made now, failing schedules or not, so that every shard of a campaign leaves a
    // file `mmsim merge` reads; the default one is only touched when there is something to keep.
    if (opts.db !== undefined) openForWrite(db).close()
    else checkPath(db, 'write')
    return simulating(ctx, opts.progress !== false, async (hooks) => {
      // PCT's k is measured on the workload before any schedule runs (hunt/strategy.ts).
      const config = strategyConfig(workload, overrides, choice)
      const workers = opts.workers ?? 1
      ctx.log.info({ from: range.from, seeds: range.count, strategy: config.strategy, pct: config.pct, workers, all }, 'exploration starts')
      let result: ExploreResult
      try {
        result = await explore(
          { workload, range, config, all },
          {
            workers,
            onProgress: (done, total, failing) => hooks.onProgressText(done, total, `${formatCount(done)} of ${formatCount(total)} schedules, ${failing} failing`),
            interrupted: hooks.interrupted,
          },
        )
      } catch (err) {
        if (!(err instanceof ScheduleCrashed)) throw err
        hooks.simulated()
        ctx.io.err(
          `${ctx.name}: internal error: an assertion of mmsim failed while simulating ${err.message}; \`${runCommand(source, variants, choice, err.seed)}\` reproduces it\n`,
        )
        return EXIT_INTERNAL
      }
      ctx.log.info({ explored: result.explored, failing: result.failing.length, interrupted: result.interrupted }, 'exploration ends')
      const keep = opts.keep ?? (all ? KEEP_DEFAULT : 1)
      const stored = await keepFailing(result.failing.slice(0, keep), { workload, workloadSource: source, config, db, log: ctx.log, interrupted: hooks.interrupted })
      hooks.simulated()
      const shard = opts.shard === undefined ? null : { ...opts.shard, of: { from: asked.from, to: asked.from + asked.count - 1 } }
      const report: ExploreReport = { ...result, workload: workload.name, source, variants, config, shard, db, keep, stored }
      ctx.io.out(opts.json ? `${JSON.stringify(report)}\n` : renderExplore(report))
      if (!result.complete || hooks.interrupted() !== null) return EXIT_INTERRUPTED
      return result.failing.length > 0 ? EXIT_FINDING : EXIT_OK
    })
  },
}
