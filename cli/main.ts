// The `mmsim` command: dispatch to a subcommand, and turn the errors a user can act on into a
// message and exit code 2. Anything else is a bug in mmsim and says so (exit code 3).
import { AssertionFailed } from '../lib'
import { StoreError } from '../storage'
import { WorkloadRejected } from '../engine/run'
import { WorkloadError } from '../workload/load'
import { UsageError } from './args'
import { checkCommand } from './commands/check'
import { eventsCommand } from './commands/events'
import { runCommand } from './commands/run'
import { runsCommand } from './commands/runs'
import { stateCommand } from './commands/state'
import { EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, type Io } from './io'

export const USAGE = `usage: mmsim <command> [options]

commands:
  run     [--workload FILE] [--seed N] [--db FILE] [--steps-max N] [--check-every N]
          [--stop-on-violation] [--json] [--no-progress] [--log-level LEVEL]
          simulate a workload (the embedded default without --workload) into the database
  runs    [--db FILE] [--json]
          list the runs in the database
  events  [--db FILE] [--run R] [--from SEQ] [--to SEQ] [--type T[,T]] [--pfn PFN] [--limit N] [--json]
          print stored events (the newest run by default)
  state   zone|pages|cpus [--db FILE] [--run R] [--at SEQ] [--json]
          [--format buddyinfo|pagetypeinfo|all] (zone)  [--pfn PFN] [--count N] (pages)
          fold a run to a seq and print a projection: /proc/buddyinfo and /proc/pagetypeinfo,
          page states and owners, or each CPU's discarded-page list
  check   [--db FILE] [--run R] [--at SEQ] [--json]
          verify a run's hash chains and check every invariant at a seq

exit codes: 0 ok, 1 invariant violated / deadlock / integrity failure, 2 bad input,
            3 internal error, 130 interrupted
`

const commands: Record<string, (argv: readonly string[], io: Io) => Promise<number>> = {
  run: runCommand,
  runs: runsCommand,
  events: eventsCommand,
  state: stateCommand,
  check: checkCommand,
}

export const main = async (argv: readonly string[], io: Io): Promise<number> => {
  const [name, ...rest] = argv
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(USAGE)
    return name === undefined ? EXIT_BAD_INPUT : EXIT_OK
  }
  const command = commands[name]
  if (command === undefined) {
    io.err(`mmsim: unknown command "${name}"\n\n${USAGE}`)
    return EXIT_BAD_INPUT
  }
  try {
    return await command(rest, io)
  } catch (err) {
    if (err instanceof UsageError || err instanceof WorkloadError || err instanceof StoreError) {
      io.err(`${err.message}\n`)
      return EXIT_BAD_INPUT
    }
    if (err instanceof WorkloadRejected) {
      io.err(`${err.errors.map((e) => `workload rejected: ${e.path}: ${e.message}`).join('\n')}\n`)
      return EXIT_BAD_INPUT
    }
    if (err instanceof AssertionFailed) {
      io.err(`mmsim: internal error: ${err.message}\n${err.stack ?? ''}\n`)
      return EXIT_INTERNAL
    }
    throw err
  }
}
