// ftrace text of the kmem page tracepoints (include/trace/events/kmem.h), as `trace-cmd report`,
// /sys/kernel/tracing/trace and `perf script` print it, turned into a workload that replays the
// recorded allocations and frees: each mm_page_alloc an alloc op on the recorded CPU with the
// recorded order and migratetype, each free of a block allocated in the recording a free op of
// it. Lines that cannot be replayed are counted by reason, never fatal; a file with no trace line
// at all is not a trace (InputError).
import { MAX_ORDER } from '../events/codecs'
import { REQUEST_MIGRATETYPES, type Op, type Recording, type Workload } from '../workload/codec'
import { InputError, headBytes, readLines } from './lines'

/** `task-pid [cpu] flags timestamp: event: fields`; the flags column (irqs-off, need-resched, ...) is absent from old kernels. */
const TRACE_LINE = /^\s*(.+?)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(\d+)\]\s+(?:[\w.]{4,6}\s+)?(\d+\.\d+):\s+(?:\w+:)?(\w+):\s*(.*)$/
/** The function_graph tracer prints events as comments: ` 1287587.105144 |   1)   |  /* mm_page_alloc: ... *\/`. */
const GRAPH_LINE = /^\s*(?:(\d+\.\d+)\s*\|\s*)?(\d+)\)[^/]*\/\*\s*(\w+):\s*(.*?)\s*\*\/\s*$/

export const CPUS_MAX = 64
/** A zone covering the recorded frames is at most this big (16 GiB); wider recordings are replayed in a zone of their own size. */
export const PFN_SPAN_MAX = 1 << 22
const MAX_BLOCK = 1 << (MAX_ORDER - 1)

export interface TraceEvent {
  readonly line: number
  readonly cpu: number
  readonly event: string
  readonly fields: Readonly<Record<string, string>>
}

export const parseTraceLine = (n: number, text: string): TraceEvent | null => {
  const m = TRACE_LINE.exec(text)
  // `page= (null)` (a failed allocation) has a space inside its value.
  const fieldsOf = (s: string): Record<string, string> => Object.fromEntries([...s.replace(/=\s+\(null\)/g, '=(null)').matchAll(/(\w+)=(\S*)/g)].map((x) => [x[1]!, x[2]!]))
  if (m !== null) return { line: n, cpu: Number(m[3]), event: m[5]!, fields: fieldsOf(m[6]!) }
  const g = GRAPH_LINE.exec(text)
  if (g !== null) return { line: n, cpu: Number(g[2]), event: g[3]!, fields: fieldsOf(g[4]!) }
  return null
}

const FREES = new Set(['mm_page_free', 'mm_page_free_batched', 'mm_page_free_direct', 'mm_pagevec_free', 'mm_free_pages'])
/** kmem page events that describe the allocator's own work, counted but not replayed (the simulator does that work itself). */
const INTERNAL: Record<string, string> = {
  mm_page_pcpu_drain: 'mm_page_pcpu_drain (the allocator draining a pcp list)',
  mm_page_alloc_zone_locked: 'mm_page_alloc_zone_locked (the allocator refilling a pcp list)',
}

/** The tag of the replayed allocation of recorded line `line`: the recorded pfn, order and migratetype ride in it. */
export const recordedTag = (line: number, pfn: number, order: number, mt: number): string => `L${line}@0x${pfn.toString(16)}/o${order}/m${mt}`
export const RECORDED_TAG = /^L(\d+)@0x([0-9a-f]+)\/o(\d+)\/m(\d+)$/

const num = (v: string | undefined): number | null => {
  if (v === undefined || v === '') return null
  const x = Number(v)
  return Number.isSafeInteger(x) && x >= 0 ? x : null
}

export interface ImportedTrace {
  readonly workload: Workload
  readonly recording: Recording
  readonly span: { readonly lo: number; readonly hi: number } | null
}

