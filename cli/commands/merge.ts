// `mmsim merge OUT IN...`: gather the runs of several databases (the shards of a campaign) into
// one, each verified on the way (storage/mergeRuns.ts), and list what went where.
import { mergeRuns, ShardDamaged, type MergeReport } from '../../storage'
import { UsageError } from '../args'
import { JSON_OPT, type CommandSpec } from '../command'
import { formatCount, table } from '../format'
import { EXIT_FINDING, EXIT_OK } from '../io'
import { printable } from '../text'

export const renderMerge = (r: MergeReport): string => {
  const files = new Set(r.runs.map((x) => x.file)).size
  let out = `merged ${r.runs.length} run${r.runs.length === 1 ? '' : 's'} from ${files} of ${r.inputs.length} file${r.inputs.length === 1 ? '' : 's'} into ${r.out}, each verified\n`
  if (r.runs.length > 0)
    out += table(
      ['from', 'run', 'as run', 'workload', 'seed', 'events', 'violations', 'uuid'],
      r.runs.map((x) => [printable(x.file), String(x.from), String(x.id), printable(x.workload), String(x.seed), formatCount(x.events), String(x.violations), x.uuid]),
    )
  return out
}

const options = { json: JSON_OPT }

export const mergeSpec: CommandSpec<typeof options> = {
  name: 'merge',
  summary: "copy the runs of several databases into one, verifying each run's hashes",
  description:
    'Copies every run of the IN databases (the shards of an exploration, say) into OUT, created if missing. Each run is verified ' +
    "first (`mmsim check`'s hashes: its row, events, frame lists, blocks and schedule) and its digest recomputed; nothing is " +
    'written unless all pass. A run keeps its uuid and digest (its identity) and gets a new id in OUT. Refused (exit 2, nothing ' +
    'written): a file that is not an mmsim database, a file given twice, a run already in OUT (same uuid) or in two inputs (the ' +
    'same digest and head: overlapping shards), a run still being written. An input run that fails verification: exit 1, nothing written.',
  examples: ['mmsim merge campaign.db shard-0.db shard-1.db shard-2.db shard-3.db', 'mmsim merge campaign.db shard-*.db --json'],
  options,
  operands: [
    { name: 'out', help: 'the database the runs are copied into (created if missing)' },
    { name: 'in', help: 'the databases the runs are copied from' },
  ],
  action: (opts, ctx) => {
    const [out, ...inputs] = ctx.operands
    if (out === undefined || inputs.length === 0) throw new UsageError(`${ctx.name}: give the output database and at least one input: mmsim merge OUT.db IN.db...`)
    let report: MergeReport
    try {
      report = mergeRuns(out, inputs)
    } catch (err) {
      if (!(err instanceof ShardDamaged)) throw err
      ctx.io.err(`${ctx.name}: ${err.message}\n`)
      return EXIT_FINDING
    }
    ctx.io.out(opts.json ? `${JSON.stringify(report)}\n` : renderMerge(report))
    return EXIT_OK
  },
}
