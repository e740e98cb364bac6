// Every switch over an event's type, an op, or a variant ends in `default: return absurd(x)`
// (lib/assert.ts), so that a new event type, op or variant value does not compile until each
// place that must handle it does (issue 7 §3). The compiler enforces the rest; this test keeps
// the convention from eroding, one switch at a time.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'

const DIRS = ['engine', 'projections', 'events', 'analysis', 'storage', 'workload', 'lib', 'hunt', 'cli']

/** Switches that are not over a union: a frame's numeric kind, whose default is every other value. */
const NOT_OVER_A_UNION = new Set(['projections/pages/render.ts:switch (z.frame[pfn])'])

/**
 * A monitor answers "no finding" for every event it does not watch: the default there is the
 * point, not an oversight (a new event cannot break a transition invariant nobody wrote yet).
 */
const MONITORS = new Set(['projections/hinting/monitors.ts:switch (e.type)'])

const sources = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name)
    return d.isDirectory() ? sources(p) : d.name.endsWith('.ts') ? [p] : []
  })

/** The text of each `switch (...) { ... }` in `text`, by brace matching. */
const switches = (text: string): { head: string; body: string }[] => {
  const out: { head: string; body: string }[] = []
  for (const m of text.matchAll(/switch \(([^)]*\)?)\) \{/g)) {
    let depth = 0
    let end = m.index + m[0].length - 1
    for (; end < text.length; end++) {
      if (text[end] === '{') depth++
      else if (text[end] === '}' && --depth === 0) break
    }
    out.push({ head: `switch (${m[1]})`, body: text.slice(m.index, end + 1) })
  }
  return out
}

describe('exhaustive switches', () => {
  it('every switch over a union in engine/, projections/, events/ and the other libraries ends with absurd', () => {
    const missing: string[] = []
    for (const file of DIRS.flatMap(sources)) {
      for (const s of switches(fs.readFileSync(file, 'utf8'))) {
        const where = `${file}:${s.head}`
        if (NOT_OVER_A_UNION.has(where) || MONITORS.has(where)) continue
        if (!/default:\s*return absurd\(/.test(s.body)) missing.push(where)
      }
    }
    expect(missing).toEqual([])
  })

  it('there is one absurd, in lib/', () => {
    const defs = DIRS.flatMap(sources).filter((f) => /const absurd\s*=|function absurd\b/.test(fs.readFileSync(f, 'utf8')))
    expect(defs).toEqual([path.join('lib', 'assert.ts')])
  })
})
