// The `mmsim` command: commander parses the command line (help for every command, --version, a
// "did you mean" for a mistyped command or option); the errors a user can act on become a message
// and exit code 2; anything else is a bug in mmsim and says so (exit code 3). A closed stdout
// (`mmsim events | head`) ends quietly with 0.
import { Command, CommanderError } from 'commander'
import { ENGINE_VERSION } from '../engine/config'
import { WorkloadRejected } from '../engine/run'
import { AssertionFailed } from '../lib'
import { StoreError } from '../storage'
import { WorkloadError } from '../workload/load'
import { DeriveRefused } from '../hunt/derive'
import { ScheduleFileError } from '../hunt/shrink/scheduleFile'
import { UsageError } from './args'
import { addCommand, type CommandSpec, type Outcome } from './command'
import { bisectSpec } from './commands/bisect'
import { checkSpec } from './commands/check'
import { completionSpec } from './commands/completion'
import { diffSpec } from './commands/diff'
import { eventsSpec } from './commands/events'
import { mergeSpec } from './commands/merge'
import { exploreSpec } from './commands/explore'
import { forkSpec } from './commands/fork'
import { replaySpec } from './commands/replay'
import { runSpec } from './commands/run'
import { pageSpec } from './commands/page'
import { reportSpec } from './commands/report'
import { exportSpec } from './commands/export'
import { importHelp, importSpecs } from './commands/import'
import { runsSpec } from './commands/runs'
import { shrinkSpec } from './commands/shrink'
import { inevitableSpec } from './commands/inevitable'
import { snapshotSpec } from './commands/snapshot'
import { STATE_VIEWS, stateHelp, stateViews } from './commands/state'
import { experimentHelp, experimentSpecs } from './commands/experiment'
import { EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, OutputClosed, type Io } from './io'
import { capMessage } from './text'

const EXIT_CODES_HELP = `
Exit codes: 0 ok, 1 invariant violated / deadlock / integrity failure / runs that differ, 2 bad input,
            3 internal error, 130 interrupted (SIGINT, SIGTERM)
Run \`mmsim <command> --help\` for a command's options and examples.
`

/** A command that only groups subcommands (`mmsim state zone`, `mmsim experiment anon-vma-scaling`), each added with its own options. */
const addGroup = (
  program: Command,
  help: { readonly name: string; readonly summary: string; readonly description: string; readonly examples: readonly string[] },
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  specs: readonly CommandSpec<any>[],
  io: Io,
  outcome: Outcome,
): void => {
  const group = program
    .command(help.name)
    .summary(help.summary)
    .description(help.description)
    .addHelpText('after', `\nExamples:\n${help.examples.map((e) => `  ${e}`).join('\n')}\n`)
  for (const spec of specs) addCommand(group, spec, io, outcome)
}

/** The whole command tree, built fresh for each call so that nothing is shared between calls. */
export const buildProgram = (io: Io, outcome: Outcome): Command => {
  const program = new Command('mmsim')
    .description('An event-sourced simulator of Linux guest memory management: run workloads, then read, fold and check the stored runs.')
    .version(ENGINE_VERSION, '-V, --version', 'print the engine version')
    .helpCommand('help [command]', 'show help for a command')
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      // Commander's "error: ..." becomes mmsim's "mmsim: ..." and is made printable like every message.
      outputError: (s, write) => write(capMessage(s.replace(/^error: /, 'mmsim: ') + (s.includes('unknown command') ? '`mmsim --help` lists the commands.\n' : ''))),
    })
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText('after', EXIT_CODES_HELP)
  addCommand(program, runSpec, io, outcome)
  addCommand(program, runsSpec, io, outcome)
  addCommand(program, eventsSpec, io, outcome)
  addGroup(program, stateHelp, stateViews, io, outcome)
  addCommand(program, pageSpec, io, outcome)
  addCommand(program, checkSpec, io, outcome)
  addCommand(program, bisectSpec, io, outcome)
  addCommand(program, replaySpec, io, outcome)
  addCommand(program, forkSpec, io, outcome)
  addCommand(program, diffSpec, io, outcome)
  addCommand(program, snapshotSpec, io, outcome)
  addGroup(program, experimentHelp, experimentSpecs, io, outcome)
  addCommand(program, exploreSpec, io, outcome)
  addCommand(program, mergeSpec, io, outcome)
  addCommand(program, shrinkSpec, io, outcome)
  addCommand(program, inevitableSpec, io, outcome)
  addCommand(program, reportSpec, io, outcome)
  addCommand(program, exportSpec, io, outcome)
  addGroup(program, importHelp, importSpecs, io, outcome)
  addCommand(
    program,
    completionSpec(() => program),
    io,
    outcome,
  )
  return program
}

/** Commander's own exits: help and version are success, anything else is a usage error. */
const commanderExit = (err: CommanderError): number =>
  err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || (err.code === 'commander.help' && err.exitCode === 0) ? EXIT_OK : EXIT_BAD_INPUT

/** Options of the state views that take no value; every other option is followed by its value. */
const STATE_FLAGS = new Set(['--json', '-h', '--help'])

/**
 * `mmsim state --at 5 zone` reads as `mmsim state zone --at 5`: the options are the view's, and a
 * user who types them first means the same thing. Only a view name where an option's value cannot
 * be moves; anything else is left for commander to judge.
 */
export const viewBeforeOptions = (argv: readonly string[]): readonly string[] => {
  if (argv[0] !== 'state') return argv
  let i = 1
  while (i < argv.length && argv[i]!.startsWith('-')) i += STATE_FLAGS.has(argv[i]!) || argv[i]!.includes('=') ? 1 : 2
  if (i === 1 || i >= argv.length || !(STATE_VIEWS as readonly string[]).includes(argv[i]!)) return argv
  return ['state', argv[i]!, ...argv.slice(1, i), ...argv.slice(i + 1)]
}

export const main = async (argv: readonly string[], io: Io): Promise<number> => {
  const outcome: Outcome = { code: EXIT_OK }
  try {
    if (argv.length === 0) {
      // No command: the overview, and a status that says nothing was done.
      io.err(buildProgram(io, outcome).helpInformation())
      return EXIT_BAD_INPUT
    }
    await buildProgram(io, outcome).parseAsync([...viewBeforeOptions(argv)], { from: 'user' })
    return outcome.code
  } catch (err) {
    if (err instanceof OutputClosed) return EXIT_OK
    if (err instanceof CommanderError) return commanderExit(err)
    if (err instanceof UsageError || err instanceof WorkloadError || err instanceof StoreError || err instanceof DeriveRefused || err instanceof ScheduleFileError) {
      io.err(capMessage(err.message))
      return EXIT_BAD_INPUT
    }
    if (err instanceof WorkloadRejected) {
      io.err(capMessage(err.errors.map((e) => `workload rejected: ${e.path}: ${e.message}`).join('\n')))
      return EXIT_BAD_INPUT
    }
    if (err instanceof AssertionFailed) {
      io.err(`mmsim: internal error: ${capMessage(`${err.message}\n${err.stack ?? ''}`)}`)
      return EXIT_INTERNAL
    }
    throw err
  }
}
