// `mmsim experiment anon-vma-scaling`: parses options, runs hunt/anonVmaScaling.ts, renders the
// table (text) or the result (--json). Each experiment is a subcommand with its own --help.
import { LINKINGS, SCALING_FRAMES_MAX, runAnonVmaScaling, scalingFindings, scalingFrames, type ScalingResult } from '../../hunt/anonVmaScaling'
import { IntArg, SeedArg, UsageError } from '../args'
import { REPORTING_IDLE_GIB_MAX, idleFindings, runReportingIdle, type IdleResult } from '../../hunt/reportingIdle'
import { DB_DEFAULT, DB_OPT, JSON_OPT, opt, type CommandSpec } from '../command'
import { formatCount, table } from '../format'
import { EXIT_FINDING, EXIT_INTERRUPTED, EXIT_OK } from '../io'
import { withSignals } from '../signals'

export const EXPERIMENTS = ['anon-vma-scaling', 'reporting-idle'] as const

/** Sampled pages per anon_vma when --sample is not given. */
const SAMPLE_DEFAULT = 4

const options = {
  children: opt('--children <n>', 'child processes forked from the one that owns the pages (N)', IntArg(1, 1 << 16)),
  pages: opt('--pages <n>', 'anonymous pages of the parent, each COWed by every child (P)', IntArg(1, 1 << 22)),
  sample: opt('--sample <n>', `pages walked for real in each anon_vma (a stratified sample; default ${SAMPLE_DEFAULT})`, IntArg(1, 1 << 20)),
  seed: opt('--seed <n>', 'seed of both runs (default 1); it draws the sample', SeedArg),
  db: DB_OPT,
  json: JSON_OPT,
}

const fixed = (x: number, digits = 2): string => x.toFixed(digits)

export const renderScaling = (r: ScalingResult): string => {
  let out = `anon-vma-scaling: ${formatCount(r.children)} children of a process with ${formatCount(r.pages)} anonymous pages, every page COWed by every child; `
  out += `rmap walk cost over every mapped anonymous page (exact), and real rmap walks on ${r.sample} page(s) of each anon_vma (stratified)\n\n`
  out += table(
    ['linking', 'pages', 'anon_vmas', 'avg VMAs/walk', 'max', 'expected', 'walks', 'sampled avg', 'sampled max', 'events', 'wall', 'run'],
    r.rows.map((row) => [
      row.linking,
      formatCount(row.pages),
      formatCount(row.anonVmas),
      fixed(row.exact.average),
      formatCount(row.exact.max),
      fixed(row.expected),
      formatCount(row.sample.walks),
      fixed(row.sample.average),
      formatCount(row.sample.max),
      formatCount(row.events),
      `${fixed(row.wallMs / 1000, 1)}s`,
      String(row.runId),
    ]),
  )
  const legacy = r.rows.find((x) => x.linking === 'legacy')
  const chain = r.rows.find((x) => x.linking === 'chain')
  if (legacy !== undefined && chain !== undefined)
    out += `\nanon_vma_chain walks ${fixed(chain.exact.average)} VMAs per page on average against ${fixed(legacy.exact.average)} for legacy linking (${fixed(legacy.exact.average / chain.exact.average, 1)}x fewer): "from O(N) to 2"\n`
  out += `${formatCount(r.events)} events stored in ${r.db} by ${r.rows.length} run(s), in ${fixed(r.wallMs / 1000, 1)}s\n`
  if (r.interrupted !== null) out += `${r.interrupted}: the run that was going on is kept, marked interrupted; the table holds the runs that finished\n`
  const findings = scalingFindings(r)
  for (const f of findings) out += `finding: ${f}\n`
  return out
}

export const anonVmaScalingSpec: CommandSpec<typeof options> = {
  name: 'anon-vma-scaling',
  summary: 'the anon_vma_chain commit’s figure: rmap walk cost, legacy linking against anon_vma_chain',
  description:
    `Forks N children from a process with P anonymous pages and has every child COW every page, once with ` +
    `legacy linking (${LINKINGS[0]}: one anon_vma shared by the parent and all its children) and once with ` +
    `anon_vma_chain (${LINKINGS[1]}), storing both runs. Prints, for each, the average and the most VMAs an ` +
    'rmap walk visits over every mapped anonymous page (computed per anon_vma from the final structure), what the ' +
    'commit message predicts (N + 1 against (2N + 1) / (N + 1): "from O(N) to 2"), and real rmap walks (rmap_walk, which visits every VMA covering the page) ' +
    'on a stratified sample, which must agree. Exits 1 when a run violated an invariant or the walks disagree, ' +
    '130 when SIGINT or SIGTERM stopped it (the run going on is kept, marked interrupted).',
  examples: ['mmsim experiment anon-vma-scaling --children 50 --pages 50', 'mmsim experiment anon-vma-scaling --children 1000 --pages 1000 --json'],
  options,
  action: async (opts, { io, log, name }) => {
    const { children, pages } = opts
    if (children === undefined || pages === undefined) throw new UsageError(`${name}: give --children N and --pages P`)
    const frames = scalingFrames(children, pages)
    if (frames > SCALING_FRAMES_MAX)
      throw new UsageError(
        `${name}: ${opts.children} children × ${opts.pages} pages need a guest of ${formatCount(frames)} frames; at most ${formatCount(SCALING_FRAMES_MAX)} (16 GiB)`,
      )
    return withSignals(async (interrupted) => {
      const result = await runAnonVmaScaling({
        children,
        pages,
        sample: opts.sample ?? SAMPLE_DEFAULT,
        seed: opts.seed ?? 1,
        db: opts.db ?? DB_DEFAULT,
        log,
        onPhase: (linking) => log.info({ linking }, 'experiment run starts'),
        interrupted,
      })
      io.out(opts.json ? `${JSON.stringify({ ...result, findings: scalingFindings(result) })}\n` : renderScaling(result))
      if (result.interrupted !== null) return EXIT_INTERRUPTED
      return scalingFindings(result).length > 0 ? EXIT_FINDING : EXIT_OK
    })
  },
}

