// `--out FILE` of the commands that write a document (report, export): the text goes to the file
// instead of stdout, streamed in chunks. A file that cannot be written is bad input (exit 2) naming
// the file and why; it appears whole or not at all (a temporary file beside it, renamed over it).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { UsageError } from './args'
import type { Io } from './io'

const cannot = (command: string, out: string, err: unknown): UsageError => {
  const e = err as NodeJS.ErrnoException
  return new UsageError(`${command}: --out ${out}: cannot write it (${e.code ?? e.message})`)
}

/** Runs `body` with a writer to `out` (stdout when undefined); the file is in place only if body returns. */
export const withOut = <A>(io: Io, command: string, out: string | undefined, body: (write: (s: string) => void) => A): A => {
  if (out === undefined) return body(io.out)
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.tmp`)
  let fd: number
  try {
    fd = fs.openSync(tmp, 'w')
  } catch (err) {
    throw cannot(command, out, err)
  }
  let done = false
  try {
    const a = body((s) => {
      try {
        fs.writeSync(fd, s)
      } catch (err) {
        throw cannot(command, out, err)
      }
    })
    fs.closeSync(fd)
    try {
      fs.renameSync(tmp, out)
    } catch (err) {
      throw cannot(command, out, err)
    }
    done = true
    return a
  } finally {
    if (!done) {
      try {
        fs.closeSync(fd)
      } catch {
        // Already closed before the rename failed.
      }
      fs.rmSync(tmp, { force: true })
    }
  }
}

export const writeOut = (io: Io, command: string, out: string | undefined, text: string): void => withOut(io, command, out, (write) => write(text))
