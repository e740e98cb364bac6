// `mmsim diff`: two stored runs side by side (analysis/diff.ts): the first seq at which they
// differ, then events by type, page-state transitions, the zone's buddyinfo at each run's end and
// the findings of each.
import { diffRuns, type RunDiff } from '../../analysis/diff'
import { RunArg, UsageError } from '../args'
import { DB_DEFAULT, DB_OPT, JSON_OPT, optMany, type CommandSpec } from '../command'
import { divergenceWhat, findingsText, rowLine } from '../deriveText'
import { formatCount, table } from '../format'
import { EXIT_FINDING, EXIT_OK } from '../io'
import { machineOf, withRun } from '../openRun'

const delta = (x: number, y: number): string => (x === y ? '' : `${y > x ? '+' : ''}${formatCount(y - x)}`)

/** Rows for the keys of either count, each run's count and the difference. */
const counts = (a: Record<string, number>, b: Record<string, number>): string[][] =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().map((k) => [`  ${k}`, formatCount(a[k] ?? 0), formatCount(b[k] ?? 0), delta(a[k] ?? 0, b[k] ?? 0)])

export const renderDiff = (d: RunDiff, file: string): string => {
  const { a, b } = d
  const by = d.by === 'hash' ? 'per-event chain hash' : 'row (the runs hash rows differently)'
  let out = `diff of runs ${a.id} and ${b.id} (${file}), compared by ${by}: `
  const v = d.divergence
  if (v === null) out += `identical, ${formatCount(a.events)} events\n`
  else {
    out += `first divergent seq ${v.seq}: ${divergenceWhat(v)}\n`
    const machine = withRun('mmsim diff', { file, run: a.id }, machineOf)
    out += `  run ${a.id}: ${rowLine(file, a.id, machine, v.a)}`
    out += `  run ${b.id}: ${rowLine(file, b.id, machine, v.b)}`
    const w = d.afterBoot
    if (w !== null) {
      out += `seq 1 differs only in the variants; the first divergent seq after it (by row) is ${w.seq}: ${divergenceWhat(w)}\n`
      out += `  run ${a.id}: ${rowLine(file, a.id, machine, w.a)}`
      out += `  run ${b.id}: ${rowLine(file, b.id, machine, w.b)}`
    }
  }
  const rows = [
    ['workload', a.workload, b.workload, ''],
    ['seed', String(a.seed), String(b.seed), ''],
    ['outcome', a.outcome ?? '-', b.outcome ?? '-', ''],
    ['events', formatCount(a.events), formatCount(b.events), delta(a.events, b.events)],
    ['findings', formatCount(a.findings.count), formatCount(b.findings.count), delta(a.findings.count, b.findings.count)],
    ['events by type', '', '', ''],
    ...counts(a.eventsByType, b.eventsByType),
  ]
  const transitions = counts(a.transitions, b.transitions)
  if (transitions.length > 0) rows.push(['page-state transitions (from>to)', '', '', ''], ...transitions)
  out += '\n' + table(['', `run ${a.id}`, `run ${b.id}`, 'difference'], rows)
  out += `\nbuddyinfo at the end of run ${a.id}\n${a.buddyinfo}buddyinfo at the end of run ${b.id}\n${b.buddyinfo}`
  out += `\nfindings of run ${a.id}: ${findingsText(a.findings)}findings of run ${b.id}: ${findingsText(b.findings)}`
  return out
}

const options = {
  db: DB_OPT,
  run: optMany('--run <id>', 'a run to compare; give it twice (--run A --run B)', RunArg),
  json: JSON_OPT,
}

export const diffSpec: CommandSpec<typeof options> = {
  name: 'diff',
  summary: 'compare two stored runs: first divergent seq, then side by side',
  description:
    'Compares two runs of one database event by event (by the per-event chain hash when both hash rows alike, else by the ' +
    'rows) and prints the first divergent seq with both events, then side by side: events by type, page-state transitions, ' +
    "the zone's buddyinfo at each run's end, and the findings each recorded. Exits 0 when the runs are identical, 1 when they differ.",
  examples: ['mmsim diff --run 1 --run 2', 'mmsim diff --run 1 --run 2 --json'],
  options,
  action: (opts, { io, name }) => {
    const runs = opts.run ?? []
    if (runs.length !== 2) throw new UsageError(`${name}: give --run twice, the two runs to compare (got ${runs.length})`)
    const file = opts.db ?? DB_DEFAULT
    const d = withRun(name, { file, run: runs[0]! }, (r) => diffRuns(r.db, file, runs[0]!, runs[1]!))
    io.out(opts.json ? `${JSON.stringify(d)}\n` : renderDiff(d, file))
    return d.identical ? EXIT_OK : EXIT_FINDING
  },
}
