// The anon_vma projection as data and as text: every anon_vma tree (root first, each node with
// its refcount, num_children, num_active_vmas and the VMAs of its interval tree), each process's
// VMAs with their chains, and one page's rmap with the VMAs a walk of it would visit. `mmsim
// state anon-vma` prints it; the same data is its --json.
import type { RmapConfig } from '../../events/machine'
import type { MmState } from '../state'
import { NO_ANON_VMA, vmaAddress, vmasOf, type AnonVma, type AnonVmaState, type RmapWalkStats } from './state'

const hex = (n: number): string => `0x${n.toString(16)}`

/** VMAs listed per tree node in text; --json lists them all. */
const LIST_ITEMS_MAX = 12

export interface AnonVmaNode {
  readonly id: number
  readonly root: number
  readonly parent: number
  readonly refcount: number
  readonly numChildren: number
  readonly numActiveVmas: number
  readonly mappedPages: number
  /** The interval tree's VMAs, as process/VMA. */
  readonly vmas: readonly { readonly mm: number; readonly vma: number }[]
  readonly children: readonly AnonVmaNode[]
}

export interface VmaRow {
  readonly id: number
  readonly start: number
  readonly end: number
  readonly pgoff: number
  readonly writable: boolean
  readonly anonVma: number | null
  readonly chain: readonly number[]
  /** Anonymous ptes of the process inside the VMA. */
  readonly ptes: number
}

export interface PageRmap {
  readonly pfn: number
  /** page->mapping: the anon_vma id, or null when the page is not anonymous. */
  readonly anonVma: number | null
  /** Whether that anon_vma was freed (page->mapping is stale then). */
  readonly freed: boolean
  readonly root: number | null
  readonly index: number
  readonly mapcount: number
  readonly isolated: boolean
  readonly onLru: boolean
  /** The VMAs an rmap walk of the page would visit now, and whether each maps it. */
  readonly walk: readonly { readonly mm: number; readonly vma: number; readonly address: number; readonly maps: boolean }[]
}

export interface AnonVmaView {
  readonly config: RmapConfig
  readonly totals: {
    readonly processes: number
    readonly vmas: number
    readonly anonVmas: number
    readonly trees: number
    readonly chains: number
    readonly mappedPages: number
    readonly ptes: number
  }
  readonly walks: RmapWalkStats
  readonly trees: readonly AnonVmaNode[]
  readonly processes: readonly { readonly mm: number; readonly vmas: readonly VmaRow[] }[]
  readonly page: PageRmap | null
}

const node = (a: AnonVmaState, av: AnonVma, children: Map<number, AnonVma[]>): AnonVmaNode => ({
  id: av.id,
  root: av.root,
  parent: av.parent,
  refcount: av.refcount,
  numChildren: av.numChildren,
  numActiveVmas: av.numActiveVmas,
  mappedPages: av.mappedPages,
  vmas: av.vmas.map((id) => ({ mm: a.vmas.get(id)!.mm, vma: id })),
  children: (children.get(av.id) ?? []).map((c) => node(a, c, children)),
})

/** The trees of anon_vmas, each from its root (an anon_vma whose parent was freed heads its own). */
const forest = (a: AnonVmaState): AnonVmaNode[] => {
  const children = new Map<number, AnonVma[]>()
  const tops: AnonVma[] = []
  for (const av of a.anonVmas.values()) {
    if (av.parent === av.id || !a.anonVmas.has(av.parent)) tops.push(av)
    else children.set(av.parent, [...(children.get(av.parent) ?? []), av])
  }
  return tops.map((t) => node(a, t, children))
}

const treeHas = (n: AnonVmaNode, ids: ReadonlySet<number>): boolean => ids.has(n.id) || n.children.some((c) => treeHas(c, ids))

/** One page's rmap and the walk rmap_walk_anon would make of it now. */
export const pageRmap = (s: MmState, pfn: number): PageRmap => {
  const a = s.anonVma
  const id = a.mapping[pfn]!
  const av = id === NO_ANON_VMA ? undefined : a.anonVmas.get(id)
  const index = a.index[pfn]!
  const walk = (av?.vmas ?? []).flatMap((vid) => {
    const v = a.vmas.get(vid)!
    const address = vmaAddress(v, index)
    return address < 0 ? [] : [{ mm: v.mm, vma: v.id, address, maps: s.mms.mms.get(v.mm)?.ptes.get(address)?.pfn === pfn }]
  })
  return {
    pfn,
    anonVma: id === NO_ANON_VMA ? null : id,
    freed: id !== NO_ANON_VMA && av === undefined,
    root: av?.root ?? null,
    index,
    mapcount: a.mapcount[pfn]!,
    isolated: a.isolated[pfn] === 1,
    onLru: a.lru.has(pfn),
    walk,
  }
}

export interface AnonVmaQuery {
  /** Only this process's VMAs, and the trees they are chained to. */
  readonly mm?: number | undefined
  /** This page's rmap, and only its tree. */
  readonly pfn?: number | undefined
}

