// /proc/buddyinfo and /proc/pagetypeinfo as mm/vmstat.c prints them (frag_show_print,
// pagetypeinfo_showfree_print, pagetypeinfo_showblockcount_print), read back into free lists:
// the machine.freeAreas of a workload that boots into them (engine/mm/bootLayout.ts).
import { MAX_ORDER } from '../events/codecs'
import { pageblocksNeeded, layoutFreeArea } from '../engine/mm/bootLayout'
import { FREE_AREA_MIGRATETYPES, type FreeAreaSpec, type Workload } from '../workload/codec'
import { InputError, readLines } from './lines'

/** pageblock_order of the architectures mmsim models (engine/mm/boot.ts ARCH_PAGEBLOCK_ORDER). */
const ARCH_OF_PAGEBLOCK_ORDER: Record<number, 'x86' | 's390'> = { 9: 'x86', 8: 's390' }
const ZONES_MAX = 4
const MAX_BLOCK = 1 << (MAX_ORDER - 1)

export interface ZoneCounts {
  readonly node: number
  readonly zone: string
  readonly counts: readonly number[]
}

const counts = (file: string, n: number, cols: readonly string[]): number[] => {
  const out = cols.map((c) => Number(c))
  if (out.some((x) => !Number.isSafeInteger(x) || x < 0)) throw new InputError(`${file}:${n}: expected counts of free blocks, got "${cols.join(' ')}"`)
  if (out.length > MAX_ORDER) throw new InputError(`${file}:${n}: ${out.length} orders; mmsim models MAX_ORDER ${MAX_ORDER} (orders 0..${MAX_ORDER - 1})`)
  return out
}

const BUDDY_LINE = /^Node\s+(\d+),\s+zone\s+(\S+)\s+([\d\s]+)$/

/** /proc/buddyinfo: free blocks per order, per node and zone. */
export const parseBuddyinfo = (file: string): ZoneCounts[] => {
  const out: ZoneCounts[] = []
  for (const { n, text } of readLines(file)) {
    if (text.trim() === '') continue
    const m = BUDDY_LINE.exec(text.trim())
    if (m === null) throw new InputError(`${file}:${n}: not a /proc/buddyinfo line ("Node N, zone NAME count ..."): ${JSON.stringify(text.slice(0, 80))}`)
    out.push({ node: Number(m[1]), zone: m[2]!, counts: counts(file, n, m[3]!.trim().split(/\s+/)) })
  }
  if (out.length === 0) throw new InputError(`${file}: empty: no "Node N, zone NAME ..." line`)
  return out
}

export interface Pagetypeinfo {
  readonly pageblockOrder: number
  /** Free blocks per order, by zone and migratetype name as the kernel spells it. */
  readonly free: readonly (ZoneCounts & { readonly type: string })[]
  /** Pageblocks by zone and migratetype name. */
  readonly blocks: readonly { readonly node: number; readonly zone: string; readonly byType: Readonly<Record<string, number>> }[]
}

const FREE_LINE = /^Node\s+(\d+),\s+zone\s+(\S+),\s+type\s+(\S+)\s+([\d\s]+)$/

/** /proc/pagetypeinfo: the pageblock order, free blocks per order by migratetype, pageblocks by migratetype. */
export const parsePagetypeinfo = (file: string): Pagetypeinfo => {
  let pageblockOrder: number | null = null
  const free: (ZoneCounts & { type: string })[] = []
  const blocks: { node: number; zone: string; byType: Record<string, number> }[] = []
  let blockTypes: string[] | null = null
  for (const { n, text } of readLines(file)) {
    const line = text.trim()
    if (line === '') continue
    let m: RegExpExecArray | null
    if ((m = /^Page block order:\s*(\d+)$/.exec(line)) !== null) pageblockOrder = Number(m[1])
    else if (/^Pages per block:/.test(line) || /^Free pages count per migrate type/.test(line)) continue
    else if ((m = /^Number of blocks type\s+(.*)$/.exec(line)) !== null) blockTypes = m[1]!.trim().split(/\s+/)
    else if ((m = FREE_LINE.exec(line)) !== null) free.push({ node: Number(m[1]), zone: m[2]!, type: m[3]!, counts: counts(file, n, m[4]!.trim().split(/\s+/)) })
    else if (blockTypes !== null && (m = BUDDY_LINE.exec(line)) !== null) {
      const cols = m[3]!.trim().split(/\s+/).map(Number)
      if (cols.length !== blockTypes.length) throw new InputError(`${file}:${n}: ${cols.length} pageblock counts for ${blockTypes.length} types (${blockTypes.join(' ')})`)
      blocks.push({ node: Number(m[1]), zone: m[2]!, byType: Object.fromEntries(blockTypes.map((t, i) => [t, cols[i]!])) })
    } else throw new InputError(`${file}:${n}: not a /proc/pagetypeinfo line: ${JSON.stringify(text.slice(0, 80))}`)
  }
  if (pageblockOrder === null) throw new InputError(`${file}: no "Page block order:" line: not a /proc/pagetypeinfo`)
  if (free.length === 0) throw new InputError(`${file}: no "Node N, zone NAME, type TYPE ..." line: not a /proc/pagetypeinfo`)
  return { pageblockOrder, free, blocks }
}

