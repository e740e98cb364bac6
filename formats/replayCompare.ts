// How a run of an imported recording (`mmsim import ftrace`) compares with the recording: of the
// recorded allocations replayed, how many came back at the recorded order and migratetype, how
// many at the recorded pfn, how many failed; and the run's fallbacks (__rmqueue_fallback) against
// the recording's mm_page_alloc_extfrag lines. Read from the stored run's events, streamed.
import * as t from 'io-ts'
import type { MmEvent } from '../events'
import { NonNegInt } from '../events/codecs'
import { readEvents, type Db } from '../storage'
import type { Recording } from '../workload/codec'
import { RECORDED_TAG } from './ftrace'

export const RecordingComparison = t.type({
  source: t.string,
  /** Allocations the recording has, and the replay made (tags of this recording). */
  recorded: NonNegInt,
  replayed: NonNegInt,
  sameOrderAndMigratetype: NonNegInt,
  /** null when the guest does not cover the recorded frames (pfnsComparable false). */
  samePfn: t.union([NonNegInt, t.null]),
  failed: NonNegInt,
  fallbacks: t.type({ simulated: NonNegInt, recorded: NonNegInt }),
  unusableLines: t.record(t.string, NonNegInt),
})
export type RecordingComparison = t.TypeOf<typeof RecordingComparison>

export const RECORDING_EVENT_TYPES = ['PageAllocated', 'PcpAllocated', 'PageAllocFailed', 'FreeBlockMoved', 'FreepagesMoved'] as const

/** The comparison as the events go by: the run command reads them back, the report folds them. */
export class RecordingTally {
  private replayed = 0
  private same = 0
  private samePfn = 0
  private failed = 0
  private fallbacks = 0

  onEvent(e: MmEvent): void {
    let got: { tag: string | undefined; pfn: number; order: number; mt: number } | null = null
    switch (e.type) {
      case 'FreeBlockMoved':
      case 'FreepagesMoved':
        // steal_suitable_fallback emits one of the two per fallback (engine/mm/page_alloc.ts).
        this.fallbacks++
        return
      case 'PageAllocFailed':
        if (RECORDED_TAG.test(e.data.tag ?? '')) this.failed++
        return
      case 'PageAllocated':
        if (!e.data.pcp) got = { tag: e.data.tag, pfn: e.data.pfn, order: e.data.order, mt: e.data.mt }
        break
      case 'PcpAllocated':
        got = { tag: e.data.tag, pfn: e.data.pfn, order: 0, mt: e.data.mt }
        break
      default:
    }
    const m = got === null ? null : RECORDED_TAG.exec(got.tag ?? '')
    if (got === null || m === null) return
    this.replayed++
    if (got.order === Number(m[3]) && got.mt === Number(m[4])) this.same++
    if (got.pfn === parseInt(m[2]!, 16)) this.samePfn++
  }

  result(rec: Recording): RecordingComparison {
    return {
      source: rec.source,
      recorded: rec.allocations,
      replayed: this.replayed,
      sameOrderAndMigratetype: this.same,
      samePfn: rec.pfnsComparable === false ? null : this.samePfn,
      failed: this.failed,
      fallbacks: { simulated: this.fallbacks, recorded: rec.extfrag },
      unusableLines: rec.unusable,
    }
  }
}

export const compareRecording = (db: Db, file: string, runId: number, rec: Recording): RecordingComparison => {
  const tally = new RecordingTally()
  for (const e of readEvents(db, file, runId, { types: [...RECORDING_EVENT_TYPES] })) tally.onEvent(e)
  return tally.result(rec)
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
