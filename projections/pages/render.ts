// Text and JSON views of the pages projection: the state distribution (as the GPH09 cover
// letter reports it: S, U, P, V and how many are resident) and a per-frame table.
import { PAGE_STATES } from '../../events/hinting'
import { padLeft } from '../printf'
import type { MmState } from '../state'
import { FRAME_ABSENT, FRAME_ALLOCATED, FRAME_BUDDY, FRAME_CAPTURED, FRAME_DISCARD, FRAME_PCP, FRAME_REPORTING } from '../zone/state'
import { flagNames } from './state'
import { contentOf, stateName, usageOf } from './states'

export const stateDistribution = (s: MmState) => {
  const p = s.pages
  if (p === null) return null
  const byState = Object.fromEntries(PAGE_STATES.map((st, i) => [st, p.stateCounts[i]!]))
  const usage = { S: 0, U: 0, V: 0, P: 0 }
  let resident = 0
  PAGE_STATES.forEach((st, i) => {
    usage[usageOf(st)] += p.stateCounts[i]!
    if (contentOf(st) === 'r') resident += p.stateCounts[i]!
  })
  return { byState, usage, resident, frames: s.zone.pfnEnd }
}

/** Who holds a frame, in words: the page cache, a process, an allocator list, or a kernel user. */
export const frameOwner = (s: MmState, pfn: number): string => {
  const z = s.zone
  const p = s.pages
  switch (z.frame[pfn]) {
    case FRAME_ABSENT:
      return 'not managed'
    case FRAME_BUDDY:
      return 'free (buddy)'
    case FRAME_PCP:
      return `free (cpu${z.pcpCpu[pfn]} pcp)`
    case FRAME_DISCARD: {
      const cpu = s.cpus.discardLists.findIndex((l) => l.includes(pfn))
      if (cpu >= 0) return `cpu${cpu} discarded-page list`
      const by = [...s.cpus.collecting.entries()].find(([, g]) => g.pfns.includes(pfn))
      return by === undefined ? 'discarded, unlisted' : `collected by cpu${by[0]}`
    }
    case FRAME_ALLOCATED:
      if (p !== null && p.file[pfn]! >= 0) return `file ${p.file[pfn]} index ${p.index[pfn]}`
      if (s.anonVma.mapcount[pfn]! > 0 || (p !== null && p.mapcount[pfn]! > 0)) return 'anonymous'
      return 'kernel'
    case FRAME_CAPTURED:
      return `captured by isolation range ${s.isolation.capturedBy[pfn]}`
    case FRAME_REPORTING:
      return 'in a free page reporting batch'
    default:
      return 'tail of a block'
  }
}

export interface FrameRow {
  readonly pfn: number
  readonly state: string
  readonly owner: string
  readonly flags: string[]
  readonly refcount: number
  readonly mapcount: number
  readonly uses: number
  readonly gen: number
}

export const frameRows = (s: MmState, from: number, count: number): FrameRow[] => {
  const rows: FrameRow[] = []
  const p = s.pages
  for (let pfn = from; pfn < Math.min(s.zone.pfnEnd, from + count); pfn++)
    rows.push({
      pfn,
      state: p === null ? '-' : stateName(p.pstate[pfn]!),
      owner: frameOwner(s, pfn),
      flags: p === null ? [] : flagNames(p.flags[pfn]!),
      refcount: p?.refcount[pfn] ?? 0,
      mapcount: p?.mapcount[pfn] ?? 0,
      uses: p?.uses[pfn] ?? 0,
      gen: s.zone.gen[pfn]!,
    })
  return rows
}

/** Frames in hex, as dump_page and the tracepoints print them (`--json` keeps the numbers). */
export const renderPages = (s: MmState, from: number, count: number): string => {
  const d = stateDistribution(s)
  let out = ''
  if (d === null) out += 'guest page hinting is off: frames have no hinted state\n'
  else {
    out += `frames ${d.frames}: S ${d.usage.S}, U ${d.usage.U}, P ${d.usage.P}, V ${d.usage.V}, of which ${d.resident} resident\n`
    out += `by state: ${PAGE_STATES.map((st) => `${st} ${d.byState[st]}`).join(', ')}\n`
  }
  out += `\n${padLeft('pfn', 8)}  state  ${'owner'.padEnd(28)} ${padLeft('ref', 4)} ${padLeft('map', 4)} ${padLeft('use', 4)} ${padLeft('gen', 6)}  flags\n`
  for (const r of frameRows(s, from, count))
    out += `${padLeft(`0x${r.pfn.toString(16)}`, 8)}  ${r.state.padEnd(5)}  ${r.owner.padEnd(28)} ${padLeft(r.refcount, 4)} ${padLeft(r.mapcount, 4)} ${padLeft(r.uses, 4)} ${padLeft(r.gen, 6)}  ${r.flags.join('|')}\n`
  return out
}

/** The page cache, file by file: which frame holds each index, in what state. */
export const renderPageCache = (s: MmState, limit = 200): string => {
  const p = s.pages
  if (p === null) return ''
  const entries = [...p.cache.values()].sort((a, b) => p.file[a]! - p.file[b]! || p.index[a]! - p.index[b]!)
  let out = `page cache: ${entries.length} pages\n`
  for (const pfn of entries.slice(0, limit))
    out += `  file ${p.file[pfn]} index ${p.index[pfn]}: frame 0x${pfn.toString(16)} ${stateName(p.pstate[pfn]!)} ${flagNames(p.flags[pfn]!).join('|')}\n`
  if (entries.length > limit) out += `  ... ${entries.length - limit} more\n`
  return out
}
