// `mmsim page PFN`: one frame's whole history, each event that touched it with the frame's state
// after it. Text for people (frames in hex, as the kernel prints them), JSON lines for programs.
import { pageHistory, type PageHistoryEntry } from '../../analysis/pageHistory'
import { PfnArg, RunArg, SeqArg, UsageError } from '../args'
import { DB_DEFAULT, DB_OPT, JSON_OPT, opt, type CommandSpec } from '../command'
import { eventLine, hex } from '../eventText'
import { EXIT_OK } from '../io'
import { checkPfn, checkSeq, withRun } from '../openRun'

const options = {
  db: DB_OPT,
  run: opt('--run <id>', 'the run (default: the newest)', RunArg),
  pfn: opt('--pfn <pfn>', 'the frame (decimal or 0x hex); or give it as the argument', PfnArg),
  from: opt('--from <seq>', 'first seq of the history', SeqArg),
  to: opt('--to <seq>', 'last seq of the history', SeqArg),
  json: JSON_OPT,
}

/** The frame after an event, in one line: holder, block, pageblock, hinted state and counts. */
const stateText = (a: PageHistoryEntry['after']): string => {
  const holder = a.block !== null ? `${a.kind} order ${a.block.order} at ${hex(a.block.head)} ${a.block.migratetype}` : a.pcpCpu !== null ? `pcp cpu${a.pcpCpu}` : a.kind
  const hinted = a.state === '-' ? '' : ` ${a.state} ref ${a.refcount} map ${a.mapcount} use ${a.uses}${a.flags.length > 0 ? ` ${a.flags.join('|')}` : ''}`
  const anon = a.anon === null ? '' : ` anon_vma av${a.anon.anonVma} index ${hex(a.anon.index)} map ${a.anon.mapcount};`
  return `        -> ${holder}; pageblock ${a.pageblockMigratetype}; gen ${a.gen};${anon}${hinted} (${a.owner})\n`
}

export const pageSpec: CommandSpec<typeof options> = {
  name: 'page',
  summary: "one frame's history: each event that touched it and the frame after it",
  description:
    'Prints every event that touched one frame (its own events, events over the block it is part of, ' +
    'and events that list it among many frames) in seq order, each followed by the frame as the ' +
    'projections see it after the event: which allocator structure holds it (free block, pcp list, ' +
    "allocated block, discarded-page list), its pageblock's migratetype, and its hinted page state.",
  examples: ['mmsim page 0x100', 'mmsim page 0x100 --from 2000 --to 9000', 'mmsim page --pfn 256 --json | head -3'],
  options,
  argument: { key: 'pfn', name: 'pfn' },
  action: (opts, { io, log, name }) => {
    const pfn = opts.pfn
    if (pfn === undefined) throw new UsageError(`${name}: which frame? Give it as the argument (\`mmsim page 0x100\`) or as --pfn`)
    if (opts.from !== undefined && opts.to !== undefined && opts.from > opts.to) throw new UsageError(`${name}: --from ${opts.from} is after --to ${opts.to}: the range is empty`)
    return withRun(name, { file: opts.db ?? DB_DEFAULT, run: opts.run }, (r) => {
      if (opts.from !== undefined) checkSeq(name, '--from', r.run, opts.from)
      if (opts.to !== undefined) checkSeq(name, '--to', r.run, opts.to)
      const machine = checkPfn(name, r, pfn)
      const history = pageHistory(r.db, r.file, r.run.id, { pfn, fromSeq: opts.from, toSeq: opts.to }, log)
      if (opts.json) {
        io.out(history.map((h) => `${JSON.stringify({ run: r.run.id, pfn, touch: h.touch, event: h.event, after: h.after })}\n`).join(''))
        return EXIT_OK
      }
      const line = eventLine(machine)
      let out = `frame ${hex(pfn)} (${pfn}) in run ${r.run.id}: ${history.length} events\n`
      for (const h of history) out += line(h.event).replace(/\n$/, h.touch === 'own' ? '\n' : `  [${h.touch}]\n`) + stateText(h.after)
      io.out(out)
      return EXIT_OK
    })
  },
}
