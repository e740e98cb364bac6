// `mmsim events`: the stored events of a run, filtered by seq range, type and frame. Text for
// people, JSON lines (--json) for programs; both stream, so a run of any length can be piped.
import { EVENT_TYPES, isEventType } from '../../events'
import { readEvents, type EventFilter } from '../../storage'
import { IntArg, PfnArg, RunArg, SeqArg, StringArg, UsageError } from '../args'
import { DB_DEFAULT, DB_OPT, JSON_OPT, opt, optMany, type CommandSpec } from '../command'
import { eventLine } from '../eventText'
import { EXIT_OK } from '../io'
import { checkPfn, checkSeq, machineOf, withRun } from '../openRun'
import { didYouMean, quote, wrapList } from '../text'

/** Output is written in pieces of about this many characters. */
const CHUNK_CHARS = 1 << 16

const options = {
  db: DB_OPT,
  run: opt('--run <id>', 'the run (default: the newest)', RunArg),
  from: opt('--from <seq>', 'first seq to print', SeqArg),
  to: opt('--to <seq>', 'last seq to print', SeqArg),
  type: optMany('--type <types>', `event types, comma-separated; the flag may repeat (${EVENT_TYPES.length} types, e.g. PageAllocated,DiscardFault)`, StringArg),
  pfn: opt('--pfn <pfn>', 'only events that touch this frame (decimal or 0x hex)', PfnArg),
  limit: opt('--limit <n>', 'print at most this many events', IntArg(1)),
  json: JSON_OPT,
}

export const eventsSpec: CommandSpec<typeof options> = {
  name: 'events',
  summary: 'print the stored events of a run',
  description:
    'Prints the stored events of a run (the newest by default) in seq order, streaming. Text names ' +
    'zones and migratetypes as the kernel does and prints frames in hex; --json prints one event ' +
    'per line with the stored numbers. --pfn selects everything that happened to one frame: events ' +
    'whose span covers it, and events that list it.',
  examples: ['mmsim events --limit 20', 'mmsim events --type DiscardFault,DiscardFaultPinned', 'mmsim events --pfn 0x100 --json | head -3'],
  options,
  action: (opts, { io, name }) => {
    const types = (opts.type ?? []).flatMap((s) => s.split(',')).filter((s) => s.length > 0)
    for (const ty of types)
      if (!isEventType(ty)) throw new UsageError(`${name}: --type: unknown event type ${quote(ty)}${didYouMean(ty, EVENT_TYPES)}; the types are\n${wrapList(EVENT_TYPES)}`)
    if (opts.from !== undefined && opts.to !== undefined && opts.from > opts.to) throw new UsageError(`${name}: --from ${opts.from} is after --to ${opts.to}: the range is empty`)
    return withRun(name, { file: opts.db ?? DB_DEFAULT, run: opts.run }, (r) => {
      // A range that starts past the end would print nothing and look like "no such events".
      if (opts.from !== undefined) checkSeq(name, '--from', r.run, opts.from)
      const machine = opts.pfn !== undefined ? checkPfn(name, r, opts.pfn) : opts.json ? null : machineOf(r)
      const filter: EventFilter = {
        ...(opts.from !== undefined ? { fromSeq: opts.from } : {}),
        ...(opts.to !== undefined ? { toSeq: opts.to } : {}),
        ...(types.length > 0 ? { types } : {}),
        ...(opts.pfn !== undefined ? { pfn: opts.pfn } : {}),
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      }
      const line = opts.json ? (e: unknown) => `${JSON.stringify(e)}\n` : eventLine(machine)
      let buf = ''
      for (const e of readEvents(r.db, r.file, r.run.id, filter)) {
        buf += line(e)
        if (buf.length > CHUNK_CHARS) {
          io.out(buf)
          buf = ''
        }
      }
      io.out(buf)
      return EXIT_OK
    })
  },
}
