// The frames an event touches, as [pfn, pfn + npages): stored beside each event so that "what
// happened to frame X" is an index range scan.
import type { MmEvent } from './index'

export interface Span {
  readonly pfn: number
  readonly npages: number
}

const absurd = (x: never): never => {
  throw new Error(`unhandled event ${JSON.stringify(x)}`)
}

export const eventSpan = (e: MmEvent): Span | null => {
  switch (e.type) {
    case 'PageAllocated':
      return { pfn: e.data.pfn, npages: 1 << e.data.fromOrder }
    case 'PageFreed': {
      const order = e.data.order + e.data.merges
      return { pfn: e.data.pfn & ~((1 << order) - 1), npages: 1 << order }
    }
    case 'PcpAllocated':
    case 'PcpFreed':
      return { pfn: e.data.pfn, npages: 1 }
    case 'FreepagesMoved':
    case 'PageblockMigratetypeSet':
      return { pfn: e.data.pfn, npages: e.data.pages }
    case 'FreeBlockMoved':
      return { pfn: e.data.pfn, npages: 1 << e.data.order }
    case 'InvariantViolated':
      return e.data.pfn === undefined ? null : { pfn: e.data.pfn, npages: 1 }
    case 'MachineBooted':
    case 'PcpDrained':
    case 'PageAllocFailed':
    case 'DeadlockDetected':
    case 'OpSkipped':
      return null
    default:
      return absurd(e)
  }
}
