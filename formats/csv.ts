// A run as CSV (RFC 4180): its events, one row each with the payload as JSON, or its counters
// (free pages per order per zone, NR_FREE_PAGES, the host's totals) at evenly spaced seqs, for a
// spreadsheet or pandas. Streamed: nothing holds the run.
import { foldRun } from '../analysis/fold'
import { MAX_ORDER } from '../events/codecs'
import { getRun, readEvents, type Db } from '../storage'
import { hostCounters, sampleEveryFor, zoneCounters } from './counters'
import { ChunkedWriter } from './sink'

export const CSV_WHAT = ['events', 'counters'] as const
export type CsvWhat = (typeof CSV_WHAT)[number]

/** A field quoted when it holds a comma, a quote or a line break; quotes doubled. */
export const csvField = (v: string | number | null): string => {
  if (v === null) return ''
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

const row = (fields: readonly (string | number | null)[]): string => `${fields.map(csvField).join(',')}\r\n`

export const EVENTS_HEADER = ['seq', 't_ns', 'cpu', 'type', 'cause', 'data'] as const

export const exportEventsCsv = (db: Db, file: string, runId: number, sink: (s: string) => void): number => {
  const w = new ChunkedWriter(sink)
  w.write(row(EVENTS_HEADER))
  let n = 0
  for (const e of readEvents(db, file, runId)) {
    w.write(row([e.seq, e.t, e.cpu, e.type, e.cause ?? null, JSON.stringify(e.data)]))
    n++
  }
  w.flush()
  return n
}

export const COUNTERS_HEADER = [
  'seq',
  't_ns',
  'zone',
  'nr_free_pages',
  ...Array.from({ length: MAX_ORDER }, (_, o) => `free_pages_order_${o}`),
  'host_discards',
  'host_paged_out',
] as const

export const exportCountersCsv = (db: Db, file: string, runId: number, sink: (s: string) => void, o: { every?: number } = {}): number => {
  const run = getRun(db, file, runId)
  const every = sampleEveryFor(run.head_seq, o.every)
  const w = new ChunkedWriter(sink)
  w.write(row(COUNTERS_HEADER))
  let n = 0
  foldRun(db, file, runId, undefined, (s, e) => {
    if (e.seq % every !== 0 && e.seq !== run.head_seq) return
    const h = hostCounters(s)
    for (const z of zoneCounters(s)) w.write(row([e.seq, e.t, z.zone, z.nrFreePages, ...z.freePages, h?.discards ?? null, h?.pagedOut ?? null]))
    n++
  })
  w.flush()
  return n
}
