// `mmsim state zone|pages|cpus|anon-vma|isolation --at SEQ | --at-time NS`: the state of a run at any point, restored
// from its nearest snapshot and folded on from there (analysis/stateAt.ts). Each view is a
// subcommand with its own options and --help.
import type { Logger } from 'pino'
import { seqAtTime, stateAt, type StateAt } from '../../analysis/stateAt'
import {
  anonVmaView,
  boundaryView,
  cpusSummary,
  frameRows,
  isolationView,
  renderAnonVma,
  renderIsolation,
  renderBoundary,
  renderBuddyinfo,
  renderCpus,
  renderPageCache,
  renderPages,
  renderPagetypeinfo,
  stateDistribution,
  zoneSummary,
} from '../../projections'
import { IntArg, OneOfArg, PfnArg, RunArg, SeqArg, UsageError } from '../args'
import { DB_DEFAULT, DB_OPT, JSON_OPT, opt, type CommandSpec } from '../command'
import { hex } from '../eventText'
import { EXIT_OK } from '../io'
import { checkPfn, withRun, type OpenRun } from '../openRun'

export const STATE_VIEWS = ['zone', 'pages', 'cpus', 'anon-vma', 'isolation', 'boundary'] as const
const FORMATS = ['buddyinfo', 'pagetypeinfo', 'all'] as const

/** Frames the pages view lists when no --count is given. */
const PAGES_ROWS_DEFAULT = 32

const common = {
  db: DB_OPT,
  run: opt('--run <id>', 'the run (default: the newest)', RunArg),
  at: opt('--at <seq>', 'the state after this seq (default: the run’s last)', SeqArg),
  atTime: opt(
    '--at-time <ns>',
    'the state after the last event at or before this simulated time, in ns',
    IntArg(0, Number.MAX_SAFE_INTEGER, 'a simulated time: a whole number of nanoseconds'),
  ),
  json: JSON_OPT,
}

interface Common {
  readonly db?: string | undefined
  readonly run?: number | undefined
  readonly at?: number | undefined
  readonly atTime?: number | undefined
}

/** The seq the options ask for: --at, the last event at or before --at-time, or the run's last. */
const askedSeq = (name: string, opts: Common, r: OpenRun): number => {
  if (opts.at !== undefined && opts.atTime !== undefined) throw new UsageError(`${name}: give --at or --at-time, not both`)
  if (opts.atTime === undefined) return opts.at ?? r.run.head_seq
  const found = seqAtTime(r.db, r.run.id, r.run.head_seq, opts.atTime)
  if (found._tag === 'AfterLast')
    throw new UsageError(`${name}: --at-time ${opts.atTime} is past the end of run ${r.run.id}, whose last event (seq ${found.lastSeq}) is at ${found.lastNs} ns`)
  if (found._tag === 'BeforeFirst') throw new UsageError(`${name}: --at-time ${opts.atTime} is before the first event of run ${r.run.id}, at ${found.firstNs} ns`)
  return found.seq
}

/** Opens the run, checks what the view asks, restores the state at the asked seq and hands it to `show`. */
const atSeq = <A>(name: string, opts: Common, log: Logger, show: (f: StateAt, r: OpenRun) => A, check?: (r: OpenRun) => void): A =>
  withRun(name, { file: opts.db ?? DB_DEFAULT, run: opts.run, at: opts.at }, (r) => {
    if (r.run.head_seq === 0) throw new UsageError(`${name}: run ${r.run.id} has no events, so no state to show`)
    const seq = askedSeq(name, opts, r)
    check?.(r)
    const found = stateAt(r.db, r.file, r.run.id, seq, log)
    log.info(
      { runId: r.run.id, seq, from: found.from },
      found.from === null
        ? `folded events 1..${seq}`
        : `restored the ${found.from.kind} snapshot at seq ${found.from.snapshotSeq}, folded events ${found.from.snapshotSeq + 1}..${seq}`,
    )
    return show(found, r)
  })

const zoneOptions = { ...common, format: opt('--format <format>', `what to print in text: ${FORMATS.join(', ')} (default: all)`, OneOfArg(FORMATS)) }

