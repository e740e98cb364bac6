// The buddy allocator: allocations and frees by order and migratetype, the fallbacks
// __rmqueue_fallback took (which migratetype lent to which, and whether the pageblock changed
// hands: what mm_page_alloc_extfrag traces), pcp drains, failures, and /proc/buddyinfo over the run.
import * as t from 'io-ts'
import { MAX_ORDER, MIGRATETYPE_NAMES, MIGRATE_TYPES, NonNegInt } from '../../events/codecs'
import type { MmEvent } from '../../events'
import type { MmState } from '../../projections'
import { nrFreeIdx, pageblockMigratetype } from '../../projections/zone/state'
import { barChart, lineChart } from '../svg'
import { count, htmlTable, mdTable } from '../html'
import { sampleDue, type SectionDef } from '../section'

const Matrix = t.array(t.array(NonNegInt))

/** How a fallback took its block: one block moved, a pageblock claimed or not, or whole pageblocks (an order >= pageblock_order). */
export const FALLBACK_KINDS = ['block', 'pageblock-claimed', 'pageblock-kept', 'whole-pageblocks'] as const
export type FallbackKind = (typeof FALLBACK_KINDS)[number]

export const Fallback = t.type({
  requested: t.string,
  fallback: t.string,
  kind: t.keyof({ block: null, 'pageblock-claimed': null, 'pageblock-kept': null, 'whole-pageblocks': null }),
  count: NonNegInt,
})

export const BuddyData = t.type({
  migratetypes: t.array(t.string),
  /** allocations[order][mt]: blocks handed to a user (from the buddy lists or a pcp list). */
  allocations: Matrix,
  /** frees[order][mt]: blocks a user gave back (to the buddy lists or a pcp list). */
  frees: Matrix,
  failures: t.array(NonNegInt),
  /** Pages moved between the pcp lists and the buddy lists. */
  pcp: t.type({ refilled: NonNegInt, drained: NonNegInt }),
  fallbacks: t.array(Fallback),
  buddyinfo: t.type({
    zones: t.array(t.string),
    /** nrFree[zone][order] at each sample point. */
    samples: t.array(t.type({ seq: NonNegInt, t: NonNegInt, nrFree: t.array(t.array(NonNegInt)) })),
  }),
})
export type BuddyData = t.TypeOf<typeof BuddyData>

const matrix = (): number[][] => Array.from({ length: MAX_ORDER }, () => new Array<number>(MIGRATE_TYPES).fill(0))

/**
 * The fallback an event records, read from the state before it: __rmqueue_fallback emits exactly
 * one FreeBlockMoved or FreepagesMoved per fallback (steal_suitable_fallback), the first after a
 * PageblockMigratetypeSet of the same block when the block covers whole pageblocks.
 */
export const fallbackOf = (s: MmState, e: MmEvent, prev: MmEvent | null): { requested: number; fallback: number; kind: FallbackKind } | null => {
  if (e.type === 'FreeBlockMoved') {
    const whole = prev?.type === 'PageblockMigratetypeSet' && prev.data.pfn === e.data.pfn
    return { requested: e.data.toMt, fallback: s.zone.listMt[e.data.pfn]!, kind: whole ? 'whole-pageblocks' : 'block' }
  }
  if (e.type === 'FreepagesMoved')
    return { requested: e.data.toMt, fallback: pageblockMigratetype(s.zone, e.data.pfn), kind: e.data.claimed ? 'pageblock-claimed' : 'pageblock-kept' }
  return null
}

const mt = (i: number): string => MIGRATETYPE_NAMES[i] ?? String(i)

const orderRows = (m: readonly (readonly number[])[]): (string | number)[][] => m.map((row, o) => [String(o), ...row, row.reduce((a, b) => a + b, 0)])

const buddyinfoRows = (d: BuddyData, z: number): (string | number)[][] => {
  const ss = d.buddyinfo.samples
  const picks = ss.length <= 8 ? ss : Array.from({ length: 8 }, (_, i) => ss[Math.round((i * (ss.length - 1)) / 7)]!)
  return picks.map((p) => [String(p.seq), ...p.nrFree[z]!])
}

const orders = Array.from({ length: MAX_ORDER }, (_, o) => String(o))

