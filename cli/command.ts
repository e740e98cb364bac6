// How a command is declared: its options (flags, help text and the codec that decodes the value),
// a description and an example for --help, and an action that gets decoded options. Commander
// parses argv, writes help and suggests the nearest command or option; the values themselves pass
// their codecs here, since arguments are a boundary like any other.
import { Command, Option } from 'commander'
import * as t from 'io-ts'
import * as E from 'fp-ts/Either'
import type { Logger } from 'pino'
import { LogLevelArg, StringArg, FlagArg, LOG_LEVELS, UsageError, badValue, type LogLevel } from './args'
import type { Io } from './io'
import { createLogger } from './log'
import { StatusLine } from './terminal'
import { assert } from '../lib'

type Named<A> = t.Decoder<unknown, A> & { readonly name: string }

export interface Opt<A> {
  /** Commander's flags: `--seed <n>`, `--json`, `--no-progress`. */
  readonly flags: string
  readonly help: string
  /** Decodes one value; the codec's name is what the message says was expected. */
  readonly codec: Named<unknown>
  /** The flag may be given more than once; the values are collected in order. */
  readonly multiple: boolean
  /** The decoded type, for inference only. */
  readonly _A?: A
}

export const opt = <A>(flags: string, help: string, codec: Named<A>): Opt<A> => ({ flags, help, codec, multiple: false })
export const optMany = <A>(flags: string, help: string, codec: Named<A>): Opt<A[]> => ({ flags, help, codec, multiple: true })

export type Opts<O> = { readonly [K in keyof O]?: O[K] extends Opt<infer A> ? A : never }

/** What an action gets besides its options: where to write, and a logger at --log-level. */
export interface Context {
  readonly io: Io
  readonly log: Logger
  /** stderr's status line (the progress bar); logs are written above it. */
  readonly status: StatusLine
  /** `mmsim state zone`: for messages. */
  readonly name: string
  /** The command's operands (CommandSpec.operands), in order; empty for a command without. */
  readonly operands: readonly string[]
}

export interface CommandSpec<O extends Record<string, Opt<unknown>>> {
  readonly name: string
  readonly summary: string
  /** A paragraph for --help: what the command does. */
  readonly description: string
  /** Command lines that run as written, shown under "Examples" in --help. */
  readonly examples: readonly string[]
  readonly options: O
  /**
   * A positional argument that is another way to give one of the options (`mmsim page 0x100` is
   * `mmsim page --pfn 0x100`): decoded with that option's codec, and an error when both are given.
   */
  readonly argument?: { readonly key: string; readonly name: string }
  /** Positional operands that are not options (`mmsim merge OUT IN...`): their names for --help, the last one repeatable. */
  readonly operands?: readonly { readonly name: string; readonly help: string }[]
  readonly action: (opts: Opts<O>, ctx: Context) => Promise<number> | number
}

// Options every command takes.
export const DB_OPT = opt('--db <file>', 'the database file (default: mmsim.db)', StringArg)
export const JSON_OPT = opt('--json', 'print JSON for programs instead of text', FlagArg)
const LOG_LEVEL_OPT = opt('--log-level <level>', `log level on stderr: ${LOG_LEVELS.join(', ')}`, LogLevelArg)
export const DB_DEFAULT = 'mmsim.db'

/** Reports the exit code of the action that ran; main reads it after parsing. */
export interface Outcome {
  code: number
}

const decodeOpts = <O extends Record<string, Opt<unknown>>>(name: string, options: O, raw: Record<string, unknown>): Opts<O> => {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(options).sort()) {
    const o = options[key]!
    const v = raw[key]
    if (v === undefined) continue
    const flag = o.flags.split(/[ ,]/)[0]!.replace(/^--no-/, '--')
    const items = o.multiple ? (v as unknown[]) : [v]
    const decoded = items.map((item) => {
      const r = o.codec.decode(item)
      if (E.isLeft(r)) throw badValue(name, flag, o.codec.name, item)
      return r.right
    })
    out[key] = o.multiple ? decoded : decoded[0]
  }
  return out as Opts<O>
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v]

/** Adds a command under `parent`, with --log-level, --help text and example. */
export const addCommand = <O extends Record<string, Opt<unknown>>>(parent: Command, spec: CommandSpec<O>, io: Io, outcome: Outcome): Command => {
  const cmd = parent.command(spec.name).summary(spec.summary).description(spec.description)
  const all = { ...spec.options, logLevel: LOG_LEVEL_OPT } as Record<string, Opt<unknown>>
  for (const key of Object.keys(all)) {
    const o = all[key]!
    const option = new Option(o.flags, o.help)
    assert(option.attributeName() === key, `option ${o.flags} is declared as ${key}`)
    if (o.multiple) option.argParser(collect)
    cmd.addOption(option)
  }
  cmd.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}\n`)
  const name = `${parent.name() === 'mmsim' ? '' : `${parent.name()} `}${spec.name}`
  const argument = spec.argument
  assert(argument === undefined || all[argument.key] !== undefined, 'a positional argument stands for one of the options')
  if (argument !== undefined) cmd.argument(`[${argument.name}]`, `the same as ${all[argument.key]!.flags.split(' ')[0]}`)
  const operands = spec.operands ?? []
  assert(argument === undefined || operands.length === 0, 'a command takes an argument for an option or operands, not both')
  // Optional to commander: a missing operand is the action's message (exit 2), as a missing option is.
  operands.forEach((o, i) => cmd.argument(i === operands.length - 1 ? `[${o.name}...]` : `[${o.name}]`, o.help))
  cmd.action(async (...received: unknown[]) => {
    const c = received[received.length - 1] as Command
    const raw = c.opts()
    if (argument !== undefined && c.args[0] !== undefined) {
      const flag = all[argument.key]!.flags.split(' ')[0]!
      if (raw[argument.key] !== undefined) throw new UsageError(`mmsim ${name}: give the ${argument.name} once: as an argument or as ${flag}, not both`)
      raw[argument.key] = c.args[0]
    }
    const opts = decodeOpts(name, all, raw)
    const status = new StatusLine(io)
    const level = ((opts as { logLevel?: LogLevel }).logLevel ?? 'warn') as LogLevel
    const log = createLogger(level, status, io.errIsTTY).child({ command: name })
    const given = operands.length === 0 ? [] : received.slice(0, operands.length).flatMap((v) => (v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [v as string]))
    outcome.code = await spec.action(opts as Opts<O>, { io, log, status, name: `mmsim ${name}`, operands: given })
  })
  return cmd
}