const zoneSpec: CommandSpec<typeof zoneOptions> = {
  name: 'zone',
  summary: '/proc/buddyinfo and /proc/pagetypeinfo at a seq',
  description: "Prints a run's zones after --at (or --at-time) as the kernel's /proc/buddyinfo and /proc/pagetypeinfo.",
  examples: ['mmsim state zone --at 5 --format buddyinfo', 'mmsim state zone --json'],
  options: zoneOptions,
  action: (opts, { io, name, log }) =>
    atSeq(name, opts, log, ({ state, seq, from }, r) => {
      if (opts.json) io.out(`${JSON.stringify({ run: r.run.id, seq, from, zones: zoneSummary(state.zone) })}\n`)
      else {
        const format = opts.format ?? 'all'
        let out = ''
        if (format === 'buddyinfo' || format === 'all') out += renderBuddyinfo(state.zone)
        if (format === 'all') out += '\n'
        if (format === 'pagetypeinfo' || format === 'all') out += renderPagetypeinfo(state.zone)
        io.out(out)
      }
      return EXIT_OK
    }),
}

const pagesOptions = {
  ...common,
  pfn: opt('--pfn <pfn>', 'first frame of the table (decimal or 0x hex; default 0)', PfnArg),
  count: opt('--count <n>', `frames in the table (default ${PAGES_ROWS_DEFAULT})`, IntArg(1)),
}

const pagesSpec: CommandSpec<typeof pagesOptions> = {
  name: 'pages',
  summary: 'page states, a per-frame table and the page cache at a seq',
  description:
    'Prints, after --at (or --at-time), the page state distribution (S, U, P, V and how many frames ' +
    'are resident), a per-frame table (state, owner, references, mappings, users, generation, ' +
    'flags) from --pfn, and the page cache.',
  examples: ['mmsim state pages --pfn 0 --count 16', 'mmsim state pages --at 2000 --json'],
  options: pagesOptions,
  action: (opts, { io, name, log }) => {
    const first = opts.pfn ?? 0
    const count = opts.count ?? PAGES_ROWS_DEFAULT
    return atSeq(
      name,
      opts,
      log,
      ({ state, seq, from }, r) => {
        if (opts.json) {
          io.out(`${JSON.stringify({ run: r.run.id, seq, from, states: stateDistribution(state), frames: frameRows(state, first, count) })}\n`)
          return EXIT_OK
        }
        let out = renderPages(state, first, count)
        // The table stops at the machine's last frame; say so rather than show fewer rows silently.
        const shown = Math.max(0, Math.min(state.zone.pfnEnd, first + count) - first)
        if (shown < count) out += `(${shown} of ${count} frames shown: the machine's frames end at ${hex(state.zone.pfnEnd - 1)})\n`
        io.out(out + (opts.pfn === undefined ? `\n${renderPageCache(state)}` : ''))
        return EXIT_OK
      },
      (r) => void (opts.pfn !== undefined && checkPfn(name, r, opts.pfn)),
    )
  },
}

const cpusSpec: CommandSpec<typeof common> = {
  name: 'cpus',
  summary: "each CPU's discarded-page list and discard fault at a seq",
  description: "Prints, after --at (or --at-time), each CPU's discarded-page list, its discard fault in progress, and the collection totals.",
  examples: ['mmsim state cpus', 'mmsim state cpus --at 1000 --json'],
  options: common,
  action: (opts, { io, name, log }) =>
    atSeq(name, opts, log, ({ state, seq, from }, r) => {
      io.out(opts.json ? `${JSON.stringify({ run: r.run.id, seq, from, collections: state.cpus.collections, cpus: cpusSummary(state) })}\n` : renderCpus(state))
      return EXIT_OK
    }),
}

const anonVmaOptions = {
  ...common,
  mm: opt('--mm <mm>', "only this process's VMAs and the anon_vma trees they are chained to", IntArg()),
  pfn: opt('--pfn <pfn>', "this page's rmap: page->mapping, index, mapcount and the VMAs a walk visits (decimal or 0x hex)", PfnArg),
}

