// `mmsim inevitable`: from which event on a failing run's failure was certain (hunt/inevitable.ts),
// as a table of fork points and a small bar chart of the share of forks that still fail.
import { FORKS_DEFAULT, POINTS_DEFAULT, inevitable, type ForkPoint, type InevitableResult } from '../../hunt/inevitable'
import { IntArg, RunArg, StringArg } from '../args'
import { DB_DEFAULT, DB_OPT, JSON_OPT, opt, type CommandSpec } from '../command'
import { table } from '../format'
import { EXIT_OK } from '../io'
import { latestRun } from '../openRun'

const options = {
  db: DB_OPT,
  run: opt('--run <id>', 'the failing run (default: the newest)', RunArg),
  points: opt('--points <p>', `fork points spread over the events before the violation (default ${POINTS_DEFAULT})`, IntArg(1, 1000)),
  forks: opt('--forks <n>', `forks per point, with schedule seeds 1..n (default ${FORKS_DEFAULT})`, IntArg(1, 10_000)),
  invariant: opt('--invariant <name>', 'the invariant the forks must fail (default: the run’s first finding)', StringArg),
  json: JSON_OPT,
}

const BAR_WIDTH = 20

const bar = (p: ForkPoint): string => {
  const n = Math.round((p.failing / p.forks) * BAR_WIDTH)
  return `${'#'.repeat(n)}${'.'.repeat(BAR_WIDTH - n)}`
}

export const renderInevitable = (r: InevitableResult): string => {
  let out = `run ${r.run}: ${r.invariant}, the violating event seq ${r.violatingSeq} (finding at seq ${r.findingSeq}); ${r.forks} forks per point, new random choices after it\n`
  out += table(
    ['fork after seq', 'failing', 'share', ''],
    r.points.map((p) => [
      `${p.seq}${p.refined ? '*' : ''}${p.seq === r.inevitableAt ? ' <' : ''}`,
      `${p.failing}/${p.forks}`,
      `${Math.round((100 * p.failing) / p.forks)}%`,
      bar(p),
    ]),
  )
  out += '(* a point found while narrowing down)\n'
  if (r.inevitableAt === null) out += `not certain before the violating event: forks from seq ${r.violatingSeq - 1} do not all fail\n`
  else if (r.before === null) out += `certain from the start: every fork fails from every point tried, seq ${r.inevitableAt} on\n`
  else
    out += `inevitable after seq ${r.inevitableAt}: every fork fails from it and from every later point tried; from seq ${r.before.seq}, ${r.before.forks - r.before.failing} of ${r.before.forks} pass (\`mmsim events --from ${r.inevitableAt} --to ${r.inevitableAt}\` shows the event)\n`
  return out
}

export const inevitableSpec: CommandSpec<typeof options> = {
  name: 'inevitable',
  summary: 'when a failing run’s failure became certain: forks from points before it',
  description:
    'For a failing run: from P points spread over the events before the violating one, N forks follow the run ' +
    'exactly up to the point and then take new random schedule choices (schedule seeds 1..N), simulated in memory; ' +
    'prints per point the share of forks that still fail the same invariant first, as a table and a bar chart, ' +
    'and names the earliest event after which every fork fails (narrowed down by bisection between the points). ' +
    'Exits 0 when it answered, 2 for a run without a finding or bad input, 3 on an internal error.',
  examples: ['mmsim inevitable --run 1', 'mmsim inevitable --db races.db --run 2 --points 20 --forks 50 --json'],
  options,
  action: (opts, { io }) => {
    const db = opts.db ?? DB_DEFAULT
    const r = inevitable({
      db,
      runId: opts.run ?? latestRun(db),
      ...(opts.points !== undefined ? { points: opts.points } : {}),
      ...(opts.forks !== undefined ? { forks: opts.forks } : {}),
      ...(opts.invariant !== undefined ? { invariant: opts.invariant } : {}),
    })
    io.out(opts.json ? `${JSON.stringify(r)}\n` : renderInevitable(r))
    return EXIT_OK
  },
}
