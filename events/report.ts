// Turns io-ts errors into messages a person can act on: `$.ops[17].order: expected an integer
// 0..10, got 11`. io-ts's own PathReporter is not used: it prints every union member's failure.
import * as t from 'io-ts'

const renderValue = (v: unknown): string => {
  if (v === undefined) return 'nothing'
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s
}

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
  if (e.message?.startsWith('unknown field')) return `${jsonPath(e.context)}: ${e.message}`
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
