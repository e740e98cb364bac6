// The only place anonymous rmap state changes. Each event is one step mm/rmap.c or mm/mmap.c
// takes under its locks; the assertions check what a step needs of the state it meets (a broken
// one is a bug of mmsim's engine), while the simulated kernel's own bugs (a lost anon_vma, a
// freed one still named) are left for the invariants and monitors to find.
import type { EventOf, MmEvent } from '../../events'
import { absurd, assert, fail } from '../../lib'
import type { MmsState } from '../mm/state'
import { ANON_VPN_END, NO_ANON_VMA, type AnonVma, type AnonVmaState, type Vma } from './state'

const vmaOf = (s: AnonVmaState, id: number): Vma => {
  const v = s.vmas.get(id)
  if (v === undefined) fail(`VMA ${id} exists`)
  return v
}

const anonVmaOf = (s: AnonVmaState, id: number): AnonVma => {
  const av = s.anonVmas.get(id)
  if (av === undefined) fail(`anon_vma ${id} exists (it was not freed)`)
  return av
}

/** Keeps a process's VMA list sorted by start (vma_adjust moves starts; VMAs never overlap for long). */
const sortMm = (s: AnonVmaState, mm: number): void => {
  const ids = s.mmVmas.get(mm)
  if (ids !== undefined) ids.sort((a, b) => s.vmas.get(a)!.start - s.vmas.get(b)!.start || a - b)
}

const addVma = (s: AnonVmaState, v: Vma): void => {
  if (v.id !== s.nextVma) fail(`VMA ids are dense: ${v.id} is ${s.nextVma}`)
  if (!(v.start < v.end && v.end <= ANON_VPN_END)) fail(`VMA ${v.id} covers [${v.start}, ${v.end}) of the anonymous window`)
  s.nextVma++
  s.vmas.set(v.id, v)
  const ids = s.mmVmas.get(v.mm)
  if (ids === undefined) s.mmVmas.set(v.mm, [v.id])
  else ids.push(v.id)
  sortMm(s, v.mm)
}

const newAnonVma = (s: AnonVmaState, id: number, root: number, parent: number): AnonVma => {
  if (id !== s.nextAnonVma) fail(`anon_vma ids are dense: ${id} is ${s.nextAnonVma}`)
  s.nextAnonVma++
  const av: AnonVma = { id, root, parent, refcount: 1, numChildren: 0, numActiveVmas: 0, vmas: [], mappedPages: 0 }
  s.anonVmas.set(id, av)
  return av
}

/** anon_vma_chain_link: at the head of the VMA's chain, into the anon_vma's interval tree. */
const link = (v: Vma, av: AnonVma): void => {
  v.chain.unshift(av.id)
  av.vmas.push(v.id)
}

/** `av` becomes vma->anon_vma, linked and counted as an active VMA. */
const attach = (v: Vma, av: AnonVma): void => {
  v.anonVma = av.id
  link(v, av)
  av.numActiveVmas++
}

const removeOne = (list: number[], x: number): boolean => {
  const i = list.indexOf(x)
  if (i < 0) return false
  list.splice(i, 1)
  return true
}

const cloned = (s: AnonVmaState, e: EventOf<'AnonVmaCloned'>): void => {
  const dst = vmaOf(s, e.data.vma)
  const src = vmaOf(s, e.data.src)
  // list_for_each_entry_reverse over src's chain: oldest first, each linked at dst's head.
  for (let i = src.chain.length - 1; i >= 0; i--) link(dst, anonVmaOf(s, src.chain[i]!))
  const av = e.data.anonVma
  if (e.data.reused) {
    if (!(dst.anonVma === null && av !== null && src.chain.includes(av))) fail(`VMA ${dst.id} reuses an anon_vma of VMA ${src.id}'s chain`)
  } else if (dst.anonVma === null) {
    // dup_anon_vma (and legacy fork's anon_vma_link) set dst->anon_vma = src->anon_vma first.
    if (!(av === null || av === src.anonVma)) fail(`VMA ${dst.id} takes VMA ${src.id}'s anon_vma or none`)
  } else {
    if (av !== dst.anonVma) fail(`VMA ${dst.id} keeps its anon_vma`)
  }
  dst.anonVma = av
  if (av !== null) anonVmaOf(s, av).numActiveVmas++
}

