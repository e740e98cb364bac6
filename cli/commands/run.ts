// `mmsim run`: simulate a workload and store every event (hunt/runToStore.ts), and print what
// happened.
import * as t from 'io-ts'
import { resolveConfig, type EngineConfig } from '../../engine/config'
import { runToStore, type HintingSummary, type RunSummary } from '../../hunt/runToStore'
import { loadDefaultWorkload, loadWorkload } from '../../workload/load'
import { AssertionFailed } from '../../lib'
import { IntArg, LOG_LEVELS, OneOfArg, StringArg, parseCommand, type LogLevel } from '../args'
import { formatCount, formatNs, table } from '../format'
import { EXIT_FINDING, EXIT_INTERNAL, EXIT_OK, type Io } from '../io'
import { createLogger } from '../log'
import { Progress } from '../progress'

export { hintingSummary, runToStore, type HintingSummary, type RunOptions, type RunSummary } from '../../hunt/runToStore'

export const renderRunSummary = (r: RunSummary): string => {
  const evps = r.wallMs > 0 ? Math.round((r.events / r.wallMs) * 1000) : 0
  let out = `run ${r.runId} ${r.status} in ${r.db}: workload "${r.workload}", seed ${r.seed}\n`
  out += table(
    ['', ''],
    [
      ['outcome', r.outcome],
      ...(r.reason ? [['reason', r.reason]] : []),
      ['events', `${formatCount(r.events)} (seq 1..${r.events})`],
      ['simulated', `${formatNs(r.simulatedNs)} in ${formatCount(r.steps)} steps, ${formatCount(r.decisions)} schedule decisions`],
      ['wall time', `${(r.wallMs / 1000).toFixed(2)}s (${formatCount(evps)} events/s)`],
      ['integrity', r.headHash],
    ].map(([a, b]) => [`  ${a}`, b!]),
  ).split('\n').slice(1).join('\n')
  out += '\nevents by type\n'
  out += Object.entries(r.eventsByType).map(([k, v]) => `  ${k.padEnd(24)} ${formatCount(v).padStart(12)}`).join('\n') + '\n'
  out += '\nfree blocks per order (/proc/buddyinfo)\n' + r.buddyinfo
  out += '\nfree pages: ' + r.zones.map((z) => `${z.zone} ${formatCount(z.nrFreePages)} of ${formatCount(z.managed)} (min ${z.watermarks.min}, low ${z.watermarks.low}, high ${z.watermarks.high})`).join('; ') + '\n'
  if (r.hinting !== null) out += renderHintingSummary(r.hinting)
  out += `\ninvariants checked: ${r.invariants.checked.join(', ')}\n`
  if (r.invariants.violations === 0) out += 'invariants: all hold\n'
  else {
    out += `invariants: ${r.invariants.violations} violation(s)\n`
    for (const v of r.invariants.found) out += `  seq ${v.seq}: ${v.name}: ${v.message}\n`
  }
  return out
}

export const renderHintingSummary = (h: HintingSummary): string => {
  const d = h.states
  let out = `\nguest page hinting (${Object.entries(h.variants).map(([k, v]) => `${k} ${v}`).join(', ')})\n`
  out += `  page states      S ${formatCount(d.usage.S)}, U ${formatCount(d.usage.U)}, P ${formatCount(d.usage.P)}, V ${formatCount(d.usage.V)}; ${formatCount(d.resident)} of ${formatCount(d.frames)} resident\n`
  out += `  host             ${formatCount(h.hostDiscards)} discards, ${formatCount(h.hostPagedOut)} paged out\n`
  out += `  discard faults   ${h.discardFaultsPerCpu.map((n, c) => `cpu${c} ${formatCount(n)}`).join(', ')}\n`
  out += `  collections      ${formatCount(h.collections)}, pages collected from ${h.collectedPagesPerCpu.map((n, c) => `cpu${c} ${formatCount(n)}`).join(', ')}\n`
  out += '  transitions (from>to)\n'
  out += Object.entries(h.transitions).map(([k, v]) => `    ${k.padEnd(8)} ${formatCount(v).padStart(12)}`).join('\n') + '\n'
  return out
}

const spec = {
  workload: { type: 'string' },
  seed: { type: 'string' },
  db: { type: 'string' },
  json: { type: 'boolean' },
  'log-level': { type: 'string' },
  'steps-max': { type: 'string' },
  'check-every': { type: 'string' },
  'stop-on-violation': { type: 'boolean' },
  'no-progress': { type: 'boolean' },
} as const

export const runCommand = async (argv: readonly string[], io: Io): Promise<number> => {
  const { opts } = parseCommand('run', argv, spec, {
    workload: StringArg,
    seed: IntArg(),
    db: StringArg,
    'log-level': OneOfArg(LOG_LEVELS),
    'steps-max': IntArg(1),
    'check-every': IntArg(),
    json: t.boolean,
    'stop-on-violation': t.boolean,
    'no-progress': t.boolean,
  })
  const log = createLogger((opts['log-level'] as LogLevel | undefined) ?? 'warn').child({ module: 'run' })
  const file = opts.workload as string | undefined
  const workload = file === undefined ? loadDefaultWorkload() : loadWorkload(file)
  const overrides: EngineConfig = {}
  if (opts['steps-max'] !== undefined) overrides.stepsMax = opts['steps-max'] as number
  if (opts['check-every'] !== undefined) overrides.checkEveryEvents = opts['check-every'] as number
  if (opts['stop-on-violation']) overrides.stopOnViolation = true
  const progress = new Progress(io, 'simulating', io.errIsTTY && !opts['no-progress'])
  let signal: string | null = null
  const onSignal = (sig: NodeJS.Signals) => {
    signal = `interrupted by ${sig}`
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const summary = await runToStore({
      workload,
      workloadSource: file ?? 'workloads/default.json (embedded)',
      seed: (opts.seed as number | undefined) ?? 1,
      db: (opts.db as string | undefined) ?? 'mmsim.db',
      config: resolveConfig(overrides),
      log,
      onProgress: (done, total, events) => progress.update(done, total, `${formatCount(events)} events`),
      interrupted: () => signal,
    })
    progress.done()
    io.out(opts.json ? `${JSON.stringify(summary)}\n` : renderRunSummary(summary))
    if (summary.status === 'interrupted') return 130
    return summary.invariants.violations > 0 || summary.outcome.startsWith('Deadlock') ? EXIT_FINDING : EXIT_OK
  } catch (err) {
    progress.done()
    if (err instanceof AssertionFailed) {
      io.err(`mmsim run: internal error (the run is recorded as failed): ${err.message}\n`)
      return EXIT_INTERNAL
    }
    throw err
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
