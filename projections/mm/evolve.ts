// The only place process state changes.
import type { MmEvent } from '../../events'
import { absurd, fail } from '../../lib'
import type { ZoneState } from '../zone/state'
import type { MmsState } from './state'

export const evolveMms = (s: MmsState, zone: ZoneState, e: MmEvent): void => {
  switch (e.type) {
    case 'MmCreated': {
      const { mm, parent } = e.data
      if (s.mms.has(mm)) fail(`process ${mm} is new`)
      const files = parent === null ? [] : [...s.mms.get(parent)!.files]
      s.mms.set(mm, { id: mm, parent, ptes: new Map(), files })
      // dup_mmap: the child's VMAs join each i_mmap before any pte is copied.
      for (const f of files) s.iMmap.get(f)!.unshift(mm)
      return
    }
    case 'FileMapped': {
      const m = s.mms.get(e.data.mm)
      if (m === undefined) fail(`process ${e.data.mm} exists`)
      if (m.files.includes(e.data.file)) return
      m.files.push(e.data.file)
      const list = s.iMmap.get(e.data.file) ?? []
      list.unshift(e.data.mm)
      s.iMmap.set(e.data.file, list)
      return
    }
    case 'MmExited': {
      const m = s.mms.get(e.data.mm)
      if (!(m !== undefined && m.ptes.size === 0)) fail(`process ${e.data.mm} exits with no pte left`)
      for (const f of m.files) {
        const list = s.iMmap.get(f)!
        list.splice(list.indexOf(m.id), 1)
      }
      s.mms.delete(m.id)
      return
    }
    case 'PteSet': {
      const m = s.mms.get(e.data.mm)
      if (!(m !== undefined && !m.ptes.has(e.data.vpn))) fail(`process ${e.data.mm} has no pte at ${e.data.vpn} yet`)
      m.ptes.set(e.data.vpn, { pfn: e.data.pfn, gen: zone.gen[e.data.pfn]!, writable: e.data.writable })
      return
    }
    case 'PteWriteChanged': {
      const m = s.mms.get(e.data.mm)
      const pte = m?.ptes.get(e.data.vpn)
      if (!(pte !== undefined && pte.pfn === e.data.pfn)) fail(`process ${e.data.mm} maps ${e.data.pfn} at ${e.data.vpn}`)
      // Replaced in place: the pte keeps its position in the process's table.
      m!.ptes.set(e.data.vpn, { ...pte, writable: e.data.writable })
      return
    }
    case 'PteCleared': {
      const m = s.mms.get(e.data.mm)
      if (!(m?.ptes.get(e.data.vpn)?.pfn === e.data.pfn)) fail(`process ${e.data.mm} maps ${e.data.pfn} at ${e.data.vpn}`)
      m!.ptes.delete(e.data.vpn)
      return
    }
    case 'PageMigrated': {
      // remove_migration_ptes: every pte that mapped the old frame maps the new one.
      const { from, to } = e.data
      for (const m of s.mms.values()) for (const [vpn, pte] of m.ptes) if (pte.pfn === from) m.ptes.set(vpn, { ...pte, pfn: to, gen: zone.gen[to]! })
      return
    }
    // Events that change nothing here (EVENT_PROJECTIONS lists who changes on what).
    case 'MachineBooted':
    case 'PageAllocated':
    case 'PcpAllocated':
    case 'PageFreed':
    case 'PcpFreed':
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
    case 'DiscardFault':
    case 'DiscardFaultPinned':
    case 'DiscardQueued':
    case 'DiscardCollectionStarted':
    case 'DiscardListSpliced':
    case 'DiscardCollectionFreed':
    case 'DiscardListMoved':
    case 'CpuWentOffline':
    case 'CpuWentOnline':
    case 'ReclaimRan':
    case 'InvariantViolated':
    case 'DeadlockDetected':
    case 'VmaMapped':
    case 'VmaSplit':
    case 'VmaAdjusted':
    case 'VmaProtectionChanged':
    case 'VmaRemoved':
    case 'AnonVmaPrepared':
    case 'AnonVmaCloned':
    case 'AnonVmaCreated':
    case 'AnonVmaUnlinked':
    case 'AnonVmaPut':
    case 'AnonRmapAdded':
    case 'AnonRmapMoved':
    case 'AnonPageIsolated':
    case 'AnonPagePutBack':
    case 'RmapWalkStarted':
    case 'RmapWalkFinished':
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
    case 'PageCaptured':
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
