// Small text formatting helpers shared by the commands.
import type { ResolvedConfig } from '../engine/config'

export const formatNs = (ns: number): string => {
  if (ns < 1_000) return `${ns}ns`
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(3)}us`
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(3)}ms`
  return `${(ns / 1_000_000_000).toFixed(3)}s`
}

export const formatCount = (n: number): string => n.toLocaleString('en-US')

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export const table = (header: readonly string[], rows: readonly (readonly string[])[]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

/** `strategy random`, or `strategy pct (depth 3, 6,480 steps, stall 100000ns)`: a run's schedule strategy in a line. */
export const strategyText = (c: ResolvedConfig): string =>
  c.strategy === 'pct' && c.pct !== undefined
    ? `strategy pct (depth ${c.pct.depth}, ${formatCount(c.pct.steps)} steps, stall ${formatNs(c.pct.stallNs)})`
    : c.strategy === 'fixed' && c.fixed !== undefined
      ? `strategy fixed (${formatCount(c.fixed.preemptions.length)} preemptions)`
      : `strategy ${c.strategy}`
