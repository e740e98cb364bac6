// `mmsim state <view> --at SEQ`: the state of a run at any point, folded from the store.
import * as t from 'io-ts'
import { foldRun } from '../../analysis/fold'
import { renderBuddyinfo, renderPagetypeinfo, zoneSummary } from '../../projections'
import { latestRunId, openForRead } from '../../storage'
import { IntArg, OneOfArg, StringArg, UsageError, parseCommand } from '../args'
import { EXIT_OK, type Io } from '../io'

export const STATE_VIEWS = ['zone'] as const
const FORMATS = ['buddyinfo', 'pagetypeinfo', 'all'] as const

const spec = {
  db: { type: 'string' },
  run: { type: 'string' },
  at: { type: 'string' },
  format: { type: 'string' },
  json: { type: 'boolean' },
} as const

export const stateCommand = async (argv: readonly string[], io: Io): Promise<number> => {
  const { opts, positionals } = parseCommand(
    'state',
    argv,
    spec,
    { db: StringArg, run: IntArg(1), at: IntArg(1), format: OneOfArg(FORMATS), json: t.boolean },
    1,
  )
  const view = positionals[0]
  if (view === undefined || !(STATE_VIEWS as readonly string[]).includes(view))
    throw new UsageError(`mmsim state: expected a view (${STATE_VIEWS.join(', ')}), got ${view === undefined ? 'none' : `"${view}"`}`)
  const file = (opts.db as string | undefined) ?? 'mmsim.db'
  const db = openForRead(file)
  try {
    const runId = (opts.run as number | undefined) ?? latestRunId(db, file)
    const { state, lastSeq } = foldRun(db, file, runId, opts.at as number | undefined)
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
