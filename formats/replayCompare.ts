// How a run of an imported recording (`mmsim import ftrace`) compares with the recording: of the
// recorded allocations replayed, how many came back at the recorded order and migratetype, how
// many at the recorded pfn, how many failed; and the run's fallbacks (__rmqueue_fallback) against
// the recording's mm_page_alloc_extfrag lines. Read from the stored run's events, streamed.
import { readEvents, type Db } from '../storage'
import type { Recording } from '../workload/codec'
import { RECORDED_TAG } from './ftrace'

export interface RecordingComparison {
  readonly source: string
  /** Allocations the recording has, and the replay made (tags of this recording). */
  readonly recorded: number
  readonly replayed: number
  readonly sameOrderAndMigratetype: number
  /** null when the guest does not cover the recorded frames (pfnsComparable false). */
  readonly samePfn: number | null
  readonly failed: number
  readonly fallbacks: { readonly simulated: number; readonly recorded: number }
  readonly unusableLines: Readonly<Record<string, number>>
}

const ALLOC_TYPES = ['PageAllocated', 'PcpAllocated', 'PageAllocFailed', 'FreeBlockMoved', 'FreepagesMoved'] as const

export const compareRecording = (db: Db, file: string, runId: number, rec: Recording): RecordingComparison => {
  let replayed = 0
  let same = 0
  let samePfn = 0
  let failed = 0
  let fallbacks = 0
  for (const e of readEvents(db, file, runId, { types: [...ALLOC_TYPES] })) {
    let got: { tag: string | undefined; pfn: number; order: number; mt: number } | null = null
    switch (e.type) {
      case 'FreeBlockMoved':
      case 'FreepagesMoved':
        // steal_suitable_fallback emits one of the two per fallback (engine/mm/page_alloc.ts).
        fallbacks++
        continue
      case 'PageAllocFailed':
        if (RECORDED_TAG.test(e.data.tag ?? '')) failed++
        continue
      case 'PageAllocated':
        if (!e.data.pcp) got = { tag: e.data.tag, pfn: e.data.pfn, order: e.data.order, mt: e.data.mt }
        break
      case 'PcpAllocated':
        got = { tag: e.data.tag, pfn: e.data.pfn, order: 0, mt: e.data.mt }
        break
      default:
    }
    const m = got === null ? null : RECORDED_TAG.exec(got.tag ?? '')
    if (got === null || m === null) continue
    replayed++
    if (got.order === Number(m[3]) && got.mt === Number(m[4])) same++
    if (got.pfn === parseInt(m[2]!, 16)) samePfn++
  }
  return {
    source: rec.source,
    recorded: rec.allocations,
    replayed,
    sameOrderAndMigratetype: same,
    samePfn: rec.pfnsComparable === false ? null : samePfn,
    failed,
    fallbacks: { simulated: fallbacks, recorded: rec.extfrag },
    unusableLines: rec.unusable,
  }
}

export const renderRecordingComparison = (c: RecordingComparison): string => {
  const unusable = Object.entries(c.unusableLines)
  return (
    `\nreplay of ${c.source}\n` +
    `  allocations      ${c.replayed} of ${c.recorded} recorded came back; ${c.sameOrderAndMigratetype} at the recorded order and migratetype, ${c.samePfn === null ? 'pfns not comparable (the recording spans more than the guest)' : `${c.samePfn} at the recorded pfn`}; ${c.failed} failed\n` +
    `  fallbacks        ${c.fallbacks.simulated} simulated (__rmqueue_fallback), ${c.fallbacks.recorded} recorded (mm_page_alloc_extfrag)\n` +
    `  lines not replayed ${unusable.length === 0 ? 'none' : unusable.map(([k, v]) => `${v} ${k}`).join('; ')}\n`
  )
}
