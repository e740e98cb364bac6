// `mmsim export`: a stored run in formats other tools read: Perfetto / Chrome trace JSON, CSV.
import { CSV_WHAT, exportCountersCsv, exportEventsCsv, exportPerfetto } from '../../formats'
import { IntArg, OneOfArg, RunArg, StringArg, UsageError } from '../args'
import { DB_DEFAULT, DB_OPT, JSON_OPT, opt, type CommandSpec } from '../command'
import { EXIT_OK } from '../io'
import { withRun } from '../openRun'
import { withOut } from '../outFile'

export const EXPORT_FORMATS = ['perfetto', 'csv'] as const

const options = {
  db: DB_OPT,
  run: opt('--run <id>', 'the run (default: the newest)', RunArg),
  format: opt('--format <format>', 'perfetto (Chrome Trace Event JSON, for ui.perfetto.dev and chrome://tracing) or csv', OneOfArg(EXPORT_FORMATS)),
  what: opt('--what <what>', 'with csv: events (one row per event) or counters (free pages per order, sampled)', OneOfArg(CSV_WHAT)),
  every: opt('--every <n>', 'sample the counters every n events (default: about 2048 samples over the run)', IntArg(1)),
  out: opt('--out <file>', 'write to this file instead of stdout', StringArg),
  json: JSON_OPT,
}

export const exportSpec: CommandSpec<typeof options> = {
  name: 'export',
  summary: 'a run as a Perfetto / Chrome trace or as CSV',
  description:
    'Writes a stored run in a format other tools read, streaming its events. --format perfetto: Chrome Trace Event JSON that ui.perfetto.dev and chrome://tracing open: one track per CPU and one for the host; do_discard_fault, rmap_walk_anon, page_shrink_discards and free_pcppages_bulk as slices; discard faults, collections, host discards and findings as instants; free pages per order per zone and the host totals as counters; timestamps in microseconds. --format csv --what events|counters: one row per event (seq, t_ns, cpu, type, cause, data as JSON) or the counters at sampled seqs. --json prints, after the file is written with --out, what was written.',
  examples: [
    'mmsim export --run 1 --format perfetto --out run1.trace.json',
    'mmsim export --format csv --what events --out events.csv',
    'mmsim export --format csv --what counters --every 100',
  ],
  options,
  action: (opts, { io, name }) => {
    const format = opts.format
    if (format === undefined) throw new UsageError(`${name}: --format is required: ${EXPORT_FORMATS.join(' or ')}`)
    if (format === 'csv' && opts.what === undefined) throw new UsageError(`${name}: --format csv needs --what: ${CSV_WHAT.join(' or ')}`)
    if (format === 'perfetto' && opts.what !== undefined) throw new UsageError(`${name}: --what is for --format csv; a Perfetto trace holds events and counters together`)
    if (opts.json && opts.out === undefined) throw new UsageError(`${name}: --json describes what was written to --out; without --out the export itself is stdout`)
    return withRun(name, { file: opts.db ?? DB_DEFAULT, run: opts.run }, (r) => {
      const every = opts.every === undefined ? {} : { every: opts.every }
      const written = withOut(io, name, opts.out, (write) =>
        format === 'perfetto'
          ? { format, ...exportPerfetto(r.db, r.file, r.run.id, write, every) }
          : opts.what === 'events'
            ? { format, what: 'events', rows: exportEventsCsv(r.db, r.file, r.run.id, write) }
            : { format, what: 'counters', samples: exportCountersCsv(r.db, r.file, r.run.id, write, every) },
      )
      if (opts.json) io.out(`${JSON.stringify({ run: r.run.id, out: opts.out, ...written })}\n`)
      return EXIT_OK
    })
  },
}