export const anonVmaView = (s: MmState, q: AnonVmaQuery = {}): AnonVmaView => {
  const a = s.anonVma
  const mms = [...a.mmVmas.keys()].sort((x, y) => x - y)
  const processes = mms
    .filter((mm) => q.mm === undefined || mm === q.mm)
    .map((mm) => {
      const ptes = s.mms.mms.get(mm)?.ptes
      return {
        mm,
        vmas: vmasOf(a, mm).map((v) => {
          let n = 0
          if (ptes !== undefined) for (const vpn of ptes.keys()) if (vpn >= v.start && vpn < v.end) n++
          return { id: v.id, start: v.start, end: v.end, pgoff: v.pgoff, writable: v.writable, anonVma: v.anonVma, chain: [...v.chain], ptes: n }
        }),
      }
    })
  let trees = forest(a)
  const page = q.pfn === undefined ? null : pageRmap(s, q.pfn)
  if (q.mm !== undefined) {
    const ids = new Set(processes.flatMap((p) => p.vmas.flatMap((v) => v.chain)))
    trees = trees.filter((t) => treeHas(t, ids))
  }
  if (page !== null) trees = trees.filter((t) => page.anonVma !== null && treeHas(t, new Set([page.anonVma])))
  let chains = 0
  let ptes = 0
  let mappedPages = 0
  for (const v of a.vmas.values()) chains += v.chain.length
  for (let pfn = 0; pfn < a.pfnEnd; pfn++) {
    ptes += a.mapcount[pfn]!
    if (a.mapcount[pfn]! > 0) mappedPages++
  }
  return {
    config: a.config,
    totals: { processes: mms.length, vmas: a.vmas.size, anonVmas: a.anonVmas.size, trees: forest(a).length, chains, mappedPages, ptes },
    walks: { ...a.stats },
    trees,
    processes,
    page,
  }
}

const vmaList = (vs: AnonVmaNode['vmas']): string => {
  const shown = vs.slice(0, LIST_ITEMS_MAX).map((v) => `mm${v.mm}/vma${v.vma}`)
  return vs.length > LIST_ITEMS_MAX ? `${shown.join(' ')} ... ${vs.length - LIST_ITEMS_MAX} more` : shown.join(' ') || '-'
}

const renderNode = (n: AnonVmaNode, prefix: string, last: boolean, top: boolean): string => {
  const branch = top ? '' : last ? '└─ ' : '├─ '
  let out = `${prefix}${branch}av${n.id}${n.id === n.root ? ' (root)' : ''}  ref ${n.refcount}  children ${n.numChildren}  active ${n.numActiveVmas}  pages ${n.mappedPages}  vmas ${vmaList(n.vmas)}\n`
  const next = top ? prefix : `${prefix}${last ? '   ' : '│  '}`
  n.children.forEach((c, i) => (out += renderNode(c, next, i === n.children.length - 1, false)))
  return out
}

export const renderAnonVma = (v: AnonVmaView): string => {
  const c = v.config
  const t = v.totals
  let out = `anon_vma linking ${c.anonVmaLinking}, lockRmap ${c.lockRmap}, anonVmaReuse ${c.anonVmaReuse}, anonVmaPrepare ${c.anonVmaPrepare}\n`
  out += `${t.vmas} anonymous VMA(s) in ${t.processes} process(es), ${t.anonVmas} anon_vma(s) in ${t.trees} tree(s), ${t.chains} anon_vma_chain(s); ${t.mappedPages} anonymous page(s) mapped by ${t.ptes} pte(s)\n`
  const w = v.walks
  out += `rmap walks: ${w.walks}${w.walks > 0 ? `, ${w.visited} VMA(s) visited (${(w.visited / w.walks).toFixed(2)} per walk, at most ${w.visitedMax}), ${w.mapped} pte(s) found` : ''}\n`
  if (v.page !== null) {
    const p = v.page
    out += `\npage ${hex(p.pfn)}: `
    if (p.anonVma === null) out += 'not anonymous (no page->mapping)\n'
    else {
      out += `page->mapping av${p.anonVma}${p.freed ? ' (freed: stale)' : ` (root av${p.root})`}, index ${hex(p.index)}, mapcount ${p.mapcount}${p.isolated ? ', isolated by a walker' : p.onLru ? ', on the LRU' : ''}\n`
      out += `  an rmap walk visits ${p.walk.length} VMA(s)${p.walk.length > 0 ? ':' : ''}\n`
      for (const x of p.walk) out += `    mm${x.mm}/vma${x.vma} at ${hex(x.address)}: ${x.maps ? 'maps it' : 'does not map it'}\n`
    }
  }
  out += '\nanon_vma trees (refcount, num_children, num_active_vmas, mapped pages naming it, the VMAs of its interval tree)\n'
  if (v.trees.length === 0) out += '  none\n'
  for (const n of v.trees) out += renderNode(n, '  ', true, true)
  out += '\nprocesses (each anonymous VMA: range, vm_pgoff, protection, vma->anon_vma, anon_vma_chain newest first, ptes)\n'
  if (v.processes.length === 0) out += '  none\n'
  for (const p of v.processes) {
    out += `  process ${p.mm}\n`
    for (const r of p.vmas)
      out += `    vma${r.id}  [${hex(r.start)}, ${hex(r.end)})  pgoff ${hex(r.pgoff)}  ${r.writable ? 'rw' : 'ro'}  anon_vma ${r.anonVma === null ? '-' : `av${r.anonVma}`}  chain ${r.chain.map((x) => `av${x}`).join(' → ') || '-'}  ${r.ptes} pte(s)\n`
  }
  return out
}
