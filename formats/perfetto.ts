// A run as a Chrome Trace Event Format file (JSON), which ui.perfetto.dev and chrome://tracing
// open: the guest is process 1 with one thread per CPU, the host is process 2 with one thread.
// Kernel paths the events bracket are complete slices (ph X) on their CPU: do_discard_fault
// (DiscardFault to DiscardFaultPinned), rmap_walk_anon (RmapWalkStarted to RmapWalkFinished),
// page_shrink_discards (DiscardCollectionStarted to its last DiscardCollectionFreed) and
// free_pcppages_bulk (PcpDrained to its last PageFreed). Discard faults, collections, splices,
// host discards and findings are instants (ph i); free pages per order, the host's totals and the
// aerated / reported share of free memory are counters (ph C). Timestamps are microseconds
// (simulated ns / 1000). Events are streamed: memory holds one open slice per CPU and kind, never
// the run.
import { foldRun } from '../analysis/fold'
import type { MmEvent } from '../events'
import type { MmState } from '../projections'
import { getRun, type Db } from '../storage'
import { hostCounters, reportingCounters, sampleEveryFor, zoneCounters } from './counters'
import { ChunkedWriter } from './sink'

export const PID_GUEST = 1
export const PID_HOST = 2
export const TID_HOST = 1

/** A trace event as the format defines it (the fields mmsim writes). */
export interface TraceEvent {
  readonly name: string
  readonly ph: 'X' | 'i' | 'C' | 'M'
  readonly ts?: number
  readonly dur?: number
  readonly pid: number
  readonly tid?: number
  readonly s?: 't' | 'p' | 'g'
  readonly cat?: string
  readonly args?: Record<string, unknown>
}

export interface PerfettoStats {
  readonly slices: number
  readonly instants: number
  readonly counters: number
}

const us = (ns: number): number => ns / 1000
const tidOf = (cpu: number): number => cpu + 1

interface Open {
  readonly name: string
  readonly startNs: number
  endNs: number
  readonly cause: number
  args: Record<string, unknown>
}

/** Slices whose end is the last event caused by their begin, known only once another begins or the run ends. */
type Lazy = Map<number, Open>

