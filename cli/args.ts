// Option values: commander splits argv, then every value is decoded through an io-ts codec like
// every other boundary, so `--seed x` says what a seed may be. The codec's name is the message.
import * as t from 'io-ts'
import { VARIANT_VALUES, type Variants } from '../workload/codec'
import { BLOCK_EVENTS } from '../storage/schema'
import { quote } from './text'
import type { StrategyName } from '../engine/config'
import type { StrategyChoice } from '../hunt/strategy'

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

export const IntArg = (min = 0, max = Number.MAX_SAFE_INTEGER, name?: string) =>
  fromString(name ?? (min === 0 && max === Number.MAX_SAFE_INTEGER ? 'a non-negative integer' : `an integer ${min}..${max}`), (s) => {
    if (!/^\d+$/.test(s)) return undefined
    const n = Number(s)
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined
  })

/** Engine.fromSeed folds any safe integer into the PRNG's 32 bits; a seed is never negative. */
export const SeedArg = IntArg(0, Number.MAX_SAFE_INTEGER, `a seed: a whole number 0..${Number.MAX_SAFE_INTEGER} (the same seed replays the same run)`)
export const RunArg = IntArg(1, Number.MAX_SAFE_INTEGER, 'a run id: a whole number from 1 (`mmsim runs` lists them)')
export const SeqArg = IntArg(1, Number.MAX_SAFE_INTEGER, 'a seq: a whole number from 1')
/** Frames are printed in hex (`pfn=0x1f00`), so either form is taken back. */
export const PfnArg = fromString('a page frame number: 0 or more, decimal or 0x hex', (s) => {
  if (!/^(\d+|0x[0-9a-f]+)$/i.test(s)) return undefined
  const n = Number(s)
  return Number.isSafeInteger(n) ? n : undefined
})

/** Events between two snapshots: a multiple of the hash block (a snapshot's head is the hash of the block ending at it); `min` 0 allows none. */
export const SnapshotEveryArg = (min: number) =>
  fromString(`a multiple of ${BLOCK_EVENTS}${min === 0 ? ' (0: none)' : ` from ${BLOCK_EVENTS}`}`, (s) => {
    if (!/^\d+$/.test(s)) return undefined
    const n = Number(s)
    return Number.isSafeInteger(n) && n >= min && n % BLOCK_EVENTS === 0 ? n : undefined
  })

export const OneOfArg = <V extends string>(values: readonly V[]) =>
  fromString<V>(`one of ${values.join(', ')}`, (s) => ((values as readonly string[]).includes(s) ? (s as V) : undefined))

export const StringArg = fromString('a value', (s) => (s.length > 0 ? s : undefined))

/** A --flag without a value; commander gives true, or false for --no-flag. */
export const FlagArg = t.boolean

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export const LogLevelArg = OneOfArg(LOG_LEVELS)

/** The message for a value that does not decode: names the flag, never echoes more than a quote. */
export const badValue = (command: string, flag: string, expected: string, got: unknown): UsageError =>
  new UsageError(`mmsim ${command}: ${flag}: expected ${expected}, got ${typeof got === 'string' ? quote(got) : String(got)}`)

/** One `--variant key=value`: a switch of guest page hinting (the workload's `variants`) and its value. */
export interface VariantSetting {
  readonly key: keyof Variants
  readonly value: string
}

const VARIANT_HELP = Object.entries(VARIANT_VALUES)
  .map(([k, vs]) => `${k}=${vs.join('|')}`)
  .join(', ')

export const VariantArg = fromString<VariantSetting>(`a variant key=value, one of ${VARIANT_HELP}`, (s) => {
  const m = /^([A-Za-z]+)=(.+)$/.exec(s)
  if (m === null || !Object.prototype.hasOwnProperty.call(VARIANT_VALUES, m[1]!)) return undefined
  const key = m[1] as keyof Variants
  return (VARIANT_VALUES[key] as readonly string[]).includes(m[2]!) ? { key, value: m[2]! } : undefined
})

/** The settings of repeated --variant flags as a workload's `variants`; a switch given twice is an error. */
export const variantsOf = (command: string, settings: readonly VariantSetting[] | undefined): Variants | undefined => {
  if (settings === undefined || settings.length === 0) return undefined
  const out: Record<string, string> = {}
  for (const v of settings) {
    if (v.key in out) throw new UsageError(`${command}: --variant ${v.key} is given twice (${out[v.key]} and ${v.value})`)
    out[v.key] = v.value
  }
  return out as Variants
}

/** --strategy and --depth as the library takes them; a depth without PCT is a mistake worth saying. */
export const strategyChoice = (command: string, o: { readonly strategy?: StrategyName; readonly depth?: number }): StrategyChoice => {
  const strategy = o.strategy ?? 'random'
  if (o.depth !== undefined && strategy !== 'pct') throw new UsageError(`${command}: --depth is PCT's bug depth; give it with --strategy pct`)
  return o.depth === undefined ? { strategy } : { strategy, depth: o.depth }
}

/** `--shard k/n`: the k-th (from 0) of n slices. */
export interface Shard {
  readonly k: number
  readonly n: number
}

/** Shards of one range at most: far more than machines anyone runs a campaign on. */
export const SHARDS_MAX = 1 << 20

export const ShardArg = fromString<Shard>(`a shard k/n: the k-th (from 0) of n slices, 0 <= k < n <= ${SHARDS_MAX}, e.g. 0/4`, (s) => {
  const m = /^(\d+)\/(\d+)$/.exec(s)
  if (m === null) return undefined
  const k = Number(m[1])
  const n = Number(m[2])
  return n >= 1 && n <= SHARDS_MAX && k < n ? { k, n } : undefined
})
