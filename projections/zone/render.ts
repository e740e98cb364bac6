// /proc/buddyinfo and /proc/pagetypeinfo in the kernel's own format (mm/vmstat.c: frag_show_print,
// pagetypeinfo_showfree_print, pagetypeinfo_showblockcount_print), so existing parsers read them.
import { MAX_ORDER, MIGRATETYPE_NAMES, MIGRATE_TYPES } from '../../events/codecs'
import { padLeft, padRight } from '../printf'
import { freeListIdx, nrFreeIdx, type ZoneState } from './state'

const NODE = 0

/** "Node %d, zone %8s " then "%6lu " per order. */
export const renderBuddyinfo = (s: ZoneState): string => {
  let out = ''
  for (const z of s.zones) {
    out += `Node ${NODE}, zone ${padLeft(z.name, 8)} `
    for (let o = 0; o < MAX_ORDER; o++) out += `${padLeft(s.nrFree[nrFreeIdx(z.idx, o)]!, 6)} `
    out += '\n'
  }
  return out
}

export const renderPagetypeinfo = (s: ZoneState): string => {
  let out = `Page block order: ${s.pageblockOrder}\n`
  out += `Pages per block:  ${s.pageblockPages}\n\n`
  out += `${padRight('Free pages count per migrate type at order', 43)} `
  for (let o = 0; o < MAX_ORDER; o++) out += `${padLeft(o, 6)} `
  out += '\n'
  for (const z of s.zones) {
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
      out += `Node ${padLeft(NODE, 4)}, zone ${padLeft(z.name, 8)}, type ${padLeft(MIGRATETYPE_NAMES[mt]!, 12)} `
      for (let o = 0; o < MAX_ORDER; o++) out += `${padLeft(s.freeLen[freeListIdx(z.idx, o, mt)]!, 6)} `
      out += '\n'
    }
  }
  out += `\n${padRight('Number of blocks type ', 23)}`
  for (let mt = 0; mt < MIGRATE_TYPES; mt++) out += `${padLeft(MIGRATETYPE_NAMES[mt]!, 12)} `
  out += '\n'
  for (const z of s.zones) {
    const counts = new Array<number>(MIGRATE_TYPES).fill(0)
    for (let p = z.startPfn; p < z.endPfn; p += s.pageblockPages) counts[s.pageblockMt[p >> s.pageblockOrder]!]!++
    out += `Node ${NODE}, zone ${padLeft(z.name, 8)} `
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) out += `${padLeft(counts[mt]!, 12)} `
    out += '\n'
  }
  return out
}

/** A JSON view of the same numbers, for programs (`--json`). */
export const zoneSummary = (s: ZoneState) =>
  s.zones.map((z) => ({
    zone: z.name,
    managed: z.managed,
    nrFreePages: z.nrFreePages,
    pcpPages: z.pcpPages,
    allocatedPages: z.allocatedPages,
    watermarks: z.watermarks,
    nrFree: Array.from({ length: MAX_ORDER }, (_, o) => s.nrFree[nrFreeIdx(z.idx, o)]!),
    freeByMigratetype: Object.fromEntries(MIGRATETYPE_NAMES.map((name, mt) => [name, Array.from({ length: MAX_ORDER }, (_, o) => s.freeLen[freeListIdx(z.idx, o, mt)]!)])),
  }))
