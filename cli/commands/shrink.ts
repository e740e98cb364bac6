// `mmsim shrink`: a failing run reduced to a minimal workload and schedule (hunt/shrink), written
// as two files that `mmsim run --workload W --schedule S` re-runs; prints the sizes before and after.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { shrinkRun, type ReproducerSize, type ShrinkResult } from '../../hunt/shrink/shrink'
import { IntArg, RunArg, StringArg, UsageError } from '../args'
import { DB_DEFAULT, DB_OPT, JSON_OPT, opt, type CommandSpec } from '../command'
import { formatCount, table } from '../format'
import { EXIT_OK } from '../io'
import { latestRun } from '../openRun'

const options = {
  db: DB_OPT,
  run: opt('--run <id>', 'the failing run to shrink (default: the newest)', RunArg),
  out: opt('--out <dir>', 'the directory to write workload.json and schedule.json to (default: shrink-RUN; created if missing)', StringArg),
  invariant: opt('--invariant <name>', 'the invariant the reproducer must fail (default: the run’s first finding)', StringArg),
  testsMax: opt('--tests-max <n>', 'simulate at most n candidates (default 20000); the answer then says it is not proven minimal', IntArg(1, 10_000_000)),
  json: JSON_OPT,
}

export interface ShrinkWritten extends Omit<ShrinkResult, 'workload' | 'schedule'> {
  readonly files: { readonly workload: string; readonly schedule: string }
  /** The command line that re-runs the reproducer. */
  readonly reproduce: string
}

const sizeRow = (label: string, s: ReproducerSize): string[] => [
  label,
  formatCount(s.ops),
  formatCount(s.preemptions),
  formatCount(s.decisions),
  formatCount(s.events),
  s.seq === null ? '-' : String(s.seq),
]

export const renderShrink = (r: ShrinkWritten): string => {
  let out = `run ${r.run}: ${r.invariant}, shrunk with ${formatCount(r.tests)} candidates simulated in ${r.rounds} round${r.rounds === 1 ? '' : 's'}${r.unrolled ? ' (repeats unrolled)' : ''}\n`
  out += table(['', 'ops', 'preemptions', 'decisions', 'events', 'failing seq'], [sizeRow('before', r.before), sizeRow('after', r.after)])
  out += r.minimal
    ? '1-minimal: removing any single op (with the ops that need it) or any single preemption makes it pass\n'
    : 'not proven 1-minimal: --tests-max was reached first\n'
  out += `wrote ${r.files.workload} and ${r.files.schedule}\nreproduce: ${r.reproduce}\n`
  return out
}

export const shrinkSpec: CommandSpec<typeof options> = {
  name: 'shrink',
  summary: 'shrink a failing run to a minimal workload and schedule',
  description:
    'Delta debugging (ddmin) of a failing run: first over its workload’s operations (repeats unrolled; an op ' +
    'goes with the ops that need it), then over its schedule’s preemptions (the decisions that depart from ' +
    'the non-preempting default, where every CPU step takes stepNs and every host pass comes as early as it can), ' +
    'again and again until removing any single op or preemption makes the run pass. Each candidate is ' +
    'simulated in memory; nothing is stored. Writes workload.json and schedule.json, which `mmsim run ' +
    '--workload W --schedule S` re-runs into the same failure, and prints the sizes before and after. ' +
    'Exits 0 when it wrote a reproducer, 2 for a run without a finding or bad input, 3 on an internal error.',
  examples: ['mmsim shrink --run 1 --out shrunk', 'mmsim shrink --db races.db --run 1 --json'],
  options,
  action: (opts, { io, name }) => {
    const db = opts.db ?? DB_DEFAULT
    const runId = opts.run ?? latestRun(db)
    const r = shrinkRun({ db, runId, ...(opts.invariant !== undefined ? { invariant: opts.invariant } : {}), ...(opts.testsMax !== undefined ? { testsMax: opts.testsMax } : {}) })
    const dir = opts.out ?? `shrink-${runId}`
    try {
      fs.mkdirSync(dir, { recursive: true })
    } catch (err) {
      throw new UsageError(`${name}: --out ${dir}: cannot create the directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    const files = { workload: path.join(dir, 'workload.json'), schedule: path.join(dir, 'schedule.json') }
    for (const [file, body] of [
      [files.workload, r.workload],
      [files.schedule, r.schedule],
    ] as const) {
      try {
        fs.writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`)
      } catch (err) {
        throw new UsageError(`${name}: ${file}: cannot write: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
      }
    }
    const { workload: _w, schedule: _s, ...rest } = r
    const written: ShrinkWritten = { ...rest, files, reproduce: `mmsim run --workload ${files.workload} --schedule ${files.schedule}` }
    io.out(opts.json ? `${JSON.stringify(written)}\n` : renderShrink(written))
    return EXIT_OK
  },
}
