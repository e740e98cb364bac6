// `mmsim events`: the stored events of a run, filtered by seq range, type and frame. Text for
// people, JSON lines (--json) for programs; both stream, so a run of any length can be piped.
import * as t from 'io-ts'
import { EVENT_TYPES, isEventType } from '../../events'
import { getRun, latestRunId, openForRead, readEvents, type EventFilter } from '../../storage'
import { IntArg, StringArg, UsageError, parseCommand } from '../args'
import { formatData, formatNs } from '../format'
import { EXIT_OK, type Io } from '../io'

const spec = {
  db: { type: 'string' },
  run: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  type: { type: 'string', multiple: true },
  pfn: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
} as const

export const eventsCommand = async (argv: readonly string[], io: Io): Promise<number> => {
  const { opts } = parseCommand('events', argv, spec, {
    db: StringArg,
    run: IntArg(1),
    from: IntArg(1),
    to: IntArg(1),
    type: StringArg,
    pfn: IntArg(),
    limit: IntArg(1),
    json: t.boolean,
  })
  const types = ((opts.type as string[] | undefined) ?? []).flatMap((s) => s.split(',')).filter((s) => s.length > 0)
  for (const ty of types) if (!isEventType(ty)) throw new UsageError(`mmsim events: --type: expected one of ${EVENT_TYPES.join(', ')}, got "${ty}"`)
  const file = (opts.db as string | undefined) ?? 'mmsim.db'
  const db = openForRead(file)
  try {
    const runId = (opts.run as number | undefined) ?? latestRunId(db, file)
    getRun(db, file, runId) // a run that does not exist is an error, not an empty answer
    const filter: EventFilter = {
      ...(opts.from !== undefined ? { fromSeq: opts.from as number } : {}),
      ...(opts.to !== undefined ? { toSeq: opts.to as number } : {}),
      ...(types.length > 0 ? { types } : {}),
      ...(opts.pfn !== undefined ? { pfn: opts.pfn as number } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit as number } : {}),
    }
    let buf = ''
    for (const e of readEvents(db, file, runId, filter)) {
      if (opts.json) buf += `${JSON.stringify(e)}\n`
      else {
        const cause = e.cause !== undefined ? ` (cause ${e.cause})` : ''
        buf += `${String(e.seq).padStart(8)}  ${formatNs(e.t).padStart(11)}  ${(e.cpu !== null ? `cpu${e.cpu}` : e.type.startsWith('Host') ? 'host' : '-').padEnd(5)}  ${e.type.padEnd(22)}  ${formatData(e.data)}${cause}\n`
      }
      if (buf.length > 1 << 16) {
        io.out(buf)
        buf = ''
      }
    }
    io.out(buf)
    return EXIT_OK
  } finally {
    db.close()
  }
}
