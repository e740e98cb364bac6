// `mmsim fork`: a new run that follows a stored run exactly up to a seq, then goes on with the
// seeded strategy's choices (hunt/fork.ts); `mmsim runs` shows it as `fork of R at SEQ`.
import { forkRun, type ForkReport } from '../../hunt/fork'
import { FlagArg, RunArg, SeedArg, SeqArg, UsageError, VariantArg } from '../args'
import { DB_OPT, JSON_OPT, opt, optMany, type CommandSpec } from '../command'
import { bothFindings, deriveAction, divergenceWhat, divergentRows, scheduleText } from '../deriveText'
import { formatCount } from '../format'
import { EXIT_FINDING, EXIT_OK } from '../io'

export const renderFork = (r: ForkReport, file: string): string => {
  const p = r.parent
  const n = r.run
  const d = r.comparison.divergence
  let out = `fork of run ${p.id} at seq ${r.atSeq} into run ${n.runId} (${file}): ${r.prefixIdentical ? `events 1..${r.atSeq} are run ${p.id}'s` : `DIVERGED before the fork point, at seq ${d!.seq}`}\n`
  out += `  schedule   ${scheduleText(r.schedule, n.scheduleSeed)}`
  out += `  events     ${formatCount(n.events)} (run ${p.id} has ${formatCount(p.events)})\n`
  if (d === null) {
    const same = r.variants === null && n.scheduleSeed === p.scheduleSeed
    out += `  after      the same as run ${p.id} to its end${same ? ` (the fork draws what run ${p.id}'s schedule seed drew: give --seed for other choices)` : ''}\n`
  } else {
    out += `  after      ${r.prefixIdentical ? 'first differs' : 'differs'} from run ${p.id} at seq ${formatCount(d.seq)}: ${divergenceWhat({ ...d, a: d.parent, b: d.child })}\n`
    out += divergentRows(file, p.id, n.runId, d)
  }
  return out + bothFindings(r)
}

const options = {
  db: DB_OPT,
  run: opt('--run <id>', 'the run to fork (required)', RunArg),
  at: opt('--at <seq>', 'the fork point: events 1..SEQ follow the run (required)', SeqArg),
  seed: opt('--seed <n>', "seed of the schedule strategy after the fork point (default: the run's, which draws what the run drew)", SeedArg),
  variant: optMany('--variant <key=value>', 'fork under another variant (repeatable), e.g. discardList=off', VariantArg),
  force: opt('--force', 'fork a run stored by another engine version all the same', FlagArg),
  json: JSON_OPT,
  progress: opt('--no-progress', 'no progress bar (it is drawn only when stderr is a terminal)', FlagArg),
}

export const forkSpec: CommandSpec<typeof options> = {
  name: 'fork',
  summary: 'a new run that follows a stored run up to a seq, then makes new schedule choices',
  description:
    'Re-executes a stored run following its recorded schedule until the new run has SEQ events, then lets the seeded strategy ' +
    "(--seed; by default the run's own seed, which draws what the run drew) decide every later step, into a new run of the same " +
    'database stored with its parent and fork point (`mmsim runs`: fork of R at SEQ). Checks that events 1..SEQ are the ' +
    "parent's (per-event hash) and says where the fork first differs. Exits 1 when the prefix differs or the fork has findings.",
  examples: ['mmsim fork --run 1 --at 1000 --seed 2', 'mmsim fork --run 1 --at 1000 --seed 2 --json', 'mmsim fork --run 1 --at 1000 --variant discardList=off'],
  options,
  action: (opts, ctx) => {
    const at = opts.at
    if (at === undefined) throw new UsageError(`${ctx.name}: --at is required: the seq up to which the fork follows the run`)
    return deriveAction(
      ctx,
      opts,
      (o) => forkRun({ ...o, atSeq: at }),
      renderFork,
      (r) => (r.prefixIdentical && r.findings.child.count === 0 ? EXIT_OK : EXIT_FINDING),
    )
  },
}
