// Command-line options: parsed by node:util parseArgs (unknown options are errors), then decoded
// through io-ts codecs like every other boundary, so `--seed x` says what it expected.
import { parseArgs } from 'node:util'
import * as t from 'io-ts'
import * as E from 'fp-ts/Either'

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

const fromString = <A>(name: string, parse: (s: string) => A | undefined) =>
  new t.Type<A, string, unknown>(
    name,
    (_u): _u is A => false,
    (u, c) => {
      if (typeof u !== 'string') return t.failure(u, c)
      const v = parse(u)
      return v === undefined ? t.failure(u, c) : t.success(v)
    },
    String,
  )

export const IntArg = (min = 0, max = Number.MAX_SAFE_INTEGER) =>
  fromString(min === 0 ? 'a non-negative integer' : `an integer ${min}..${max}`, (s) => {
    if (!/^\d+$/.test(s)) return undefined
    const n = Number(s)
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined
  })

export const OneOfArg = <V extends string>(values: readonly V[]) =>
  fromString<V>(`one of ${values.join(', ')}`, (s) => ((values as readonly string[]).includes(s) ? (s as V) : undefined))

export const StringArg = fromString('a value', (s) => (s.length > 0 ? s : undefined))

export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly multiple?: boolean
  readonly short?: string
}

/** Parses argv for one command and decodes the values; returns options and positionals. */
export const parseCommand = <P extends t.Props>(
  command: string,
  argv: readonly string[],
  spec: Record<string, OptionSpec>,
  codecs: P,
  maxPositionals = 0,
): { opts: t.TypeOfPartialProps<P>; positionals: string[] } => {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...argv], options: spec as never, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(`mmsim ${command}: ${(err as Error).message.replace(/\. To specify.*$/s, '')}`)
  }
  if (parsed.positionals.length > maxPositionals)
    throw new UsageError(`mmsim ${command}: unexpected argument "${parsed.positionals[maxPositionals]}"`)
  const values = parsed.values as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(values).sort()) {
    const codec = codecs[key]
    const v = values[key]
    if (codec === undefined) {
      out[key] = v
      continue
    }
    const items = Array.isArray(v) ? v : [v]
    const decoded: unknown[] = []
    for (const item of items) {
      const r = (codec as t.Mixed).decode(item)
      if (E.isLeft(r)) throw new UsageError(`mmsim ${command}: --${key}: expected ${codec.name}, got ${JSON.stringify(item)}`)
      decoded.push(r.right)
    }
    out[key] = Array.isArray(v) ? decoded : decoded[0]
  }
  return { opts: out as t.TypeOfPartialProps<P>, positionals: parsed.positionals }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