const anonVmaSpec: CommandSpec<typeof anonVmaOptions> = {
  name: 'anon-vma',
  summary: 'anon_vma trees, VMAs and their anon_vma_chains, a page’s rmap at a seq',
  description:
    "Prints a run's anonymous reverse mapping after --at (or --at-time): every anon_vma tree from its root " +
    '(refcount, num_children, num_active_vmas, the mapped pages naming it, the VMAs of its interval tree), ' +
    "each process's anonymous VMAs with vma->anon_vma and the anon_vma_chain, and with --pfn one page's " +
    'rmap and the VMAs an rmap walk of it visits.',
  examples: ['mmsim state anon-vma', 'mmsim state anon-vma --mm 2 --at 200', 'mmsim state anon-vma --pfn 0x400 --json'],
  options: anonVmaOptions,
  action: (opts, { io, name, log }) =>
    atSeq(
      name,
      opts,
      log,
      ({ state, seq, from }, r) => {
        const view = anonVmaView(state, { mm: opts.mm, pfn: opts.pfn })
        io.out(opts.json ? `${JSON.stringify({ run: r.run.id, seq, from, ...view })}\n` : renderAnonVma(view))
        return EXIT_OK
      },
      (r) => void (opts.pfn !== undefined && checkPfn(name, r, opts.pfn)),
    ),
}

const isolationSpec: CommandSpec<typeof common> = {
  name: 'isolation',
  summary: 'page isolation ranges (hot-remove, alloc_contig_range) at a seq',
  description:
    "Prints a run's page isolation after --at (or --at-time): each range (its design, who isolated it, " +
    'its state or outcome and errno, the pageblocks it isolated, pages captured, migrated and offlined, the pages ' +
    'still in use inside it and who holds them), the refused requests, the work each design did, and any ' +
    'NR_FREE_PAGES miscount or free pages stranded on the wrong list.',
  examples: ['mmsim state isolation', 'mmsim state isolation --at 300 --json'],
  options: common,
  action: (opts, { io, name, log }) =>
    atSeq(name, opts, log, ({ state, seq, from }, r) => {
      const view = isolationView(state)
      io.out(opts.json ? `${JSON.stringify({ run: r.run.id, seq, from, ...view })}\n` : renderIsolation(view))
      return EXIT_OK
    }),
}

const boundarySpec: CommandSpec<typeof common> = {
  name: 'boundary',
  summary: 'free page aeration / reporting at a seq: boundaries, raw and aerated (or reported) blocks, the batch, the host',
  description:
    "Prints a run's free page reporting after --at (or --at-time): per zone, order (the reporting order and above) and " +
    'migratetype, the blocks on the list, how many are raw and aerated (or reported), and where the boundary stands ' +
    '(aeration); ZONE_AERATION_REQUESTED / ACTIVE and the device; the batch in flight; the reported share of ' +
    'reportable free memory; what the host released and how often the guest refaulted it. Exits 2 for a run without reporting.',
  examples: ['mmsim state boundary', 'mmsim state boundary --at 4000 --json', 'mmsim state boundary --at-time 200000000'],
  options: common,
  action: (opts, { io, name, log }) =>
    atSeq(name, opts, log, ({ state, seq, from }, r) => {
      const view = boundaryView(state)
      if (view === null) throw new UsageError(`${name}: run ${r.run.id} reports no free memory (its workload has no variants.reporting)`)
      io.out(opts.json ? `${JSON.stringify({ run: r.run.id, seq, from, ...view })}\n` : renderBoundary(view))
      return EXIT_OK
    }),
}

export const stateViews = [zoneSpec, pagesSpec, cpusSpec, anonVmaSpec, isolationSpec, boundarySpec] as const

export const stateHelp = {
  name: 'state',
  summary: 'the state of a run at a seq or a simulated time (zone, pages, cpus, anon-vma, isolation, boundary)',
  description:
    "Prints one view of a run's state after --at SEQ or --at-time NS (default: its last event): " +
    'restored from the nearest snapshot at or before it, then folded on from there. --json says which snapshot it came from.',
  examples: [
    'mmsim state zone --at 5 --format buddyinfo',
    'mmsim state pages --pfn 0 --count 16',
    'mmsim state cpus --json',
    'mmsim state zone --at-time 1000000',
    'mmsim state anon-vma --mm 1',
    'mmsim state isolation --at 300',
    'mmsim state boundary --at 4000',
  ],
}
