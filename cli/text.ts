// Text that reaches a person's terminal from outside input (file names, argument values, messages
// built from a workload): control characters escaped, long values cut, long messages capped. A
// NUL byte or an escape sequence in a file must never reach the terminal as such.

/** Longest quoted value shown in a message. */
const QUOTE_CHARS_MAX = 60
/** Error output is capped: a workload with 200 000 bad ops gets this many lines and a count. */
export const ERROR_LINES_MAX = 20
const ERROR_LINE_CHARS_MAX = 1000

// C0 and C1 controls, DEL, and the line/paragraph separators; newlines are handled per line.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g

const escapeChar = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`

/** A line of a message with every control character (tabs and newlines too) escaped. */
export const printable = (s: string): string => s.replace(CONTROL, escapeChar).replace(/[\t\n\r]/g, escapeChar)

/** A value quoted as JSON (which escapes controls), cut to a readable length. */
export const quote = (s: string): string => {
  const q = JSON.stringify(s.length > QUOTE_CHARS_MAX ? `${s.slice(0, QUOTE_CHARS_MAX)}` : s).replace(CONTROL, escapeChar)
  return s.length > QUOTE_CHARS_MAX ? `${q.slice(0, -1)}..." (${s.length} characters)` : q
}

/**
 * An error message as printed: each line made printable and cut, at most ERROR_LINES_MAX lines,
 * then how many more there were.
 */
export const capMessage = (message: string): string => {
  const lines = message.split('\n')
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  const shown = lines.slice(0, ERROR_LINES_MAX).map((l) => {
    const p = printable(l)
    return p.length > ERROR_LINE_CHARS_MAX ? `${p.slice(0, ERROR_LINE_CHARS_MAX)}...` : p
  })
  if (lines.length > ERROR_LINES_MAX) shown.push(`... and ${lines.length - ERROR_LINES_MAX} more`)
  return shown.join('\n') + '\n'
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), case-insensitive. */
const distance = (a: string, b: string): number => {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= x.length; i++)
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  return d[x.length]![y.length]!
}

/** " (did you mean X?)" for the nearest candidate within a third of its length, or nothing. */
export const didYouMean = (value: string, candidates: readonly string[]): string => {
  let best: string | null = null
  let bestD = Infinity
  for (const c of candidates) {
    const dd = distance(value, c)
    if (dd < bestD && dd <= Math.max(1, Math.floor(c.length / 3))) {
      best = c
      bestD = dd
    }
  }
  return best === null ? '' : ` (did you mean ${best}?)`
}

/** Names joined with commas into lines of at most `width` characters, each indented two spaces (a list an error message shows whole). */
export const wrapList = (names: readonly string[], width = 100): string => {
  const lines: string[] = []
  let line = ''
  for (const n of names) {
    const next = line === '' ? n : `${line}, ${n}`
    if (next.length + 2 > width && line !== '') {
      lines.push(`  ${line},`)
      line = n
    } else line = next
  }
  if (line !== '') lines.push(`  ${line}`)
  return lines.join('\n')
}
