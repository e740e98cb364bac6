// A run of an imported recording (`mmsim import ftrace`): how the replay compares with what the
// real machine did: allocations back at the recorded order and migratetype and pfn, failures,
// fallbacks against the recording's mm_page_alloc_extfrag lines, and the lines not replayed.
import * as E from 'fp-ts/Either'
import { RecordingComparison, RecordingTally } from '../../formats/replayCompare'
import { Recording } from '../../workload/codec'
import { barChart } from '../svg'
import { count, escapeHtml, htmlTable, mdTable } from '../html'
import type { SectionDef } from '../section'

const rows = (d: RecordingComparison): (string | number)[][] => [
  ['allocations recorded', d.recorded],
  ['replayed', d.replayed],
  ['at the recorded order and migratetype', d.sameOrderAndMigratetype],
  ['at the recorded pfn', d.samePfn ?? 'not comparable'],
  ['failed', d.failed],
  ['fallbacks simulated (__rmqueue_fallback)', d.fallbacks.simulated],
  ['fallbacks recorded (mm_page_alloc_extfrag)', d.fallbacks.recorded],
  ...Object.entries(d.unusableLines).map(([k, v]): [string, number] => [`not replayed: ${k}`, v]),
]

export const recordingSection: SectionDef<RecordingComparison> = {
  id: 'recording',
  title: 'Replay of a recording',
  codec: RecordingComparison,
  collect: (ctx) => {
    const rec = Recording.decode((ctx.workload as { recording?: unknown } | null)?.recording)
    const tally = new RecordingTally()
    return {
      after: (_, e) => tally.onEvent(e),
      finish: () => (E.isRight(rec) ? tally.result(rec.right) : null),
    }
  },
  markdown: (d) => `Recorded in \`${d.source}\`.\n\n${mdTable(['', 'count'], rows(d))}`,
  html: (d) =>
    `<p>Recorded in <code>${escapeHtml(d.source)}</code>: ${count(d.replayed)} of ${count(d.recorded)} allocations replayed.</p>` +
    htmlTable(['', 'count'], rows(d)) +
    barChart({
      title: 'Recorded allocations, and how they came back',
      labels: ['recorded', 'replayed', 'order and mt', 'pfn', 'failed'],
      series: [{ name: 'allocations', values: [d.recorded, d.replayed, d.sameOrderAndMigratetype, d.samePfn ?? 0, d.failed] }],
      xLabel: '',
      yLabel: 'allocations',
    }),
}
