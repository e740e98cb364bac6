// `mmsim state zone|pages|cpus|anon-vma --at SEQ`: the state of a run at any point, folded from the store.
// Each view is a subcommand with its own options and --help.
import { foldRun, type Folded } from '../../analysis/fold'
import {
  anonVmaView,
  cpusSummary,
  frameRows,
  renderAnonVma,
  renderBuddyinfo,
  renderCpus,
  renderPageCache,
  renderPages,
  renderPagetypeinfo,
  stateDistribution,
  zoneSummary,
} from '../../projections'
import { IntArg, OneOfArg, PfnArg, RunArg, SeqArg } from '../args'
import { DB_DEFAULT, DB_OPT, JSON_OPT, opt, type CommandSpec } from '../command'
import { hex } from '../eventText'
import { EXIT_OK } from '../io'
import { checkPfn, withRun, type OpenRun } from '../openRun'

export const STATE_VIEWS = ['zone', 'pages', 'cpus', 'anon-vma'] as const
const FORMATS = ['buddyinfo', 'pagetypeinfo', 'all'] as const

/** Frames the pages view lists when no --count is given. */
const PAGES_ROWS_DEFAULT = 32

const common = {
  db: DB_OPT,
  run: opt('--run <id>', 'the run (default: the newest)', RunArg),
  at: opt('--at <seq>', 'fold the run up to this seq (default: its last)', SeqArg),
  json: JSON_OPT,
}

interface Common {
  readonly db?: string | undefined
  readonly run?: number | undefined
  readonly at?: number | undefined
}

/** Opens the run, checks what the view asks, folds to --at and hands the state to `show`. */
const atSeq = <A>(name: string, opts: Common, show: (f: Folded, r: OpenRun) => A, check?: (r: OpenRun) => void): A =>
  withRun(name, { file: opts.db ?? DB_DEFAULT, run: opts.run, at: opts.at }, (r) => {
    check?.(r)
    return show(foldRun(r.db, r.file, r.run.id, opts.at), r)
  })

const zoneOptions = { ...common, format: opt('--format <format>', `what to print in text: ${FORMATS.join(', ')} (default: all)`, OneOfArg(FORMATS)) }

const zoneSpec: CommandSpec<typeof zoneOptions> = {
  name: 'zone',
  summary: '/proc/buddyinfo and /proc/pagetypeinfo at a seq',
  description: "Folds a run up to --at and prints its zones as the kernel's /proc/buddyinfo and /proc/pagetypeinfo.",
  examples: ['mmsim state zone --at 5 --format buddyinfo', 'mmsim state zone --json'],
  options: zoneOptions,
  action: (opts, { io, name }) =>
    atSeq(name, opts, ({ state, lastSeq }, r) => {
      if (opts.json) io.out(`${JSON.stringify({ run: r.run.id, seq: lastSeq, zones: zoneSummary(state.zone) })}\n`)
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
    'Folds a run up to --at and prints the page state distribution (S, U, P, V and how many frames ' +
    'are resident), a per-frame table (state, owner, references, mappings, users, generation, ' +
    'flags) from --pfn, and the page cache.',
  examples: ['mmsim state pages --pfn 0 --count 16', 'mmsim state pages --at 2000 --json'],
  options: pagesOptions,
  action: (opts, { io, name }) => {
    const from = opts.pfn ?? 0
    const count = opts.count ?? PAGES_ROWS_DEFAULT
    return atSeq(
      name,
      opts,
      ({ state, lastSeq }, r) => {
        if (opts.json) {
          io.out(`${JSON.stringify({ run: r.run.id, seq: lastSeq, states: stateDistribution(state), frames: frameRows(state, from, count) })}\n`)
          return EXIT_OK
        }
        let out = renderPages(state, from, count)
        // The table stops at the machine's last frame; say so rather than show fewer rows silently.
        const shown = Math.max(0, Math.min(state.zone.pfnEnd, from + count) - from)
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
  description: "Folds a run up to --at and prints each CPU's discarded-page list, its discard fault in progress, and the collection totals.",
  examples: ['mmsim state cpus', 'mmsim state cpus --at 1000 --json'],
  options: common,
  action: (opts, { io, name }) =>
    atSeq(name, opts, ({ state, lastSeq }, r) => {
      io.out(opts.json ? `${JSON.stringify({ run: r.run.id, seq: lastSeq, collections: state.cpus.collections, cpus: cpusSummary(state) })}\n` : renderCpus(state))
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
    'Folds a run up to --at and prints its anonymous reverse mapping: every anon_vma tree from its root ' +
    '(refcount, num_children, num_active_vmas, the mapped pages naming it, the VMAs of its interval tree), ' +
    "each process's anonymous VMAs with vma->anon_vma and the anon_vma_chain, and with --pfn one page's " +
    'rmap and the VMAs an rmap walk of it visits.',
  examples: ['mmsim state anon-vma', 'mmsim state anon-vma --mm 2 --at 200', 'mmsim state anon-vma --pfn 0x400 --json'],
  options: anonVmaOptions,
  action: (opts, { io, name }) =>
    atSeq(
      name,
      opts,
      ({ state, lastSeq }, r) => {
        const view = anonVmaView(state, { mm: opts.mm, pfn: opts.pfn })
        io.out(opts.json ? `${JSON.stringify({ run: r.run.id, seq: lastSeq, ...view })}\n` : renderAnonVma(view))
        return EXIT_OK
      },
      (r) => void (opts.pfn !== undefined && checkPfn(name, r, opts.pfn)),
    ),
}

export const stateViews = [zoneSpec, pagesSpec, cpusSpec, anonVmaSpec] as const

export const stateHelp = {
  name: 'state',
  summary: 'fold a run to a seq and print a projection (zone, pages, cpus, anon-vma)',
  description: 'Folds a run from its first event to --at (default: its last) and prints one view of the state.',
  examples: ['mmsim state zone --at 5 --format buddyinfo', 'mmsim state pages --pfn 0 --count 16', 'mmsim state cpus --json', 'mmsim state anon-vma --mm 1'],
}
