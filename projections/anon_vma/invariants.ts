// State invariants of anonymous reverse mapping (kernel-facts.md §3, "Invariants"), checkable at
// any seq: the chains and interval trees agree, one tree per VMA, VMAs that share an anon_vma
// share a chain, the counters equal the structure, mapcounts equal the ptes, and every mapped
// anonymous page is reachable from every VMA that maps it. (Reuse's bound on anon_vmas is a
// monitor, monitors.ts: it holds at each fork, not in every state.)
import { violation, type StateInvariant } from '../invariants'
import type { MmState } from '../state'
import { ANON_VPN_END, NO_ANON_VMA, findVma, vmaAddress, type AnonVmaState, type Vma } from './state'

type Check = StateInvariant<MmState>

const live = (s: AnonVmaState): Vma[] => [...s.vmas.values()].filter((v) => !v.unlinked)

export const chains: Check = {
  name: 'rmap.chains',
  description:
    "every VMA is linked (anon_vma_chain) to its own anon_vma, each link is in both the VMA's chain and the anon_vma's interval tree, and all the anon_vmas of one chain share one root",
  check: (s) => {
    const a = s.anonVma
    const name = 'rmap.chains'
    for (const v of a.vmas.values()) {
      for (const id of v.chain) {
        const av = a.anonVmas.get(id)
        if (av === undefined) return violation(name, `VMA ${v.id} (process ${v.mm}) is chained to anon_vma ${id}, which was freed`)
        if (!v.unlinked && !av.vmas.includes(v.id)) return violation(name, `VMA ${v.id} is chained to anon_vma ${id}, whose interval tree does not hold it`)
      }
      if (v.unlinked) continue
      if (v.anonVma !== null && !v.chain.includes(v.anonVma)) return violation(name, `VMA ${v.id} (process ${v.mm}) uses anon_vma ${v.anonVma} but has no anon_vma_chain to it`)
      const roots = [...new Set(v.chain.map((id) => a.anonVmas.get(id)!.root))]
      if (roots.length > 1)
        return violation(
          name,
          `VMA ${v.id} (process ${v.mm}) is chained to anon_vmas of ${roots.length} trees (roots ${roots.join(', ')}): chain ${v.chain.join(' → ')}, vma->anon_vma ${v.anonVma}`,
        )
    }
    for (const av of a.anonVmas.values())
      for (const id of av.vmas) {
        const v = a.vmas.get(id)
        if (v === undefined || !v.chain.includes(av.id)) return violation(name, `anon_vma ${av.id}'s interval tree holds VMA ${id}, which is not chained to it`)
      }
    return null
  },
}

const sameSet = (x: readonly number[], y: readonly number[]): boolean => {
  if (x.length !== y.length) return false
  const sx = [...x].sort((p, q) => p - q)
  const sy = [...y].sort((p, q) => p - q)
  return sx.every((v, i) => v === sy[i])
}

export const sameAnonVmaSameChain: Check = {
  name: 'rmap.same-anon-vma-same-chain',
  description: 'VMAs with the same vma->anon_vma are chained to the same anon_vmas (vma_merge and is_mergeable_anon_vma rely on it)',
  check: (s) => {
    const first = new Map<number, Vma>()
    for (const v of live(s.anonVma)) {
      if (v.anonVma === null) continue
      const w = first.get(v.anonVma)
      if (w === undefined) first.set(v.anonVma, v)
      else if (!sameSet(v.chain, w.chain))
        return violation(
          'rmap.same-anon-vma-same-chain',
          `VMAs ${w.id} (process ${w.mm}) and ${v.id} (process ${v.mm}) both use anon_vma ${v.anonVma} but are chained to ${w.chain.join(',')} and ${v.chain.join(',')}`,
        )
    }
    return null
  },
}