/**
 * Migratetypes of other kernels, as mmsim's v4.13 lists hold them: MIGRATE_RESERVE (before 4.4,
 * the min_free_kbytes reserve) became the high-order atomic reserve; CMA pageblocks take only
 * movable allocations, so their free blocks are Movable here. Isolate is an isolation in flight,
 * which an initial state cannot have.
 */
const MT_OF_TYPE: Record<string, (typeof FREE_AREA_MIGRATETYPES)[number] | null> = {
  Unmovable: 'Unmovable',
  Movable: 'Movable',
  Reclaimable: 'Reclaimable',
  HighAtomic: 'HighAtomic',
  Reserve: 'HighAtomic',
  CMA: 'Movable',
  Isolate: null,
}

export interface ImportedZones {
  readonly workload: Workload
  /** What the import had to change or leave out, in words. */
  readonly notes: readonly string[]
  readonly zones: readonly { readonly zone: string; readonly pages: number; readonly freePages: number; readonly pageblocksKept: boolean }[]
}

const add = (a: number[] | undefined, b: readonly number[]): number[] => Array.from({ length: Math.max(a?.length ?? 0, b.length) }, (_, i) => (a?.[i] ?? 0) + (b[i] ?? 0))

const pagesOf = (cs: readonly number[]): number => cs.reduce((a, c, o) => a + c * (1 << o), 0)

const roundToMaxBlocks = (pages: number): number => Math.max(MAX_BLOCK, Math.ceil(pages / MAX_BLOCK) * MAX_BLOCK)

/**
 * The zone with its recorded pageblocks (Movable ones added to round it to whole MAX_ORDER
 * blocks, said in a note), or null when there are none or the free blocks do not fit in them.
 */
const withRecordedPageblocks = (spec: FreeAreaSpec, start: number, pageblockOrder: number, notes: string[]): { spec: FreeAreaSpec; pages: number } | null => {
  if (spec.pageblocks === undefined) return null
  const recorded = Object.values(spec.pageblocks).reduce((a, n) => a + (n ?? 0), 0) << pageblockOrder
  if (recorded === 0) return null
  const pages = roundToMaxBlocks(recorded)
  const added = (pages - recorded) >> pageblockOrder
  const s = added === 0 ? spec : { ...spec, pageblocks: { ...spec.pageblocks, Movable: (spec.pageblocks.Movable ?? 0) + added } }
  if (typeof layoutFreeArea(start, pages, pageblockOrder, s) === 'string') return null
  if (added > 0) notes.push(`zone ${spec.zone}: ${added} Movable pageblock${added > 1 ? 's' : ''} added to make whole MAX_ORDER blocks`)
  return { spec: s, pages }
}

/**
 * A workload that boots a machine whose zones have these free lists: from /proc/buddyinfo (every
 * block Movable, the zone sized to fit) or, with /proc/pagetypeinfo, per migratetype and with the
 * recorded pageblock counts where the free blocks fit in them.
 */