const idleOptions = {
  gib: opt('--gib <n>', `the idle guest's size in GiB (default 32, the v17 cover letter's; at most ${REPORTING_IDLE_GIB_MAX})`, IntArg(1, REPORTING_IDLE_GIB_MAX)),
  seed: opt('--seed <n>', 'seed of both runs (default 1)', SeedArg),
  db: DB_OPT,
  json: JSON_OPT,
}

const seconds = (ns: number | null): string => (ns === null ? 'never' : `${(ns / 1e9).toFixed(3)} s`)

export const renderIdle = (r: IdleResult): string => {
  let out = `reporting-idle: an idle ${r.gib} GiB x86 guest, ${formatCount(r.blocks)} free order-10 blocks; mm/page_reporting.c says "all pages on an idle system reported in about 30 seconds"\n\n`
  out += table(
    ['mechanism', 'all reported at', 'passes', 'batches', 'events', 'run'],
    r.rows.map((x) => [x.mechanism, seconds(x.reporting.fullyReportedAtNs), String(x.reporting.passes), formatCount(x.reporting.cycles), formatCount(x.events), String(x.runId)]),
  )
  out += `\nthe source's claim ${seconds(r.claimNs)}; its budget rule (a pass every 2 s reporting DIV_ROUND_UP(nr_free, 512) + 1 batches of 32) predicts ${seconds(r.predictedNs)}\n`
  for (const x of r.rows) out += `${x.mechanism} share over time: ${x.reporting.curve.map(([t, p]) => `${seconds(t)} ${p} %`).join(', ')}\n`
  if (r.interrupted !== null) out += `${r.interrupted}: the run that was going on is kept, marked interrupted\n`
  for (const f of idleFindings(r)) out += `finding: ${f}\n`
  return out
}

export const reportingIdleSpec: CommandSpec<typeof idleOptions> = {
  name: 'reporting-idle',
  summary: 'mm/page_reporting.c’s figure: an idle guest fully reported in about 30 s, beside the aeration RFC',
  description:
    'Runs an idle x86 guest (one zone of --gib GiB, all of it free in order-10 blocks) for 60 simulated seconds with ' +
    'mainline free page reporting, then with the aeration RFC, storing both runs. Prints when each first had all ' +
    'reportable free memory reported (aerated), the passes and batches it took, and the reported share over time; ' +
    'beside it the source comment’s "about 30 seconds" and what its per-pass budget predicts. Exits 1 when page ' +
    'reporting never got there or missed the prediction by more than 20 %, 130 when SIGINT or SIGTERM stopped it.',
  examples: ['mmsim experiment reporting-idle', 'mmsim experiment reporting-idle --gib 4 --json'],
  options: idleOptions,
  action: async (opts, { io, log }) =>
    withSignals(async (interrupted) => {
      const result = await runReportingIdle({ gib: opts.gib ?? 32, seed: opts.seed ?? 1, db: opts.db ?? DB_DEFAULT, log, interrupted })
      io.out(opts.json ? `${JSON.stringify({ ...result, findings: idleFindings(result) })}\n` : renderIdle(result))
      if (result.interrupted !== null) return EXIT_INTERRUPTED
      return idleFindings(result).length > 0 ? EXIT_FINDING : EXIT_OK
    }),
}

export const experimentSpecs = [anonVmaScalingSpec, reportingIdleSpec] as const

export const experimentHelp = {
  name: 'experiment',
  summary: 'reproduce a figure of the reference material (anon-vma-scaling, reporting-idle)',
  description: 'Runs a workload built for a published figure under each design it compares, stores the runs, and prints the figure side by side.',
  examples: ['mmsim experiment anon-vma-scaling --children 50 --pages 50', 'mmsim experiment reporting-idle'],
}
