// Reading a text file line by line without holding it whole: a recording of millions of lines is
// read in 1 MiB pieces. A file that cannot be read is bad input naming the file.
import * as fs from 'node:fs'

const CHUNK_BYTES = 1 << 20

export class InputError extends Error {
  override readonly name = 'InputError'
}

export const openInput = (file: string): number => {
  try {
    if (fs.statSync(file).isDirectory()) throw new InputError(`${file}: is a directory, not a file`)
    return fs.openSync(file, 'r')
  } catch (err) {
    if (err instanceof InputError) throw err
    throw new InputError(`${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
  }
}

/** Each line of `file` (without its line break) with its 1-based number. */
export function* readLines(file: string): Generator<{ readonly n: number; readonly text: string }> {
  const fd = openInput(file)
  try {
    const buf = Buffer.alloc(CHUNK_BYTES)
    let rest = ''
    let n = 0
    for (;;) {
      const got = fs.readSync(fd, buf, 0, CHUNK_BYTES, null)
      if (got === 0) break
      const parts = (rest + buf.toString('utf8', 0, got)).split('\n')
      rest = parts.pop()!
      for (const p of parts) yield { n: ++n, text: p.replace(/\r$/, '') }
    }
    if (rest.length > 0) yield { n: ++n, text: rest.replace(/\r$/, '') }
  } finally {
    fs.closeSync(fd)
  }
}

/** The first bytes of a file, to tell a binary file from text. */
export const headBytes = (file: string, n: number): Buffer => {
  const fd = openInput(file)
  try {
    const b = Buffer.alloc(n)
    const got = fs.readSync(fd, b, 0, n, 0)
    return b.subarray(0, got)
  } finally {
    fs.closeSync(fd)
  }
}
