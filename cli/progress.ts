// A progress bar for long work, drawn on stderr's status line only when stderr is a terminal;
// piped output stays clean. Redrawn at most ten times a second.
import type { StatusLine } from './terminal'

const WIDTH = 30
const REDRAW_MS = 100

export class Progress {
  private last = 0
  private readonly started = performance.now()

  constructor(
    private readonly status: StatusLine,
    private readonly label: string,
    private readonly enabled: boolean,
  ) {}

  update(done: number, total: number, detail = ''): void {
    if (!this.enabled) return
    const now = performance.now()
    if (now - this.last < REDRAW_MS && done < total) return
    this.last = now
    const frac = total > 0 ? Math.min(1, done / total) : 0
    const fill = Math.round(frac * WIDTH)
    const secs = ((now - this.started) / 1000).toFixed(1)
    this.status.draw(`${this.label} [${'#'.repeat(fill)}${'-'.repeat(WIDTH - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${detail} ${secs}s`)
  }

  done(): void {
    this.status.clear()
  }
}
