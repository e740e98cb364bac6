// `mmsim snapshot`: (re)build a run's snapshots by folding its events (analysis/snapshots.ts).
import { buildSnapshots, type SnapshotSummary } from '../../analysis/snapshots'
import { BLOCK_EVENTS, SNAPSHOT_EVERY_DEFAULT, getRun, latestRunId, openForWrite } from '../../storage'
import { RunArg, SnapshotEveryArg } from '../args'
import { DB_DEFAULT, DB_OPT, JSON_OPT, opt, type CommandSpec } from '../command'
import { formatCount } from '../format'
import { EXIT_OK } from '../io'

const mib = (n: number): string => `${(n / (1 << 20)).toFixed(2)} MiB`

export const renderSnapshotSummary = (s: SnapshotSummary, every: number): string =>
  s.snapshots === 0
    ? `run ${s.run}: no snapshots (it has fewer than ${formatCount(every)} events)\n`
    : `run ${s.run}: ${formatCount(s.snapshots)} snapshots every ${formatCount(every)} events (seq ${s.firstSeq}..${s.lastSeq}): ` +
      `${formatCount(s.full)} full, ${formatCount(s.delta)} delta; ${mib(s.storedBytes)} stored (${mib(s.rawBytes)} before compression)\n`

const options = {
  db: DB_OPT,
  run: opt('--run <id>', 'the run (default: the newest)', RunArg),
  every: opt('--every <n>', `events between two snapshots, a multiple of ${BLOCK_EVENTS} (default ${SNAPSHOT_EVERY_DEFAULT})`, SnapshotEveryArg(BLOCK_EVENTS)),
  json: JSON_OPT,
}

export const snapshotSpec: CommandSpec<typeof options> = {
  name: 'snapshot',
  summary: "rebuild a run's snapshots of the state by folding its events",
  description:
    'Replaces the snapshots of a run (the newest by default) with one every --every events, built by ' +
    'folding its events: for a run stored without them (`mmsim run --snapshot-every 0`, or by an ' +
    'older mmsim) or to take them more or less often. Snapshots make `mmsim state --at` a restore ' +
    'plus a fold of at most --every events; `mmsim check` verifies them against the events.',
  examples: ['mmsim snapshot', 'mmsim snapshot --run 1 --every 8192 --json'],
  options,
  action: (opts, { io }) => {
    const file = opts.db ?? DB_DEFAULT
    const every = opts.every ?? SNAPSHOT_EVERY_DEFAULT
    const db = openForWrite(file)
    try {
      const runId = getRun(db, file, opts.run ?? latestRunId(db, file)).id
      const summary = buildSnapshots(db, file, runId, every)
      io.out(opts.json ? `${JSON.stringify({ ...summary, every })}\n` : renderSnapshotSummary(summary, every))
      return EXIT_OK
    } finally {
      db.close()
    }
  },
}
