// `mmsim state <view> --at SEQ`: the state of a run at any point, folded from the store.
import * as t from 'io-ts'
import { foldRun } from '../../analysis/fold'
import { cpusSummary, frameRows, renderBuddyinfo, renderCpus, renderPageCache, renderPages, renderPagetypeinfo, stateDistribution, zoneSummary } from '../../projections'
import { getRun, latestRunId, openForRead } from '../../storage'
import { IntArg, OneOfArg, StringArg, UsageError, parseCommand } from '../args'
import { EXIT_OK, type Io } from '../io'

export const STATE_VIEWS = ['zone', 'pages', 'cpus'] as const
const FORMATS = ['buddyinfo', 'pagetypeinfo', 'all'] as const

const spec = {
  db: { type: 'string' },
  run: { type: 'string' },
  at: { type: 'string' },
  format: { type: 'string' },
  pfn: { type: 'string' },
  count: { type: 'string' },
  json: { type: 'boolean' },
} as const

/** Frames the pages view lists when no --count is given. */
const PAGES_ROWS_DEFAULT = 32

export const stateCommand = async (argv: readonly string[], io: Io): Promise<number> => {
  const { opts, positionals } = parseCommand(
    'state',
    argv,
    spec,
    { db: StringArg, run: IntArg(1), at: IntArg(1), format: OneOfArg(FORMATS), pfn: IntArg(), count: IntArg(1), json: t.boolean },
    1,
  )
  const view = positionals[0]
  if (view === undefined || !(STATE_VIEWS as readonly string[]).includes(view))
    throw new UsageError(`mmsim state: expected a view (${STATE_VIEWS.join(', ')}), got ${view === undefined ? 'none' : `"${view}"`}`)
  const file = (opts.db as string | undefined) ?? 'mmsim.db'
  const db = openForRead(file)
  try {
    const runId = (opts.run as number | undefined) ?? latestRunId(db, file)
    getRun(db, file, runId) // a run that does not exist is an error, not an empty answer
    const { state, lastSeq } = foldRun(db, file, runId, opts.at as number | undefined)
    if (view === 'pages') {
      const from = (opts.pfn as number | undefined) ?? 0
      const count = (opts.count as number | undefined) ?? PAGES_ROWS_DEFAULT
      if (opts.json) io.out(`${JSON.stringify({ run: runId, seq: lastSeq, states: stateDistribution(state), frames: frameRows(state, from, count) })}\n`)
      else io.out(renderPages(state, from, count) + (opts.pfn === undefined ? `\n${renderPageCache(state)}` : ''))
      return EXIT_OK
    }
    if (view === 'cpus') {
      io.out(opts.json ? `${JSON.stringify({ run: runId, seq: lastSeq, collections: state.cpus.collections, cpus: cpusSummary(state) })}\n` : renderCpus(state))
      return EXIT_OK
    }
    if (opts.json) {
      io.out(`${JSON.stringify({ run: runId, seq: lastSeq, zones: zoneSummary(state.zone) })}\n`)
      return EXIT_OK
    }
    const format = (opts.format as (typeof FORMATS)[number] | undefined) ?? 'all'
    let out = ''
    if (format === 'buddyinfo' || format === 'all') out += renderBuddyinfo(state.zone)
    if (format === 'all') out += '\n'
    if (format === 'pagetypeinfo' || format === 'all') out += renderPagetypeinfo(state.zone)
    io.out(out)
    return EXIT_OK
  } finally {
    db.close()
  }
}
