// Where a command writes: stdout for results, stderr for logs, progress and errors. Commands take
// an Io so that tests (and programs embedding mmsim) can capture both.
import * as fs from 'node:fs'

export interface Io {
  readonly out: (s: string) => void
  readonly err: (s: string) => void
  /** stderr is a terminal: progress bars are drawn there, logs are pretty. */
  readonly errIsTTY: boolean
}

/**
 * The reader of stdout went away (`mmsim events | head`). Thrown by `out` so that a command
 * stops producing at once; main turns it into a quiet exit 0, as `git log | head` does.
 */
export class OutputClosed extends Error {
  override readonly name = 'OutputClosed'
}

/**
 * Writes all of `s` to a file descriptor synchronously. Synchronous so that a closed pipe is
 * known at the write that hit it (EPIPE), not later as an 'error' event after a long loop; and
 * EAGAIN, which an inherited non-blocking pipe gives when it is full, is waited out.
 */
const writeAll = (fd: number, s: string): void => {
  const buf = Buffer.from(s, 'utf8')
  let off = 0
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EPIPE') throw new OutputClosed('stdout closed')
      if (code !== 'EAGAIN') throw err
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
    }
  }
}

export const processIo = (): Io => ({
  out: (s) => writeAll(1, s),
  err: (s) => {
    try {
      writeAll(2, s)
    } catch (err) {
      // Nobody reads stderr any more: there is no one left to tell.
      if (!(err instanceof OutputClosed)) throw err
    }
  },
  errIsTTY: process.stderr.isTTY === true,
})

/** Exit codes (README.md): the only ones mmsim uses. */
export const EXIT_OK = 0
export const EXIT_FINDING = 1 // an invariant violated, a deadlock, a run that fails verification
export const EXIT_BAD_INPUT = 2 // a bad argument, workload or database
export const EXIT_INTERNAL = 3 // a bug in mmsim: an assertion of its own failed
export const EXIT_INTERRUPTED = 130 // a run stopped by SIGINT or SIGTERM
