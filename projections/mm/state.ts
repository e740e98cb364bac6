// Processes as guest page hinting needs them: page tables (vpn -> pfn, with the frame's
// generation when the pte was set) and each file's i_mmap, the list an rmap walk follows.
// The roadmap's anon_vma work grows this into VMAs and anon_vma chains.
export interface Pte {
  readonly pfn: number
  readonly gen: number
  readonly writable: boolean
}

export interface Mm {
  readonly id: number
  readonly parent: number | null
  /** vpn -> pte, in the order the ptes were set. */
  readonly ptes: Map<number, Pte>
  readonly files: number[]
}

export interface MmsState {
  readonly mms: Map<number, Mm>
  /** file -> ids of the processes mapping it, newest first (the order page_unmap_all walks). */
  readonly iMmap: Map<number, number[]>
}

export const createMmsState = (): MmsState => ({ mms: new Map(), iMmap: new Map() })

/** Virtual page numbers: each file has its own window, anonymous memory another. */
export const FILE_VPN_SPAN = 1 << 24
export const fileVpn = (file: number, index: number): number => (file + 1) * FILE_VPN_SPAN + index
export const ANON_VPN_BASE = 0