export const buddySection: SectionDef<BuddyData> = {
  id: 'buddy',
  title: 'Buddy allocator',
  codec: BuddyData,
  collect: (ctx) => {
    const allocations = matrix()
    const frees = matrix()
    const failures = new Array<number>(MAX_ORDER).fill(0)
    const pcp = { refilled: 0, drained: 0 }
    const fallbacks = new Map<string, number>()
    const samples: BuddyData['buddyinfo']['samples'] = []
    let prev: MmEvent | null = null
    return {
      before: (s, e) => {
        if (s !== null) {
          const f = fallbackOf(s, e, prev)
          if (f !== null) {
            const k = `${f.requested} ${f.fallback} ${f.kind}`
            fallbacks.set(k, (fallbacks.get(k) ?? 0) + 1)
          }
        }
        prev = e
      },
      after: (s, e) => {
        switch (e.type) {
          case 'PageAllocated':
            if (e.data.pcp) pcp.refilled++
            else allocations[e.data.order]![e.data.mt]!++
            break
          case 'PcpAllocated':
            allocations[0]![e.data.mt]!++
            break
          case 'PageFreed':
            if (e.data.from === 'page') frees[e.data.order]![e.data.mt]!++
            else if (e.data.from === 'pcp') pcp.drained++
            break
          case 'PcpFreed':
            frees[0]![e.data.mt]!++
            break
          case 'PageAllocFailed':
            failures[e.data.order]!++
            break
          default:
        }
        if (sampleDue(ctx, e.seq))
          samples.push({ seq: e.seq, t: e.t, nrFree: s.zone.zones.map((z) => Array.from({ length: MAX_ORDER }, (_, o) => s.zone.nrFree[nrFreeIdx(z.idx, o)]!)) })
      },
      finish: (s) => ({
        migratetypes: [...MIGRATETYPE_NAMES],
        allocations,
        frees,
        failures,
        pcp,
        fallbacks: [...fallbacks.entries()]
          .map(([k, n]) => {
            const [r, f, kind] = k.split(' ') as [string, string, FallbackKind]
            return { requested: mt(Number(r)), fallback: mt(Number(f)), kind, count: n }
          })
          .sort((a, b) => b.count - a.count || (a.requested + a.fallback + a.kind < b.requested + b.fallback + b.kind ? -1 : 1)),
        buddyinfo: { zones: s.zone.zones.map((z) => z.name), samples },
      }),
    }
  },
  markdown: (d) => {
    const head = ['order', ...d.migratetypes, 'all']
    let out = '**Allocations** (blocks to a user, by order and migratetype)\n\n' + mdTable(head, orderRows(d.allocations))
    out += '\n**Frees** (blocks from a user)\n\n' + mdTable(head, orderRows(d.frees))
    out += `\nPcp lists: ${count(d.pcp.refilled)} pages refilled from the buddy lists (rmqueue_bulk), ${count(d.pcp.drained)} drained back (free_pcppages_bulk). `
    out += `Failed allocations: ${count(d.failures.reduce((a, b) => a + b, 0))}.\n\n`
    out += `**Fallbacks** (__rmqueue_fallback): ${count(d.fallbacks.reduce((a, f) => a + f.count, 0))}\n\n`
    if (d.fallbacks.length > 0)
      out += mdTable(
        ['requested', 'fallback', 'kind', 'count'],
        d.fallbacks.map((f) => [f.requested, f.fallback, f.kind, f.count]),
      )
    out += '\n**/proc/buddyinfo over the run** (free blocks per order, at evenly spaced seqs)\n'
    d.buddyinfo.zones.forEach((z, i) => (out += `\nZone ${z}\n\n` + mdTable(['seq', ...orders], buddyinfoRows(d, i))))
    return out
  },
  html: (d) => {
    const head = ['order', ...d.migratetypes, 'all']
    const perMt = (m: readonly (readonly number[])[]) => d.migratetypes.map((name, k) => ({ name, values: m.map((row) => row[k]!) })).filter((s) => s.values.some((v) => v > 0))
    let out = barChart({ title: 'Allocations per order and migratetype', labels: orders, series: perMt(d.allocations), xLabel: 'order', yLabel: 'blocks' })
    out += htmlTable(head, orderRows(d.allocations))
    out += barChart({ title: 'Frees per order and migratetype', labels: orders, series: perMt(d.frees), xLabel: 'order', yLabel: 'blocks' })
    out += htmlTable(head, orderRows(d.frees))
    out += `<p>Pcp lists: ${count(d.pcp.refilled)} pages refilled from the buddy lists (rmqueue_bulk), ${count(d.pcp.drained)} drained back (free_pcppages_bulk). Failed allocations: ${count(d.failures.reduce((a, b) => a + b, 0))}.</p>`
    out += `<h3>Fallbacks</h3><p>${count(d.fallbacks.reduce((a, f) => a + f.count, 0))} fallbacks (__rmqueue_fallback).</p>`
    if (d.fallbacks.length > 0)
      out += htmlTable(
        ['requested', 'fallback', 'kind', 'count'],
        d.fallbacks.map((f) => [f.requested, f.fallback, f.kind, f.count]),
      )
    out += '<h3>/proc/buddyinfo over the run</h3>'
    d.buddyinfo.zones.forEach((z, i) => {
      const ss = d.buddyinfo.samples
      out += lineChart({
        title: `Zone ${z}: free pages per order`,
        x: ss.map((p) => p.seq),
        series: orders.map((o, k) => ({ name: `order ${o}`, values: ss.map((p) => p.nrFree[i]![k]! << k) })),
        xLabel: 'seq',
        yLabel: 'free pages',
      })
      out += htmlTable(['seq', ...orders], buddyinfoRows(d, i))
    })
    return out
  },
}
