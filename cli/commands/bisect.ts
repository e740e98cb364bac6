// `mmsim bisect`: the first seq at which an invariant fails in a stored run, with the event there,
// its causes, the events around it and the state before and after it.
import { bisectRun, type BisectFound, type BisectView } from '../../analysis/bisect'
import type { MachineBooted } from '../../events'
import { FlagArg, RunArg, StringArg, UsageError } from '../args'
import { DB_DEFAULT, DB_OPT, JSON_OPT, opt, type CommandSpec } from '../command'
import { eventLine, hex } from '../eventText'
import { EXIT_FINDING, EXIT_OK } from '../io'
import { machineOf, withRun } from '../openRun'

const options = {
  db: DB_OPT,
  run: opt('--run <id>', 'the run (default: the newest)', RunArg),
  invariant: opt('--invariant <name>', 'the invariant to bisect (default: the run’s first recorded finding)', StringArg),
  everyEvent: opt(
    '--every-event',
    'check a state invariant after every event from seq 1 up to its first failure (a failure that comes and goes between snapshot points is found; a fold, not a binary search)',
    FlagArg,
  ),
  json: JSON_OPT,
}

const viewText = (label: string, v: BisectView | null): string => {
  if (v === null) return `${label}: nothing (the run starts here)\n`
  let out = `${label} (after seq ${v.seq}):\n`
  for (const z of v.zones)
    out += `  zone ${z.zone}: managed ${z.managed}, free ${z.nrFreePages}, pcp ${z.pcpPages}, allocated ${z.allocatedPages}, nr_free by order [${z.nrFree.join(' ')}]\n`
  const f = v.frame
  if (f !== null)
    out += `  frame ${hex(f.pfn)}: ${f.kind}${f.block !== null ? ` (order ${f.block.order} at ${hex(f.block.head)} ${f.block.migratetype})` : ''}${f.pcpCpu !== null ? ` on cpu${f.pcpCpu}'s pcp list` : ''}; gen ${f.gen}; state ${f.state} ref ${f.refcount} map ${f.mapcount} use ${f.uses}${f.flags.length > 0 ? ` ${f.flags.join('|')}` : ''} (${f.owner})\n`
  return out
}

export const renderBisect = (r: BisectFound, machine: MachineBooted['data'] | null): string => {
  const line = eventLine(machine)
  const what = r.kind === 'state' ? `first fails after seq ${r.seq}` : `first fails on seq ${r.seq}`
  let out = `run ${r.run}: ${r.invariant} (${r.kind === 'state' ? 'state invariant' : 'event monitor'}) ${what}: ${r.message}\n`
  out += `found with ${r.cost.folds} restore${r.cost.folds === 1 ? '' : 's'} and fold${r.cost.folds === 1 ? '' : 's'} of ${r.cost.eventsFolded} events in all, over ${r.cost.windows} snapshot window${r.cost.windows === 1 ? '' : 's'}\n\n`
  out += `the event:\n${line(r.event)}`
  out += r.causes.length === 0 ? 'caused by: (no cause recorded)\n' : `caused by (nearest first):\n${r.causes.map(line).join('')}`
  out += `\naround it:\n${r.around.map((e) => (e.seq === r.seq ? `>${line(e).slice(1)}` : line(e))).join('')}\n`
  out += viewText('before', r.before)
  out += viewText('after', r.after)
  return out
}

export const bisectSpec: CommandSpec<typeof options> = {
  name: 'bisect',
  summary: 'the first seq at which an invariant fails, with its causes and the state around it',
  description:
    'Finds the first seq of a stored run at which an invariant fails: for a state invariant by a binary ' +
    'search over the run’s snapshots (each step restores one and checks it), then a fold of the window ' +
    'found that checks every event in it; for an event monitor by folding until it fires. Prints that event, the chain of ' +
    'events that caused it, the events around it, and the zones (and the frame the finding names) before ' +
    'and after it. Exits 1 when the invariant fails, 0 when it holds throughout.',
  examples: ['mmsim bisect', 'mmsim bisect --run 1 --invariant hinting.discard-fault-on-reused-frame --json', 'mmsim bisect --run 1 --invariant buddy.nr-free --every-event'],
  options,
  action: (opts, { io, name }) =>
    withRun(name, { file: opts.db ?? DB_DEFAULT, run: opts.run }, (r) => {
      const res = bisectRun(r.db, r.file, r.run.id, { invariant: opts.invariant, everyEvent: opts.everyEvent })
      if (res._tag === 'UnknownInvariant') throw new UsageError(`${name}: --invariant ${res.invariant}: no such invariant; known: ${res.known.join(', ')}`)
      if (opts.json) io.out(`${JSON.stringify(res)}\n`)
      else if (res._tag === 'Holds')
        io.out(
          res.invariant === null
            ? `run ${res.run} recorded no finding; name one with --invariant to search for it\n`
            : res.kind === 'event' || res.headSeq === 0 || opts.everyEvent === true
              ? `run ${res.run}: ${res.invariant} holds on every event 1..${res.headSeq}\n`
              : `run ${res.run}: ${res.invariant} holds at seq ${res.headSeq}, the run's last, and at the snapshots probed (${res.cost.folds} of ${res.cost.windows} points); --every-event checks every seq\n`,
        )
      else io.out(renderBisect(res, machineOf(r)))
      return res._tag === 'Found' ? EXIT_FINDING : EXIT_OK
    }),
}
