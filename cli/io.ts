// Where a command writes: stdout for results, stderr for logs, progress and errors. Commands take
// an Io so that tests (and programs embedding mmsim) can capture both.
export interface Io {
  readonly out: (s: string) => void
  readonly err: (s: string) => void
  /** stderr is a terminal: progress bars are drawn there. */
  readonly errIsTTY: boolean
}

export const processIo = (): Io => ({
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  errIsTTY: process.stderr.isTTY === true,
})

/** Exit codes (README.md): the only ones mmsim uses. */
export const EXIT_OK = 0
export const EXIT_FINDING = 1 // an invariant violated, a deadlock, a run that fails verification
export const EXIT_BAD_INPUT = 2 // a bad argument, workload or database
export const EXIT_INTERNAL = 3 // a bug in mmsim: an assertion of its own failed
