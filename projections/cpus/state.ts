// Per-CPU state of guest page hinting: online CPUs, each CPU's discarded-page list (GPH06 8/9),
// the list a collection gathers into, and the discard fault each CPU is handling.
export interface CpusState {
  readonly online: boolean[]
  /** page_discard_list per CPU, head first (pages are added at the tail). */
  readonly discardLists: number[][]
  /**
   * Collections in progress, by collecting CPU: its local pages_to_free list and the CPU each
   * page came from. Two CPUs in reclaim may collect at once; each gathers its own list.
   */
  readonly collecting: Map<number, { pfns: number[]; from: number[] }>
  /** The frame each CPU is taking a discard fault on (-1: none) and that frame's generation then. */
  readonly faultPfn: Int32Array
  readonly faultGen: Int32Array
  /** Summary counts. */
  readonly discardFaults: number[]
  readonly collectedPages: number[]
  collections: number
}

export const createCpusState = (cpus: number): CpusState => ({
  online: new Array<boolean>(cpus).fill(true),
  discardLists: Array.from({ length: cpus }, () => []),
  collecting: new Map(),
  faultPfn: new Int32Array(cpus).fill(-1),
  faultGen: new Int32Array(cpus),
  discardFaults: new Array<number>(cpus).fill(0),
  collectedPages: new Array<number>(cpus).fill(0),
  collections: 0,
})