export const exportPerfetto = (db: Db, file: string, runId: number, sink: (s: string) => void, o: { every?: number } = {}): PerfettoStats => {
  const run = getRun(db, file, runId)
  const every = sampleEveryFor(run.head_seq, o.every)
  const w = new ChunkedWriter(sink)
  let first = true
  const stats = { slices: 0, instants: 0, counters: 0 }
  const emit = (e: TraceEvent): void => {
    w.write(`${first ? '' : ',\n'}${JSON.stringify(e)}`)
    first = false
    if (e.ph === 'X') stats.slices++
    else if (e.ph === 'i') stats.instants++
    else if (e.ph === 'C') stats.counters++
  }
  const slice = (cpu: number, x: Open, endNs: number): void =>
    emit({ name: x.name, cat: 'kernel', ph: 'X', ts: us(x.startNs), dur: us(endNs - x.startNs), pid: PID_GUEST, tid: tidOf(cpu), args: x.args })
  const instant = (e: MmEvent, name: string, args: Record<string, unknown> = e.data as Record<string, unknown>): void =>
    e.cpu === null
      ? emit({ name, cat: 'host', ph: 'i', s: 't', ts: us(e.t), pid: PID_HOST, tid: TID_HOST, args: { seq: e.seq, ...args } })
      : emit({ name, cat: 'kernel', ph: 'i', s: 't', ts: us(e.t), pid: PID_GUEST, tid: tidOf(e.cpu), args: { seq: e.seq, ...args } })
  const faults = new Map<number, Open>()
  const walks = new Map<number, Open>()
  const collections: Lazy = new Map()
  const drains: Lazy = new Map()
  const closeLazy = (m: Lazy, cpu: number): void => {
    const x = m.get(cpu)
    if (x !== undefined) slice(cpu, x, x.endNs)
    m.delete(cpu)
  }
  const extend = (m: Lazy, e: MmEvent, add: (x: Open) => void): void => {
    if (e.cpu === null) return
    const x = m.get(e.cpu)
    if (x === undefined || e.cause !== x.cause) return
    x.endNs = e.t
    add(x)
  }
  const counters = (s: MmState, e: MmEvent): void => {
    for (const z of zoneCounters(s))
      emit({ name: `${z.zone} free pages per order`, ph: 'C', ts: us(e.t), pid: PID_GUEST, args: Object.fromEntries(z.freePages.map((n, o) => [`order ${o}`, n])) })
    const h = hostCounters(s)
    if (h !== null) emit({ name: 'host discards and page-outs (total)', ph: 'C', ts: us(e.t), pid: PID_HOST, args: { discarded: h.discards, 'paged out': h.pagedOut } })
    const r = reportingCounters(s)
    if (r !== null) {
      emit({ name: `${r.flag} share of reportable free memory (%)`, ph: 'C', ts: us(e.t), pid: PID_GUEST, args: { [r.flag]: r.sharePercent } })
      emit({ name: `${r.flag} and reportable free pages`, ph: 'C', ts: us(e.t), pid: PID_GUEST, args: { [r.flag]: r.reported, reportable: r.reportable } })
      emit({ name: 'host unbacked pages (released by reporting)', ph: 'C', ts: us(e.t), pid: PID_HOST, args: { unbacked: r.unbacked } })
    }
  }
  let lastNs = 0
  w.write(
    `{"displayTimeUnit":"ns","otherData":${JSON.stringify({ tool: 'mmsim', run: runId, workload: run.workload_name, seed: run.seed, engineVersion: run.engine_version, headHash: run.head_hash })},"traceEvents":[\n`,
  )
  foldRun(db, file, runId, undefined, (s, e) => {
    lastNs = e.t
    if (e.type === 'MachineBooted') {
      emit({ name: 'process_name', ph: 'M', pid: PID_GUEST, args: { name: `guest (mmsim run ${runId})` } })
      emit({ name: 'process_name', ph: 'M', pid: PID_HOST, args: { name: 'host' } })
      emit({ name: 'thread_name', ph: 'M', pid: PID_HOST, tid: TID_HOST, args: { name: 'host' } })
      for (let c = 0; c < e.data.cpus; c++) {
        emit({ name: 'thread_name', ph: 'M', pid: PID_GUEST, tid: tidOf(c), args: { name: `cpu${c}` } })
        emit({ name: 'thread_sort_index', ph: 'M', pid: PID_GUEST, tid: tidOf(c), args: { sort_index: c } })
      }
    }
    const cpu = e.cpu
    switch (e.type) {
      case 'DiscardFault':
        instant(e, 'discard fault')
        if (cpu !== null) faults.set(cpu, { name: 'do_discard_fault', startNs: e.t, endNs: e.t, cause: e.seq, args: { seq: e.seq, pfn: e.data.pfn } })
        break
      case 'DiscardFaultPinned': {
        const x = cpu === null ? undefined : faults.get(cpu)
        if (x !== undefined && cpu !== null) {
          slice(cpu, { ...x, args: { ...x.args, pinned: e.data.pinned } }, e.t)
          faults.delete(cpu)
        }
        break
      }
      case 'RmapWalkStarted':
        if (cpu !== null)
          walks.set(cpu, { name: `rmap_walk_anon (${e.data.walk})`, startNs: e.t, endNs: e.t, cause: e.seq, args: { seq: e.seq, pfn: e.data.pfn, anonVma: e.data.anonVma } })
        break
      case 'RmapWalkFinished': {
        const x = cpu === null ? undefined : walks.get(cpu)
        if (x !== undefined && cpu !== null) {
          slice(cpu, { ...x, args: { ...x.args, visited: e.data.visited, mapped: e.data.mapped, result: e.data.result } }, e.t)
          walks.delete(cpu)
        }
        break
      }
      case 'DiscardCollectionStarted':
        instant(e, 'collection')
        if (cpu !== null) {
          closeLazy(collections, cpu)
          collections.set(cpu, { name: 'page_shrink_discards', startNs: e.t, endNs: e.t, cause: e.seq, args: { seq: e.seq, pages: 0 } })
        }
        break
      case 'DiscardListSpliced':
        instant(e, 'discard list spliced', { collector: e.data.collector, pages: e.data.pfns.length })
        break
      case 'DiscardCollectionFreed':
        extend(collections, e, (x) => (x.args = { ...x.args, pages: (x.args.pages as number) + e.data.pfns.length }))
        break
      case 'PcpDrained':
        if (cpu !== null) {
          closeLazy(drains, cpu)
          drains.set(cpu, { name: 'free_pcppages_bulk', startNs: e.t, endNs: e.t, cause: e.seq, args: { seq: e.seq, count: e.data.count, reason: e.data.reason } })
        }
        break
      case 'PageFreed':
        extend(drains, e, () => undefined)
        break
      case 'HostDiscarded':
        instant(e, 'host discard')
        break
      case 'HostPagedOut':
        instant(e, 'host page-out')
        break
      case 'PageAllocFailed':
        instant(e, 'allocation failed')
        break
      case 'InvariantViolated':
        emit({ name: `finding: ${e.data.name}`, cat: 'finding', ph: 'i', s: 'g', ts: us(e.t), pid: PID_GUEST, args: { seq: e.seq, message: e.data.message } })
        break
      default:
    }
    if (e.seq % every === 0 || e.seq === run.head_seq) counters(s, e)
  })
  // Paths still open when the run ended (a run stopped at a finding) end with it, and say so.
  for (const [cpu, x] of [...faults, ...walks]) slice(cpu, { ...x, args: { ...x.args, unfinished: true } }, lastNs)
  for (const m of [collections, drains]) for (const cpu of [...m.keys()]) closeLazy(m, cpu)
  w.write('\n]}\n')
  w.flush()
  return stats
}