/** Reads `file` and writes the workload that replays it (see the file comment). */
export const importFtrace = (file: string, o: { name: string }): ImportedTrace => {
  const head = headBytes(file, 64)
  if (head.subarray(0, 10).toString('latin1') === '\x17\x08Dtracing')
    throw new InputError(`${file}: a trace-cmd binary trace (trace.dat): give the text of \`trace-cmd report ${file}\``)
  if (head.includes(0)) throw new InputError(`${file}: a binary file, not ftrace text`)
  const unusable: Record<string, number> = {}
  const skip = (reason: string): void => void (unusable[reason] = (unusable[reason] ?? 0) + 1)
  const ops: Op[] = []
  /** The live allocation at each recorded pfn: its tag and order. */
  const live = new Map<number, { tag: string; order: number }>()
  let lines = 0
  let traceLines = 0
  let allocations = 0
  let frees = 0
  let extfrag = 0
  let lo = Number.MAX_SAFE_INTEGER
  let hi = 0
  let livePages = 0
  let peakPages = 0
  let cpus = 1
  for (const { n, text } of readLines(file)) {
    lines++
    if (text.trim() === '' || /^\s*#/.test(text) || /^\s*(cpus=\d+|version = \d+|CPU \d+ is empty|K-PID\s+CPU#)/.test(text)) continue
    const e = parseTraceLine(n, text)
    if (e === null) {
      skip('not a trace line')
      continue
    }
    traceLines++
    const cpu = e.cpu % CPUS_MAX
    if (e.event === 'mm_page_alloc_extfrag') {
      extfrag++
      continue
    }
    const internal = INTERNAL[e.event]
    if (internal !== undefined) {
      skip(internal)
      continue
    }
    const isFree = FREES.has(e.event)
    if (e.event !== 'mm_page_alloc' && !isFree) {
      skip(`${e.event} (not a page allocation or free)`)
      continue
    }
    const pfn = num(e.fields.pfn)
    const order = num(e.fields.order) ?? 0
    if (e.fields.page === '(null)' || pfn === null) {
      skip(e.event === 'mm_page_alloc' ? 'a failed allocation (page=(null))' : 'no pfn')
      continue
    }
    if (order >= MAX_ORDER) {
      skip(`order ${order} above MAX_ORDER - 1`)
      continue
    }
    if (isFree) {
      const a = live.get(pfn)
      if (a === undefined) {
        skip('a free of a block not allocated in the recording (allocated before it, or freed twice)')
        continue
      }
      live.delete(pfn)
      livePages -= 1 << a.order
      ops.push({ op: 'free', cpu, tag: a.tag })
      frees++
      continue
    }
    const mt = num(e.fields.migratetype)
    if (mt === null || mt >= REQUEST_MIGRATETYPES.length) {
      skip(`migratetype ${e.fields.migratetype ?? '(none)'} (a request is unmovable 0, movable 1 or reclaimable 2)`)
      continue
    }
    if (live.has(pfn)) skip('an allocation of a block already allocated (its free was not recorded): the earlier one stays allocated')
    const tag = recordedTag(n, pfn, order, mt)
    live.set(pfn, { tag, order })
    livePages += 1 << order
    peakPages = Math.max(peakPages, livePages)
    lo = Math.min(lo, pfn)
    hi = Math.max(hi, pfn + (1 << order))
    cpus = Math.max(cpus, cpu + 1)
    ops.push({ op: 'alloc', cpu, order, mt: REQUEST_MIGRATETYPES[mt]!, tag })
    allocations++
  }
  if (traceLines === 0)
    throw new InputError(
      `${file}: not an ftrace text trace: no line of the form "task-pid [cpu] timestamp: event: fields" (trace-cmd report, /sys/kernel/tracing/trace, perf script)`,
    )
  if (allocations === 0) throw new InputError(`${file}: no mm_page_alloc line with a pfn: nothing to replay (enable events/kmem/mm_page_alloc and mm_page_free)`)
  // The guest: one zone over the recorded frames, so that an allocation may land where it did,
  // unless they spread over more than PFN_SPAN_MAX; and room for twice the most held at once.
  const start = Math.floor(lo / MAX_BLOCK) * MAX_BLOCK
  const end = Math.ceil(hi / MAX_BLOCK) * MAX_BLOCK
  const room = Math.ceil((2 * peakPages + MAX_BLOCK) / MAX_BLOCK) * MAX_BLOCK
  const comparable = end - start <= PFN_SPAN_MAX
  const zoneStart = comparable ? start : 0
  const pages = Math.max(comparable ? end - start : 0, room, 4 * MAX_BLOCK)
  const recording: Recording = { format: 'ftrace', source: file, lines, allocations, frees, extfrag, unusable, pfnsComparable: comparable }
  const workload: Workload = {
    version: 1,
    name: o.name,
    description: `Replays the page allocations and frees of ${file} (mmsim import ftrace): ${allocations} allocations, ${frees} frees.`,
    machine: { cpus, zones: [{ name: zoneStart + pages <= 0x100000 ? 'DMA32' : 'Normal', pages, startPfn: zoneStart }] },
    ops,
    recording,
  }
  return { workload, recording, span: lo <= hi ? { lo, hi } : null }
}