const split = (s: AnonVmaState, e: EventOf<'VmaSplit'>): void => {
  const v = vmaOf(s, e.data.vma)
  const { at, newBelow } = e.data
  if (!(at > v.start && at < v.end)) fail(`VMA ${v.id} [${v.start}, ${v.end}) splits inside, at ${at}`)
  const delta = at - v.start
  const below = { start: v.start, end: at, pgoff: v.pgoff }
  const above = { start: at, end: v.end, pgoff: v.pgoff + delta }
  const n: Vma = { id: e.data.new, mm: v.mm, ...(newBelow ? below : above), writable: v.writable, anonVma: v.anonVma, chain: [], unlinked: false }
  // The copy is linked before it is inserted, so it covers its pages before the original stops to.
  for (let i = v.chain.length - 1; i >= 0; i--) link(n, anonVmaOf(s, v.chain[i]!))
  if (n.anonVma !== null) anonVmaOf(s, n.anonVma).numActiveVmas++
  Object.assign(v, newBelow ? above : below)
  addVma(s, n)
}

/** unlink_anon_vmas' first pass (mm/rmap.c): newest first, so a root is reached after its children. */
const unlinked = (s: AnonVmaState, e: EventOf<'AnonVmaUnlinked'>): void => {
  const v = vmaOf(s, e.data.vma)
  if (v.unlinked) fail(`VMA ${v.id} is unlinked once`)
  const emptied: number[] = []
  for (const id of [...v.chain]) {
    const av = anonVmaOf(s, id)
    if (!removeOne(av.vmas, v.id)) fail(`VMA ${v.id} is in anon_vma ${id}'s interval tree`)
    if (av.vmas.length === 0) {
      // Left on the VMA for the second pass; the parent loses a child now.
      emptied.push(id)
      // A parent freed before its child is the simulated kernel's use after free (the
      // rmap.anon-vma-freed-in-use monitor reports it); there is nothing left to count on.
      const parent = s.anonVmas.get(av.parent)
      if (parent !== undefined) parent.numChildren--
      continue
    }
    removeOne(v.chain, id)
  }
  if (!(emptied.length === e.data.emptied.length && emptied.every((x, i) => x === e.data.emptied[i]))) fail(`VMA ${v.id} empties anon_vmas ${emptied.join(',')}`)
  if (v.anonVma !== null) {
    const own = s.anonVmas.get(v.anonVma)
    if (own !== undefined) own.numActiveVmas--
  }
  v.unlinked = true
}

/** put_anon_vma, and __put_anon_vma's drop of the root's reference when a non-root is freed. */
const put = (s: AnonVmaState, e: EventOf<'AnonVmaPut'>): void => {
  const v = vmaOf(s, e.data.vma)
  if (!(v.unlinked && removeOne(v.chain, e.data.anonVma))) fail(`VMA ${v.id} holds emptied anon_vma ${e.data.anonVma} for the second pass`)
  const av = anonVmaOf(s, e.data.anonVma)
  const freed: number[] = []
  if (--av.refcount === 0) {
    s.anonVmas.delete(av.id)
    freed.push(av.id)
    // A root freed before its child (the simulated kernel's bug) has no pin left to drop.
    const root = av.root === av.id ? undefined : s.anonVmas.get(av.root)
    if (root !== undefined && --root.refcount === 0) {
      s.anonVmas.delete(root.id)
      freed.push(root.id)
    }
  }
  if (!(freed.length === e.data.freed.length && freed.every((x, i) => x === e.data.freed[i]))) fail(`put_anon_vma(${av.id}) frees ${freed.join(',') || 'nothing'}`)
}

/** The page's mapped count changes by `d`; its anon_vma counts it while it is mapped. */
const mapped = (s: AnonVmaState, pfn: number, d: 1 | -1): void => {
  const before = s.mapcount[pfn]!
  if (before + d < 0) fail(`anonymous page ${pfn} was mapped`)
  s.mapcount[pfn] = before + d
  if ((before === 0) !== (before + d === 0)) {
    const av = s.anonVmas.get(s.mapping[pfn]!)
    if (av !== undefined) av.mappedPages += d
  }
}

/** free_pages_prepare resets page->mapping; a freed page leaves the LRU. */
const freed = (s: AnonVmaState, pfn: number, npages: number): void => {
  for (let p = pfn; p < pfn + npages; p++) {
    if (s.mapping[p] === NO_ANON_VMA) continue
    if (!(s.mapcount[p] === 0 && s.isolated[p] === 0)) fail(`anonymous page ${p} is freed unmapped and not isolated`)
    s.mapping[p] = NO_ANON_VMA
    s.index[p] = -1
    s.lru.delete(p)
  }
}

/**
 * migrate_pages moved an anonymous page: the new page takes page->mapping, index and mapcount
 * (remove_migration_ptes) and the old one's place on the LRU (putback of the new page); the old
 * frame, isolated by the migration, is left unmapped for its free.
 */
