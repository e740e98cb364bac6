// Turns io-ts errors into messages a person can act on: `$.ops[17].order: expected an integer
// 0..10, got 11`. io-ts's own PathReporter is not used: it prints every union member's failure.
import * as t from 'io-ts'

/** Longest rendering of a bad value in a message. */
const VALUE_CHARS_MAX = 60
/** Levels of a nested value shown before it is summarised: the renderer never recurses deeper. */
const VALUE_DEPTH_MAX = 3

/**
 * A short rendering of a value that failed to decode. Bounded in depth and length, whatever the
 * input (a value 5000 levels deep is a summary, not a stack overflow); JSON escapes control
 * characters, so NUL bytes never reach the terminal; and a number JSON cannot hold (1e309 parses
 * to Infinity) is named for what it is instead of JSON's "null".
 */
const renderValue = (v: unknown): string => {
  if (v === undefined) return 'nothing'
  if (typeof v === 'number' && !Number.isFinite(v)) return `${v} (not a finite number)`
  const s = shortJson(v, VALUE_DEPTH_MAX)
  return s.length > VALUE_CHARS_MAX ? `${s.slice(0, VALUE_CHARS_MAX - 3)}...` : s
}

const shortJson = (v: unknown, depth: number): string => {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null'
  if (typeof v !== 'object' || v === null) return JSON.stringify(v) ?? String(v)
  if (depth === 0) return Array.isArray(v) ? '[...]' : '{...}'
  // Only as many members as can show within the length cap.
  const n = VALUE_CHARS_MAX / 2
  if (Array.isArray(v))
    return `[${v
      .slice(0, n)
      .map((x) => shortJson(x, depth - 1))
      .join(',')}${v.length > n ? ',...' : ''}]`
  const keys = Object.keys(v)
  const shown = keys.slice(0, n).map((k) => `${JSON.stringify(k)}:${shortJson((v as Record<string, unknown>)[k], depth - 1)}`)
  return `{${shown.join(',')}${keys.length > n ? ',...' : ''}}`
}

/** Messages that say everything themselves, printed after the path without "expected". */
const WHOLE_MESSAGE = /^(unknown field|simulated time:|nested more than)/

/** The JSON path of an error's context, `$` for the root. Union and intersection members are skipped. */
export const jsonPath = (context: t.Context): string => {
  let path = '$'
  for (let i = 1; i < context.length; i++) {
    const entry = context[i]!
    const parent = context[i - 1]!
    const parentTag = (parent.type as { _tag?: string })._tag
    // Unions and intersections add a numeric key per member that is not part of the data.
    if (parentTag === 'UnionType' || parentTag === 'IntersectionType') continue
    path += /^\d+$/.test(entry.key) ? `[${entry.key}]` : `.${entry.key}`
  }
  return path
}

export const formatError = (e: t.ValidationError): string => {
  if (e.message !== undefined && WHOLE_MESSAGE.test(e.message)) return `${jsonPath(e.context)}: ${e.message}`
  const last = e.context[e.context.length - 1]
  const expected = e.message ?? (last ? last.type.name : 'a value')
  return `${jsonPath(e.context)}: expected ${expected}, got ${renderValue(e.value)}`
}

/** The first few errors, deduplicated by path, most specific (longest path) first. */
export const formatErrors = (errors: t.Errors, max = 3): string => {
  const seen = new Set<string>()
  const lines: string[] = []
  const sorted = [...errors].sort((a, b) => b.context.length - a.context.length)
  for (const e of sorted) {
    const p = jsonPath(e.context)
    if (seen.has(p)) continue
    seen.add(p)
    lines.push(formatError(e))
    if (lines.length >= max) break
  }
  return lines.join('; ')
}
