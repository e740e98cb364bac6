// How the explorers of one range share it out: seeds are claimed one at a time, in increasing
// order, from a counter in shared memory, so that any number of worker threads (or the main
// thread alone) covers the range the same way. Once a schedule fails, only the seeds below it are
// still wanted (the answer is the lowest failing seed of the range, whatever the number of
// workers); the words live in a SharedArrayBuffer that every worker maps.

const NEXT = 0
/** The lowest failing index so far (count when none). */
const LOWEST = 1
const ABORTED = 2
const WORDS = 3

export class SeedClaims {
  private readonly w: Int32Array

  /** `buffer`: from SeedClaims.buffer(), shared by every explorer of the range. */
  constructor(
    readonly buffer: SharedArrayBuffer,
    private readonly count: number,
    private readonly all: boolean,
  ) {
    this.w = new Int32Array(buffer)
  }

  static buffer(count: number): SharedArrayBuffer {
    const b = new SharedArrayBuffer(WORDS * 4)
    Atomics.store(new Int32Array(b), LOWEST, count)
    return b
  }

  /** The next index to explore, or null when the range is done, a lower failure makes it moot, or the exploration was stopped. */
  claim(): number | null {
    if (Atomics.load(this.w, ABORTED) !== 0) return null
    const i = Atomics.add(this.w, NEXT, 1)
    if (i >= this.count) return null
    if (!this.all && i > Atomics.load(this.w, LOWEST)) return null
    return i
  }

  /** Index `i` failed: without --all, no index above the lowest failing one is claimed any more. */
  failed(i: number): void {
    for (;;) {
      const lowest = Atomics.load(this.w, LOWEST)
      if (i >= lowest || Atomics.compareExchange(this.w, LOWEST, lowest, i) === lowest) return
    }
  }

  /** Stops every explorer at its next claim (an interrupt, or a crash in one of them). */
  abort(): void {
    Atomics.store(this.w, ABORTED, 1)
  }
}
