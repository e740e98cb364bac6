// HTML and Markdown building blocks the sections share: escaping, tables, a heat-coloured matrix.

export const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** A Markdown table; cells are escaped for the pipe. */
export const mdTable = (head: readonly string[], rows: readonly (readonly (string | number)[])[]): string => {
  const cell = (c: string | number): string => String(c).replace(/\|/g, '\\|')
  // A column of numbers is right-aligned, any other left-aligned.
  const numeric = head.map((_, j) => rows.length > 0 && rows.every((r) => typeof r[j] === 'number'))
  return `| ${head.map(cell).join(' | ')} |\n|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|\n${rows.map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n')}\n`
}

/** An HTML table; numbers right-aligned. `shade` gives a cell's background (a heat map) or null. */
export const htmlTable = (head: readonly string[], rows: readonly (readonly (string | number)[])[], shade?: (row: number, col: number) => string | null): string => {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')
  const tr = rows
    .map(
      (r, i) =>
        `<tr>${r
          .map((c, j) => {
            const bg = shade?.(i, j) ?? null
            const style = bg === null ? '' : ` style="background:${bg}"`
            return typeof c === 'number' ? `<td class="num"${style}>${c}</td>` : `<td${style}>${escapeHtml(c)}</td>`
          })
          .join('')}</tr>`,
    )
    .join('')
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`
}

/** A white-to-blue shade for v of max (null for zero), readable in print. */
export const heat = (v: number, max: number): string | null => {
  if (v <= 0 || max <= 0) return null
  const a = 0.1 + 0.6 * (Math.log1p(v) / Math.log1p(max))
  return `rgba(55,126,184,${a.toFixed(2)})`
}

/** A count with thin-space-free thousands separators, as the CLI prints them. */
export const count = (n: number): string => n.toLocaleString('en-US')
