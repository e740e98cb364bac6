// The isolation projection for people and programs: each range (state, pages captured, pages
// still in use and by whom), the refused requests, the work counters, and per zone how far
// NR_FREE_PAGES and the free lists disagree (Joonsoo Kim 2014's miscount and stranded pages).
import { MAX_ORDER, MIGRATETYPE_NAMES, MIGRATE_ISOLATE, MIGRATE_TYPES } from '../../events/codecs'
import type { MmState } from '../state'
import { FRAME_ALLOCATED, FRAME_DISCARD, FRAME_PCP, NIL, freeListIdx } from '../zone/state'
import type { IsolationRange, IsolationWork, RefusedRequest } from './state'

/** Frames of a range not yet isolated, by what holds them. */
export interface InUse {
  readonly allocated: number
  readonly anonymous: number
  readonly pageCache: number
  readonly perCpu: number
  readonly discardLists: number
  /** Up to 8 frames still allocated, with the migratetype they were allocated for. */
  readonly sample: { pfn: number; mt: string; holder: string }[]
}

export interface ZoneMiscount {
  readonly zone: string
  readonly nrFreePages: number
  /** Pages on the free lists other than MIGRATE_ISOLATE. */
  readonly listed: number
  /** NR_FREE_PAGES - listed: what the free path's races left miscounted. */
  readonly miscount: number
  /** Free pages on an ISOLATE list in a pageblock that is not ISOLATE: unavailable for good. */
  readonly stranded: number
  /** Free pages on another list in an ISOLATE pageblock: allocatable from a range being isolated. */
  readonly escaped: number
}

export interface IsolationView {
  readonly config: Record<string, string>
  readonly ranges: (IsolationRange & { readonly zoneName: string; readonly inUse: InUse | null })[]
  readonly refused: readonly RefusedRequest[]
  readonly work: IsolationWork & { readonly entriesPerFree: number }
  readonly zones: ZoneMiscount[]
}

const holderOf = (s: MmState, pfn: number): string => {
  if (s.anonVma.mapping[pfn] !== -1) return 'anon'
  if (s.pages !== null && s.pages.file[pfn] !== -1) return `file ${s.pages.file[pfn]} index ${s.pages.index[pfn]}`
  return 'kernel'
}

const inUseOf = (s: MmState, r: IsolationRange): InUse => {
  const z = s.zone
  let allocated = 0
  let anonymous = 0
  let pageCache = 0
  let perCpu = 0
  let discardLists = 0
  const sample: InUse['sample'] = []
  for (let p = r.startPfn; p < r.endPfn; p++) {
    const f = z.frame[p]
    if (f === FRAME_PCP) perCpu++
    else if (f === FRAME_DISCARD) discardLists++
    else if (f === FRAME_ALLOCATED) {
      allocated++
      const holder = holderOf(s, p)
      if (holder === 'anon') anonymous++
      else if (holder !== 'kernel') pageCache++
      if (z.allocOrder[p]! >= 0 && sample.length < 8) sample.push({ pfn: p, mt: MIGRATETYPE_NAMES[z.allocMt[p]!] ?? '?', holder })
    }
  }
  return { allocated, anonymous, pageCache, perCpu, discardLists, sample }
}

export const zoneMiscounts = (s: MmState): ZoneMiscount[] => {
  const z = s.zone
  return z.zones.map((info) => {
    let listed = 0
    let stranded = 0
    let escaped = 0
    for (let o = 0; o < MAX_ORDER; o++)
      for (let mt = 0; mt < MIGRATE_TYPES; mt++)
        for (let p = z.freeHead[freeListIdx(info.idx, o, mt)]!; p !== NIL; p = z.next[p]!) {
          const pbIsolate = z.pageblockMt[p >> z.pageblockOrder] === MIGRATE_ISOLATE
          if (mt !== MIGRATE_ISOLATE) listed += 1 << o
          if (mt === MIGRATE_ISOLATE && !pbIsolate) stranded += 1 << o
          if (mt !== MIGRATE_ISOLATE && pbIsolate) escaped += 1 << o
        }
    return { zone: info.name, nrFreePages: info.nrFreePages, listed, miscount: info.nrFreePages - listed, stranded, escaped }
  })
}

export const isolationView = (s: MmState): IsolationView => {
  const iso = s.isolation
  return {
    config: { ...iso.config },
    ranges: [...iso.ranges.values()].map((r) => ({ ...r, zoneName: s.zone.zones[r.zone]!.name, inUse: r.status === 'ended' ? null : inUseOf(s, r) })),
    refused: iso.refused,
    work: { ...iso.work, entriesPerFree: iso.work.freesSearched === 0 ? 0 : iso.work.listEntriesSearched / iso.work.freesSearched },
    zones: zoneMiscounts(s),
  }
}

/** Whether a run did anything with isolation worth a summary section. */
export const isolationActive = (v: IsolationView): boolean => v.ranges.length > 0 || v.refused.length > 0

export const renderIsolationWork = (v: IsolationView): string => {
  const w = v.work
  let out = `  design           ${v.config.isolation === 'list' ? 'isolation list (the 2007 patch)' : 'MIGRATE_ISOLATE pageblocks (mainline)'}; ${Object.entries(v.config)
    .filter(([k]) => k !== 'isolation')
    .map(([k, val]) => `${k} ${val}`)
    .join(', ')}\n`
  out += `  work             ${w.freesSearched} frees searched the isolation_list (${w.listEntriesSearched} entries, ${w.entriesPerFree.toFixed(2)} per free); ${w.pagesMoved} pages moved between free lists; ${w.pagesCaptured} pages captured\n`
  for (const z of v.zones)
    if (z.miscount !== 0 || z.stranded !== 0 || z.escaped !== 0)
      out += `  ${z.zone.padEnd(16)} NR_FREE_PAGES ${z.nrFreePages}, non-isolate lists ${z.listed}: ${z.miscount} free pages miscounted; ${z.stranded} stranded on ISOLATE lists, ${z.escaped} on other lists in ISOLATE pageblocks\n`
  return out
}

const rangeLine = (r: IsolationView['ranges'][number]): string => {
  let out = `range ${r.id}: [${r.startPfn}, ${r.endPfn}) zone ${r.zoneName}, ${r.by}, ${r.design}, ${r.status}`
  if (r.outcome !== null) out += ` (${r.outcome}${r.errno !== null ? ` -${r.errno}` : ''}: ${r.reason})`
  out += `\n  registered at seq ${r.registeredSeq}${r.endedSeq !== null ? `, ended at seq ${r.endedSeq}` : ''}; ${r.pageblocks} pageblock(s) isolated by it, ${r.captured} page(s) captured, ${r.migrated} migrated, ${r.offlined} offlined\n`
  if (r.inUse !== null) {
    const u = r.inUse
    out += `  not isolated yet: ${u.allocated} in use (${u.anonymous} anonymous, ${u.pageCache} page cache, ${u.allocated - u.anonymous - u.pageCache} kernel), ${u.perCpu} on per-CPU lists, ${u.discardLists} on discarded-page lists\n`
    for (const x of u.sample) out += `    pfn ${x.pfn}: ${x.mt}, held by ${x.holder}\n`
  }
  return out
}

export const renderIsolation = (v: IsolationView): string => {
  let out = `page isolation\n${renderIsolationWork(v)}\n`
  if (v.ranges.length === 0) out += 'no range was isolated\n'
  for (const r of v.ranges) out += rangeLine(r)
  for (const r of v.refused) out += `refused at seq ${r.seq}: [${r.startPfn}, ${r.endPfn}) for ${r.by}: -${r.errno}: ${r.reason}\n`
  return out
}