export const counts: Check = {
  name: 'rmap.counts',
  description:
    "each anon_vma's refcount (its own while it has a tree, plus a root's pin per non-root of its tree), num_children (children with a tree, plus a root's link to itself) and num_active_vmas (VMAs using it) equal the structure",
  check: (s) => {
    const a = s.anonVma
    const active = new Map<number, number>()
    for (const v of live(a)) if (v.anonVma !== null) active.set(v.anonVma, (active.get(v.anonVma) ?? 0) + 1)
    // An emptied anon_vma keeps its own reference until unlink_anon_vmas' second pass puts it.
    const pending = new Set<number>()
    for (const v of a.vmas.values()) if (v.unlinked) for (const id of v.chain) pending.add(id)
    const children = new Map<number, number>()
    const pins = new Map<number, number>()
    for (const av of a.anonVmas.values()) {
      if (av.vmas.length > 0) children.set(av.parent, (children.get(av.parent) ?? 0) + 1)
      if (av.root !== av.id) pins.set(av.root, (pins.get(av.root) ?? 0) + 1)
    }
    for (const av of a.anonVmas.values()) {
      const own = av.vmas.length > 0 || pending.has(av.id) ? 1 : 0
      const want = { refcount: own + (pins.get(av.id) ?? 0), numChildren: children.get(av.id) ?? 0, numActiveVmas: active.get(av.id) ?? 0 }
      for (const k of ['refcount', 'numChildren', 'numActiveVmas'] as const)
        if (av[k] !== want[k]) return violation('rmap.counts', `anon_vma ${av.id} has ${k} ${av[k]}, but the structure gives ${want[k]}`)
    }
    return null
  },
}

/** Anonymous ptes per frame, counted from the page tables. */
const ptesPerFrame = (s: MmState): Int32Array => {
  const n = new Int32Array(s.anonVma.pfnEnd)
  for (const m of s.mms.mms.values()) for (const [vpn, pte] of m.ptes) if (vpn < ANON_VPN_END) n[pte.pfn]!++
  return n
}

export const mapcounts: Check = {
  name: 'rmap.mapcount',
  description: "an anonymous page's mapcount equals the ptes that map it",
  check: (s) => {
    const n = ptesPerFrame(s)
    const mc = s.anonVma.mapcount
    for (let pfn = 0; pfn < mc.length; pfn++)
      if (mc[pfn] !== n[pfn]) return violation('rmap.mapcount', `anonymous page ${pfn} has mapcount ${mc[pfn]} but ${n[pfn]} pte(s) map it`, pfn)
    return null
  },
}

/** Why the pte of `mm` at `vpn` cannot be found by an rmap walk of its page, or null. */
export const unreachable = (a: AnonVmaState, mm: number, vpn: number, pfn: number): string | null => {
  const id = a.mapping[pfn]!
  const av = a.anonVmas.get(id)
  if (av === undefined) return id < 0 ? 'it has no anon_vma' : `its page->mapping names anon_vma ${id}, which was freed`
  const v = findVma(a, mm, vpn)
  if (v === undefined) return 'no VMA of the process covers it'
  if (!v.chain.includes(id)) return `VMA ${v.id} is not chained to anon_vma ${id} (its chain: ${v.chain.join(',') || 'empty'})`
  if (vmaAddress(v, a.index[pfn]!) !== vpn) return `VMA ${v.id} places page index ${a.index[pfn]} at ${vmaAddress(v, a.index[pfn]!)}`
  return null
}

export const reachable: Check = {
  name: 'rmap.pages-reachable',
  description: "every mapped anonymous page's anon_vma is alive and chained to each VMA that maps it, at the address the pte is at: an rmap walk finds every pte",
  check: (s) => {
    const a = s.anonVma
    for (const m of s.mms.mms.values())
      for (const [vpn, pte] of m.ptes) {
        if (vpn >= ANON_VPN_END) continue
        // A run stored before this model mapped anonymous pages without an rmap: nothing to find them by.
        if (a.ptesWithoutRmap > 0 && a.mapping[pte.pfn] === NO_ANON_VMA) continue
        const why = unreachable(a, m.id, vpn, pte.pfn)
        if (why !== null) return violation('rmap.pages-reachable', `process ${m.id} maps anonymous page ${pte.pfn} at ${vpn}, but an rmap walk cannot find it: ${why}`, pte.pfn)
      }
    return null
  },
}

export const anonVmaInvariants: readonly Check[] = [chains, sameAnonVmaSameChain, counts, mapcounts, reachable]
