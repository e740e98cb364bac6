// What the commands that compare runs share (replay, fork, diff): a stored row as an event line in
// the kernel's words (or as stored, when it no longer decodes: a tampered row), where a replay
// stopped following its parent's schedule, the findings of each run; and the action of replay
// and fork.
import { placeText } from '../engine/sim/decisions'
import type { DepartureReport, DeriveOptions, DeriveResult, Findings, ScheduleReport } from '../hunt/derive'
import type { MachineBooted } from '../events'
import { decodeRow, type StoredRow } from '../storage'
import { UsageError, variantsOf, type VariantSetting } from './args'
import { DB_DEFAULT, type Context } from './command'
import { eventLine } from './eventText'
import { formatCount } from './format'
import { EXIT_INTERRUPTED } from './io'
import { machineOf, withRun } from './openRun'
import { simulating } from './simulating'
import { printable } from './text'

/** One stored row as `events` prints it; a row that does not decode is shown as stored, and says so. */
export const rowLine = (file: string, runId: number, machine: MachineBooted['data'] | null, row: StoredRow | null): string => {
  if (row === null) return '(no event: the run ends before it)\n'
  try {
    return eventLine(machine)(decodeRow(file, runId, row)).trimStart()
  } catch {
    return `${row.seq} t=${row.t} cpu=${row.cpu ?? '-'} ${printable(row.type)} ${printable(row.data)} (does not decode)\n`
  }
}

/** What differs at the first divergent seq, in words; a differing time exactly, since event lines round it. */
export const divergenceWhat = (d: { what: 'row' | 'hash' | 'missing'; columns: readonly string[]; a?: StoredRow | null; b?: StoredRow | null }): string => {
  if (d.what === 'missing') return 'one run has no event there'
  if (d.what === 'hash') return 'the events are alike but their chain hashes differ (a frame list, or an earlier hash)'
  const t = d.columns.includes('t') && d.a && d.b ? ` (t ${d.a.t} ns and ${d.b.t} ns)` : ''
  return `the events differ in ${d.columns.join(', ')}${t}`
}

const departureWhy = (d: DepartureReport): string => {
  const asked = placeText(d.asked)
  if (d.reason === 'ended') return `the record ended; ${asked} asked for decision ${formatCount(d.decision)}`
  const recorded = d.recorded === null ? '' : placeText(d.recorded)
  if (d.reason === 'fork') return `the fork point: the record's next decision was ${recorded}`
  return `decision ${formatCount(d.decision)} was recorded for ${recorded} but ${asked} asked for it`
}

/** How a derived run followed its parent's schedule, in a line or two. */
export const scheduleText = (s: ScheduleReport, seed: number): string => {
  const followed = `${formatCount(s.followed)} of ${formatCount(s.recorded)} recorded decisions followed`
  const d = s.departure
  const where = s.layout === 'records' ? 'each where it was made' : 'a schedule of bare delays (hash version 2), followed without a fit check'
  if (d === null) return s.followed === s.recorded ? `${followed}, ${where}\n` : `${followed}; the rest were never asked for\n`
  return `${followed}; from decision ${formatCount(d.decision)} (after seq ${formatCount(d.seq)}) the seeded strategy (schedule seed ${seed}) decides: ${departureWhy(d)}\n`
}

/** Findings listed in text; the rest are counted (--json lists more, `mmsim events --type InvariantViolated` all). */
const FINDINGS_SHOWN = 5

export const findingsText = (f: Findings): string => {
  if (f.count === 0) return 'none\n'
  const shown = f.first.slice(0, FINDINGS_SHOWN)
  const first = shown.map((v) => `    seq ${v.seq}: ${v.name}: ${printable(v.message)}\n`).join('')
  return `${formatCount(f.count)}\n${first}${f.count > shown.length ? `    ... and ${formatCount(f.count - shown.length)} more\n` : ''}`
}

/** The first divergent rows of a parent and its derived run, one line each. */
export const divergentRows = (file: string, parentId: number, childId: number, d: { readonly parent: StoredRow | null; readonly child: StoredRow | null }): string => {
  const machine = withRun('mmsim', { file, run: parentId }, machineOf)
  return `  run ${parentId}: ${rowLine(file, parentId, machine, d.parent)}  run ${childId}: ${rowLine(file, childId, machine, d.child)}`
}

/** The findings of a parent and its derived run. */
export const bothFindings = (r: DeriveResult): string =>
  `findings of run ${r.parent.id}: ${findingsText(r.findings.parent)}findings of run ${r.run.runId}: ${findingsText(r.findings.child)}`

/** The flags replay and fork share, as their actions get them. */
export interface DeriveFlags {
  readonly db?: string
  readonly run?: number
  readonly seed?: number
  readonly variant?: VariantSetting[]
  readonly force?: boolean
  readonly json?: boolean
  readonly progress?: boolean
}

/**
 * The action of replay and fork: check --run, simulate the derived run with a progress bar and
 * signals handled, print the report as text or JSON, and exit with `code(report)` (130 when a
 * signal interrupted it).
 */
export const deriveAction = async <R extends DeriveResult>(
  ctx: Context,
  flags: DeriveFlags,
  derive: (o: DeriveOptions) => Promise<R>,
  render: (r: R, file: string) => string,
  code: (r: R) => number,
): Promise<number> => {
  if (flags.run === undefined) throw new UsageError(`${ctx.name}: --run is required: the run to start from (\`mmsim runs\` lists them)`)
  const db = flags.db ?? DB_DEFAULT
  const variants = variantsOf(ctx.name, flags.variant)
  const runId = flags.run
  return simulating(ctx, flags.progress !== false, async (hooks) => {
    const r = await derive({
      db,
      runId,
      force: flags.force === true,
      ...(flags.seed !== undefined ? { scheduleSeed: flags.seed } : {}),
      ...(variants !== undefined ? { variants } : {}),
      log: ctx.log,
      onProgress: hooks.onProgress,
      interrupted: hooks.interrupted,
    })
    hooks.simulated()
    ctx.io.out(flags.json === true ? `${JSON.stringify(r)}\n` : render(r, db))
    return r.run.status === 'interrupted' ? EXIT_INTERRUPTED : code(r)
  })
}