export const importZones = (o: { buddyinfo: string; pagetypeinfo?: string; cpus: number; name: string }): ImportedZones => {
  const notes: string[] = []
  const buddy = parseBuddyinfo(o.buddyinfo)
  const ptype = o.pagetypeinfo === undefined ? null : parsePagetypeinfo(o.pagetypeinfo)
  const pageblockOrder = ptype?.pageblockOrder ?? 9
  const arch = ARCH_OF_PAGEBLOCK_ORDER[pageblockOrder]
  if (arch === undefined) throw new InputError(`${o.pagetypeinfo}: page block order ${pageblockOrder}: mmsim models x86 (9) and s390 (8)`)
  const others = buddy.filter((z) => z.node !== 0)
  if (others.length > 0) notes.push(`node${others.length > 1 ? 's' : ''} ${[...new Set(others.map((z) => z.node))].join(', ')} left out: mmsim models one node`)
  const zones = buddy.filter((z) => z.node === 0 && pagesOf(z.counts) > 0)
  const empty = buddy.filter((z) => z.node === 0 && pagesOf(z.counts) === 0)
  if (empty.length > 0) notes.push(`zone${empty.length > 1 ? 's' : ''} ${empty.map((z) => z.zone).join(', ')} left out: no free page`)
  if (zones.length === 0) throw new InputError(`${o.buddyinfo}: no zone of node 0 has a free page`)
  if (zones.length > ZONES_MAX) throw new InputError(`${o.buddyinfo}: ${zones.length} zones; mmsim models at most ${ZONES_MAX}`)
  const specs = zones.map((z): FreeAreaSpec => {
    const rows = ptype?.free.filter((r) => r.node === 0 && r.zone === z.zone) ?? []
    if (rows.length === 0) {
      if (ptype !== null) notes.push(`zone ${z.zone}: not in ${o.pagetypeinfo}; every free block Movable`)
      return { zone: z.zone, free: { Movable: [...z.counts] } }
    }
    const free: Partial<Record<(typeof FREE_AREA_MIGRATETYPES)[number], number[]>> = {}
    for (const r of rows) {
      const mt = MT_OF_TYPE[r.type]
      if (mt === undefined) throw new InputError(`${o.pagetypeinfo}: zone ${z.zone}: unknown migratetype "${r.type}"`)
      if (mt === null) {
        if (pagesOf(r.counts) > 0) notes.push(`zone ${z.zone}: ${pagesOf(r.counts)} free pages on Isolate lists left out (an isolation in flight)`)
        continue
      }
      if (r.type !== mt && pagesOf(r.counts) > 0) notes.push(`zone ${z.zone}: type ${r.type} imported as ${mt}`)
      free[mt] = add(free[mt], r.counts)
    }
    const sum = FREE_AREA_MIGRATETYPES.reduce((acc, mt) => add(acc, free[mt] ?? []), [] as number[])
    if (sum.some((c, i) => c !== (z.counts[i] ?? 0)))
      notes.push(
        `zone ${z.zone}: the buddyinfo and pagetypeinfo counts differ (${o.buddyinfo} ${z.counts.join(' ')}, ${o.pagetypeinfo} ${sum.join(' ')}): the pagetypeinfo's are imported`,
      )
    const spec: FreeAreaSpec = { zone: z.zone, free }
    const b = ptype?.blocks.find((x) => x.node === 0 && x.zone === z.zone)
    if (b === undefined) return spec
    const pageblocks: Partial<Record<(typeof FREE_AREA_MIGRATETYPES)[number], number>> = {}
    for (const [type, n] of Object.entries(b.byType)) {
      const mt = MT_OF_TYPE[type]
      if (mt === undefined || mt === null) continue
      pageblocks[mt] = (pageblocks[mt] ?? 0) + n
    }
    return { ...spec, pageblocks }
  })
  // Zone sizes: the recorded pageblocks where the free blocks fit in them, else what they need;
  // whole MAX_ORDER blocks, so that each zone starts aligned for its largest blocks.
  let start = 0
  const out: ImportedZones['zones'][number][] = []
  const fitted = specs.map((spec) => {
    const kept = withRecordedPageblocks(spec, start, pageblockOrder, notes)
    if (kept === null && spec.pageblocks !== undefined)
      notes.push(`zone ${spec.zone}: its free blocks do not fit in the recorded pageblocks without merging; the zone is sized to fit them`)
    const s: FreeAreaSpec = kept?.spec ?? { zone: spec.zone, ...(spec.free === undefined ? {} : { free: spec.free }) }
    const pages = kept?.pages ?? roundToMaxBlocks(Object.values(pageblocksNeeded(s, pageblockOrder)).reduce((a, n) => a + n, 0) << pageblockOrder)
    out.push({ zone: s.zone, pages, freePages: FREE_AREA_MIGRATETYPES.reduce((a, mt) => a + pagesOf(s.free?.[mt] ?? []), 0), pageblocksKept: kept !== null })
    start += pages
    return { spec: s, pages }
  })
  const workload: Workload = {
    version: 1,
    name: o.name,
    description: `Boots into the free lists of ${o.buddyinfo}${o.pagetypeinfo === undefined ? '' : ` and ${o.pagetypeinfo}`} (mmsim import buddyinfo); memory that was not free is reserved at boot.`,
    machine: { cpus: o.cpus, arch, zones: fitted.map((f) => ({ name: f.spec.zone, pages: f.pages })), freeAreas: fitted.map((f) => f.spec) },
    ops: [],
  }
  return { workload, notes, zones: out }
}