const migrated = (s: AnonVmaState, from: number, to: number): void => {
  if (s.mapping[from] === NO_ANON_VMA) return
  s.mapping[to] = s.mapping[from]!
  s.index[to] = s.index[from]!
  s.mapcount[to] = s.mapcount[from]!
  s.mapping[from] = NO_ANON_VMA
  s.index[from] = -1
  s.mapcount[from] = 0
  s.isolated[from] = 0
  s.lru.delete(from)
  s.lru.add(to)
}

/** The processes whose anonymous pte maps `pfn` (in mmsim an anonymous page's address is its index). */
export const processesMapping = (s: AnonVmaState, mms: MmsState, pfn: number): number[] => {
  const vpn = s.index[pfn]!
  const out: number[] = []
  if (vpn < 0) return out
  for (const m of mms.mms.values()) if (m.ptes.get(vpn)?.pfn === pfn) out.push(m.id)
  return out
}

export const evolveAnonVma = (s: AnonVmaState, mms: MmsState, e: MmEvent): void => {
  switch (e.type) {
    case 'VmaMapped': {
      const d = e.data
      addVma(s, { id: d.vma, mm: d.mm, start: d.start, end: d.end, pgoff: d.pgoff, writable: d.writable, anonVma: null, chain: [], unlinked: false })
      return
    }
    case 'VmaSplit':
      return split(s, e)
    case 'VmaAdjusted': {
      const touched = new Set<number>()
      for (const r of e.data.vmas) {
        const v = vmaOf(s, r.vma)
        if (r.start >= r.end) fail(`VMA ${v.id} stays non-empty`)
        v.start = r.start
        v.end = r.end
        v.pgoff = r.pgoff
        touched.add(v.mm)
      }
      for (const mm of [...touched].sort((a, b) => a - b)) sortMm(s, mm)
      return
    }
    case 'VmaProtectionChanged':
      vmaOf(s, e.data.vma).writable = e.data.writable
      return
    case 'VmaRemoved': {
      const v = vmaOf(s, e.data.vma)
      if (v.chain.length !== 0) fail(`VMA ${v.id} was unlinked from every anon_vma before it is removed`)
      s.vmas.delete(v.id)
      const ids = s.mmVmas.get(v.mm)!
      removeOne(ids, v.id)
      if (ids.length === 0) s.mmVmas.delete(v.mm)
      return
    }
    case 'AnonVmaPrepared': {
      const v = vmaOf(s, e.data.vma)
      const av = e.data.mergeable ? anonVmaOf(s, e.data.anonVma) : newAnonVma(s, e.data.anonVma, e.data.anonVma, e.data.anonVma)
      // A new root counts its link to itself as a child (2555283eb40d); the VMA is active on it.
      if (!e.data.mergeable) av.numChildren++
      // Without the re-check a second thread overwrites the first one's vma->anon_vma here.
      return attach(v, av)
    }
    case 'AnonVmaCloned':
      return cloned(s, e)
    case 'AnonVmaCreated': {
      const v = vmaOf(s, e.data.vma)
      if (v.anonVma !== null) fail(`VMA ${v.id} has no anon_vma of its own yet`)
      const parent = anonVmaOf(s, e.data.parent)
      const av = newAnonVma(s, e.data.anonVma, parent.root, parent.id)
      // get_anon_vma(anon_vma->root): the root is pinned until this one is freed.
      anonVmaOf(s, parent.root).refcount++
      parent.numChildren++
      return attach(v, av)
    }
    case 'AnonVmaUnlinked':
      return unlinked(s, e)
    case 'AnonVmaPut':
      return put(s, e)
    case 'AnonRmapAdded': {
      const { pfn, anonVma, index } = e.data
      if (!(s.mapping[pfn] === NO_ANON_VMA && s.mapcount[pfn] === 0)) fail(`page ${pfn} gets its first anonymous mapping`)
      s.mapping[pfn] = anonVma
      s.index[pfn] = index
      // lru_cache_add: a new anonymous page goes on the LRU.
      s.lru.add(pfn)
      return
    }
    case 'AnonRmapMoved': {
      const { pfn, anonVma } = e.data
      if (s.mapping[pfn] === NO_ANON_VMA) fail(`page ${pfn} is anonymous`)
      if (s.mapcount[pfn]! > 0) {
        const old = s.anonVmas.get(s.mapping[pfn]!)
        if (old !== undefined) old.mappedPages--
        anonVmaOf(s, anonVma).mappedPages++
      }
      s.mapping[pfn] = anonVma
      return
    }
    case 'PteSet':
      if (e.data.vpn >= ANON_VPN_END) return
      if (s.mapping[e.data.pfn] === NO_ANON_VMA) s.ptesWithoutRmap++
      return mapped(s, e.data.pfn, 1)
    case 'PteCleared':
      if (e.data.vpn >= ANON_VPN_END) return
      mapped(s, e.data.pfn, -1)
      for (const w of s.walks.values()) if (w.pfn === e.data.pfn) removeOne(w.present, e.data.mm)
      return
    case 'AnonPageIsolated':
      if (!(s.lru.delete(e.data.pfn) && s.isolated[e.data.pfn] === 0)) fail(`page ${e.data.pfn} is on the anonymous LRU`)
      s.isolated[e.data.pfn] = 1
      return
    case 'AnonPagePutBack':
      if (s.isolated[e.data.pfn] !== 1) fail(`page ${e.data.pfn} was isolated`)
      s.isolated[e.data.pfn] = 0
      if (s.mapping[e.data.pfn] !== NO_ANON_VMA) s.lru.add(e.data.pfn)
      return
    case 'RmapWalkStarted': {
      assert(e.cpu !== null && !s.walks.has(e.cpu), 'a CPU runs one rmap walk at a time')
      s.walks.set(e.cpu, { pfn: e.data.pfn, anonVma: e.data.anonVma, walk: e.data.walk, mapcount: e.data.mapcount, present: processesMapping(s, mms, e.data.pfn) })
      return
    }
    case 'RmapWalkFinished': {
      assert(e.cpu !== null && s.walks.get(e.cpu)?.pfn === e.data.pfn, 'the walk that finishes is the one this CPU started')
      s.walks.delete(e.cpu)
      s.stats.walks++
      s.stats.visited += e.data.visited
      s.stats.visitedMax = Math.max(s.stats.visitedMax, e.data.visited)
      s.stats.mapped += e.data.mapped
      return
    }
    case 'PcpFreed':
      return freed(s, e.data.pfn, 1)
    // Anonymous pages are order 0 and freed through free_hot_cold_page's per-cpu lists; they are
    // never discarded by the host (page_discard takes page cache pages). A free by another way
    // would have to reset page->mapping here: say so rather than keep a stale one.
    case 'DiscardQueued':
      if (s.mapping[e.data.pfn] !== NO_ANON_VMA) fail(`anonymous page ${e.data.pfn} is freed through the per-cpu lists`)
      return
    // A page freed into an isolated pageblock bypasses the per-cpu lists (free_hot_cold_page), or
    // is captured on its way to free_area[] (the 2007 patch): it leaves its anon_vma as it would there.
    case 'PageFreed':
      if (e.data.from === 'page') freed(s, e.data.pfn, 1 << e.data.order)
      return
    case 'PageCaptured':
      if (e.data.from !== 'buddy') freed(s, e.data.pfn, 1 << e.data.order)
      return
    case 'PageMigrated':
      return migrated(s, e.data.from, e.data.to)
    case 'MmExited':
      if (s.mmVmas.has(e.data.mm)) fail(`process ${e.data.mm} removed its anonymous VMAs before it exits`)
      return
    // Events that change nothing here (EVENT_PROJECTIONS lists who changes on what).
    case 'MachineBooted':
    case 'PageAllocated':
    case 'PcpAllocated':
    case 'PcpDrained':
    case 'FreepagesMoved':
    case 'FreeBlockMoved':
    case 'PageblockMigratetypeSet':
    case 'PageAllocFailed':
    case 'PageStateChanged':
    case 'HostDiscarded':
    case 'HostPagedOut':
    case 'PageFlagsChanged':
    case 'PageCacheAdded':
    case 'PageCacheRemoved':
    case 'PageGot':
    case 'PagePut':
    case 'PageUseStarted':
    case 'PageUseEnded':
    case 'PteWriteChanged':
    case 'MmCreated':
    case 'FileMapped':
    case 'DiscardFault':
    case 'DiscardFaultPinned':
    case 'DiscardCollectionStarted':
    case 'DiscardListSpliced':
    case 'DiscardCollectionFreed':
    case 'DiscardListMoved':
    case 'CpuWentOffline':
    case 'CpuWentOnline':
    case 'ReclaimRan':
    case 'InvariantViolated':
    case 'DeadlockDetected':
    case 'ReportingRequested':
    case 'ReportingWorkStarted':
    case 'ReportingPagesPulled':
    case 'AerationRequestCleared':
    case 'ReportingHostReacted':
    case 'AerationBoundariesPopulated':
    case 'ReportingPagesReturned':
    case 'BoundaryMoved':
    case 'AerationActiveCleared':
    case 'FreeListRotated':
    case 'ReportingWorkFinished':
    case 'OpSkipped':
    case 'IsolationRegistered':
    case 'IsolationRefused':
    case 'PageblockIsolated':
    case 'PageblockUnisolated':
    case 'RangeIsolated':
    case 'IsolatedPageReleased':
    case 'PagesOfflined':
    case 'ContigRangeTaken':
    case 'IsolationEnded':
      return
    default:
      return absurd(e)
  }
}
