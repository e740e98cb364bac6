// `--out FILE` of the commands that write a document (report, export): the text goes to the file
// instead of stdout. A file that cannot be written is bad input (exit 2) naming the file and why;
// it is written whole or not at all (a temporary file renamed over it).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { UsageError } from './args'
import type { Io } from './io'

export const writeOut = (io: Io, command: string, out: string | undefined, text: string): void => {
  if (out === undefined) return void io.out(text)
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.tmp`)
  try {
    fs.writeFileSync(tmp, text)
    fs.renameSync(tmp, out)
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true })
    } catch {
      // The directory itself is what cannot be written: nothing was left in it.
    }
    const e = err as NodeJS.ErrnoException
    throw new UsageError(`${command}: --out ${out}: cannot write it (${e.code ?? e.message})`)
  }
}
