// `mmsim report`: a stored run's audit report (report/), as HTML, Markdown or JSON.
import { buildReport, renderHtml, renderMarkdown, type Report } from '../../report'
import { OneOfArg, RunArg, StringArg } from '../args'
import { DB_DEFAULT, DB_OPT, JSON_OPT, opt, type CommandSpec } from '../command'
import { EXIT_FINDING, EXIT_OK } from '../io'
import { withRun } from '../openRun'
import { writeOut } from '../outFile'

export const REPORT_FORMATS = ['html', 'md', 'json'] as const

/** Exit 1 when the report finds something a signer must see: integrity failed, or an invariant fails. */
export const reportCode = (r: Report): number =>
  r.provenance.integrity.ok && r.provenance.snapshots.failures.length === 0 && r.invariants.results.every((i) => i.passed) ? EXIT_OK : EXIT_FINDING

const options = {
  db: DB_OPT,
  run: opt('--run <id>', 'the run (default: the newest)', RunArg),
  format: opt('--format <format>', `html (one self-contained page, the default), md (Markdown) or json (the versioned shape)`, OneOfArg(REPORT_FORMATS)),
  out: opt('--out <file>', 'write the report to this file instead of stdout', StringArg),
  json: JSON_OPT,
}

export const reportSpec: CommandSpec<typeof options> = {
  name: 'report',
  summary: "a run's audit report: provenance, each mechanism's figures, every invariant",
  description:
    'Writes an audit report of a stored run: its provenance (engine version, seed, configuration and variants, workload digest, schedule strategy, events, and both hash chains verified end to end), one section per mechanism (page-state transitions, discard faults, collections, host discards; allocations, frees, fallbacks and buddyinfo over time; rmap walks), and every invariant with its result: passed, or the first seq at which it fails and the commands that show it. --format html is one self-contained page (inline SVG charts, no network, printable), md reads well on a code-hosting site, json (or --json) is the versioned shape of README\'s "Reports". Streams the events: bounded memory for a run of any length. Exits 1 when integrity or an invariant fails.',
  examples: ['mmsim report --run 1 --format html --out run1.html', 'mmsim report --format md', 'mmsim report --run 1 --json'],
  options,
  action: (opts, { io, log, name }) =>
    withRun(name, { file: opts.db ?? DB_DEFAULT, run: opts.run }, (r) => {
      const report = buildReport(r.db, r.file, r.run.id)
      const format = opts.json ? 'json' : (opts.format ?? 'html')
      const text = format === 'json' ? `${JSON.stringify(report)}\n` : format === 'md' ? renderMarkdown(report) : renderHtml(report)
      writeOut(io, name, opts.out, text)
      if (opts.out !== undefined) log.info({ runId: r.run.id, format, out: opts.out }, 'report written')
      return reportCode(report)
    }),
}
