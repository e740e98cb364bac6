// Where an export streams its text: chunks are gathered up to a size and then written, so that a
// ten-million-event run never sits in memory as one string.

/** Text is handed on in pieces of about this many characters. */
const CHUNK_CHARS = 1 << 16

export class ChunkedWriter {
  private buf: string[] = []
  private size = 0

  constructor(private readonly sink: (s: string) => void) {}

  write(s: string): void {
    this.buf.push(s)
    this.size += s.length
    if (this.size >= CHUNK_CHARS) this.flush()
  }

  flush(): void {
    if (this.size === 0) return
    this.sink(this.buf.join(''))
    this.buf = []
    this.size = 0
  }
}
