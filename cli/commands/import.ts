// `mmsim import ftrace FILE` and `mmsim import buddyinfo FILE`: outside text (formats/) as a
// workload that `mmsim run --workload` runs.
import * as path from 'node:path'
import { importFtrace } from '../../formats/ftrace'
import { InputError } from '../../formats/lines'
import { importZones } from '../../formats/procZone'
import { IntArg, StringArg, UsageError } from '../args'
import { JSON_OPT, opt, type CommandSpec, type Context } from '../command'
import { EXIT_OK } from '../io'
import { withOut } from '../outFile'

const OUT_OPT = opt('--out <file>', 'write the workload to this file (default: stdout, and what was imported to stderr)', StringArg)

/** The one FILE operand, or a usage error naming it. */
const theFile = (ctx: Context, what: string): string => {
  if (ctx.operands.length !== 1) throw new UsageError(`${ctx.name}: give one ${what} file (got ${ctx.operands.length})`)
  return ctx.operands[0]!
}

/** Reads outside text; an unreadable or malformed input is bad input (exit 2) naming the file and line. */
const reading = <A>(name: string, body: () => A): A => {
  try {
    return body()
  } catch (err) {
    if (err instanceof InputError) throw new UsageError(`${name}: ${err.message}`)
    throw err
  }
}

/** Writes the workload, then what the import did: to stdout with --out (text or --json), else to stderr. */
const emit = (ctx: Context, out: string | undefined, json: boolean | undefined, workload: unknown, report: object, text: string): number => {
  withOut(ctx.io, ctx.name, out, (write) => write(`${JSON.stringify(workload, null, 2)}\n`))
  if (out === undefined) ctx.io.err(text)
  else ctx.io.out(json ? `${JSON.stringify({ out, ...report })}\n` : `workload written to ${out}\n${text}`)
  return EXIT_OK
}

const ftraceOptions = { out: OUT_OPT, name: opt('--name <name>', 'the workload name (default: the file name)', StringArg), json: JSON_OPT }

export const importFtraceSpec: CommandSpec<typeof ftraceOptions> = {
  name: 'ftrace',
  summary: 'a recording of the kmem tracepoints as a workload that replays it',
  description:
    "Reads the text of `trace-cmd report`, /sys/kernel/tracing/trace or `perf script` with the kmem page tracepoints (mm_page_alloc, mm_page_free, mm_page_free_batched, and their older names mm_page_free_direct and mm_pagevec_free) and writes a workload that replays them: each allocation on the recorded CPU with the recorded order and migratetype, each free of a block allocated in the recording, on a guest whose zone covers the recorded frames. mm_page_alloc_extfrag lines are counted (the run compares its fallbacks with them); mm_page_pcpu_drain and mm_page_alloc_zone_locked are the allocator's own work and are counted, not replayed; lines that cannot be replayed are counted by reason. `mmsim run --workload` of the result says how the replay compares with the recording. Exits 2 for a file that is not a trace.",
  examples: ['mmsim import ftrace test/fixtures/ftrace/highatomic-2020.trace --out replay.json', 'mmsim import ftrace trace.txt --json --out replay.json'],
  operands: [{ name: 'FILE', help: 'the trace text' }],
  options: ftraceOptions,
  action: (opts, ctx) => {
    const file = theFile(ctx, 'trace')
    const r = reading(ctx.name, () => importFtrace(file, { name: opts.name ?? path.basename(file) }))
    const rec = r.recording
    const unusable = Object.entries(rec.unusable)
    const z = r.workload.machine.zones[0]!
    const text =
      `${file}: ${rec.lines} lines: ${rec.allocations} allocations and ${rec.frees} frees replayed, ${rec.extfrag} mm_page_alloc_extfrag\n` +
      `  not replayed: ${unusable.length === 0 ? 'none' : unusable.map(([k, v]) => `${v} ${k}`).join('; ')}\n` +
      `  guest: ${r.workload.machine.cpus} CPUs, zone ${z.name} of ${z.pages} pages from pfn 0x${(z.startPfn ?? 0).toString(16)}${rec.pfnsComparable === false ? ' (the recorded frames span more than 16 GiB: pfns are not compared)' : ''}\n`
    return emit(ctx, opts.out, opts.json, r.workload, { recording: rec, machine: r.workload.machine }, text)
  },
}

const buddyOptions = {
  pagetypeinfo: opt('--pagetypeinfo <file>', 'a /proc/pagetypeinfo of the same machine: free blocks per migratetype and pageblock counts', StringArg),
  cpus: opt('--cpus <n>', 'CPUs of the guest (default 2)', IntArg(1, 64)),
  out: OUT_OPT,
  name: opt('--name <name>', 'the workload name (default: the file name)', StringArg),
  json: JSON_OPT,
}

export const importBuddyinfoSpec: CommandSpec<typeof buddyOptions> = {
  name: 'buddyinfo',
  summary: "a machine's /proc/buddyinfo as the initial state of a workload",
  description:
    "Reads a /proc/buddyinfo (and with --pagetypeinfo its machine's /proc/pagetypeinfo) and writes a workload whose guest boots into those free lists: free blocks per order (per migratetype, and the pageblock counts by migratetype, from pagetypeinfo), the rest of each zone reserved as memory in use. `mmsim state zone` at the end of its boot prints the same numbers. Node 0 only; a zone without free pages is left out. The workload has no ops: add them to run something from that fragmentation.",
  examples: [
    'mmsim import buddyinfo test/fixtures/proc/man-proc_buddyinfo.5.buddyinfo --out booted.json',
    'mmsim import buddyinfo buddyinfo.txt --pagetypeinfo pagetypeinfo.txt --out booted.json --json',
  ],
  operands: [{ name: 'FILE', help: 'the /proc/buddyinfo text' }],
  options: buddyOptions,
  action: (opts, ctx) => {
    const file = theFile(ctx, '/proc/buddyinfo')
    const r = reading(ctx.name, () =>
      importZones({
        buddyinfo: file,
        ...(opts.pagetypeinfo === undefined ? {} : { pagetypeinfo: opts.pagetypeinfo }),
        cpus: opts.cpus ?? 2,
        name: opts.name ?? path.basename(file),
      }),
    )
    const text =
      r.zones.map((z) => `zone ${z.zone}: ${z.freePages} free pages of ${z.pages}${z.pageblocksKept ? ', the recorded pageblocks by migratetype' : ''}\n`).join('') +
      r.notes.map((n) => `note: ${n}\n`).join('')
    return emit(ctx, opts.out, opts.json, r.workload, { zones: r.zones, notes: r.notes }, text)
  },
}

export const importSpecs = [importFtraceSpec, importBuddyinfoSpec] as const

export const importHelp = {
  name: 'import',
  summary: 'outside text as a workload: an ftrace recording, a /proc/buddyinfo',
  description:
    'Turns what real machines record into workloads: `import ftrace` replays the kmem page tracepoints of a recording, `import buddyinfo` boots into the free lists of /proc/buddyinfo and /proc/pagetypeinfo.',
  examples: [
    'mmsim import ftrace test/fixtures/ftrace/highatomic-2020.trace --out replay.json',
    'mmsim import buddyinfo test/fixtures/proc/man-proc_buddyinfo.5.buddyinfo --out booted.json',
  ],
}
