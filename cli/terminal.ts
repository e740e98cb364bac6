// stderr as a person sees it: one status line at the bottom (the progress bar) and whole lines
// above it (logs, warnings). A line is never written into the status line: the status line is
// cleared first and drawn again after, so a log record never lands in the middle of a bar.
import type { Io } from './io'

const CLEAR_LINE = '\r\u001b[K'

export class StatusLine {
  private current = ''

  constructor(private readonly io: Io) {}

  /** Draws (or redraws) the status line; only on a terminal. */
  draw(text: string): void {
    if (!this.io.errIsTTY) return
    this.current = text
    this.io.err(`${CLEAR_LINE}${text}`)
  }

  /** Removes the status line, leaving the cursor at the start of an empty line. */
  clear(): void {
    if (this.current === '') return
    this.current = ''
    this.io.err(CLEAR_LINE)
  }

  /** Writes whole lines above the status line. */
  print(lines: string): void {
    const status = this.current
    if (status !== '') this.io.err(CLEAR_LINE)
    this.io.err(lines.endsWith('\n') ? lines : `${lines}\n`)
    if (status !== '') this.io.err(status)
  }
}
