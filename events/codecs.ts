// Shared io-ts building blocks. Every codec here has a plain TypeScript type (`number`, a string
// union) so that the engine builds events without casts, while decoding still checks the range.
import * as t from 'io-ts'

const isInt = (u: unknown): u is number => typeof u === 'number' && Number.isSafeInteger(u)

/** A safe integer. Decoding rejects fractions, NaN and anything beyond 2^53. */
export const Int = new t.Type<number, number, unknown>('an integer', isInt, (u, c) => (isInt(u) ? t.success(u) : t.failure(u, c)), t.identity)

/** An integer in [min, max]; the name doubles as the message a user reads on a bad value. */
export const intIn = (min: number, max: number, name = `an integer ${min}..${max}`) =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => isInt(u) && u >= min && u <= max,
    (u, c) => (isInt(u) && u >= min && u <= max ? t.success(u) : t.failure(u, c)),
    t.identity,
  )

export const NonNegInt = intIn(0, Number.MAX_SAFE_INTEGER, 'a non-negative integer')
export const PosInt = intIn(1, Number.MAX_SAFE_INTEGER, 'a positive integer')

/** A string literal union built from a readonly tuple, keeping the tuple as the single list. */
export const oneOf = <const V extends readonly [string, ...string[]]>(values: V, name?: string) =>
  new t.Type<V[number], V[number], unknown>(
    name ?? `one of ${values.map((v) => JSON.stringify(v)).join(' | ')}`,
    (u): u is V[number] => typeof u === 'string' && (values as readonly string[]).includes(u),
    (u, c) => (typeof u === 'string' && (values as readonly string[]).includes(u) ? t.success(u as V[number]) : t.failure(u, c)),
    t.identity,
  )

/** Kernel constants the codecs refer to (include/linux/mmzone.h, v4.13 era). */
export const MAX_ORDER = 11
export const MIGRATE_TYPES = 5
export const MIGRATE_PCPTYPES = 3

export const Order = intIn(0, MAX_ORDER - 1)
export const Pfn = NonNegInt
export const CpuId = intIn(0, 255, 'a CPU number 0..255')

/** enum migratetype, without CMA (not configured), in the kernel's order. */
export const MIGRATETYPE_NAMES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate'] as const
export const MIGRATE_UNMOVABLE = 0
export const MIGRATE_MOVABLE = 1
export const MIGRATE_RECLAIMABLE = 2
export const MIGRATE_HIGHATOMIC = 3
export const MIGRATE_ISOLATE = 4

/** Migratetypes travel as their index: compact in the store and the same as the kernel's enum. */
export const Migratetype = intIn(0, MIGRATE_TYPES - 1, 'a migratetype 0..4')
