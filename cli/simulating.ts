// What every command that simulates shares (run, replay, fork): a progress bar when stderr is a
// terminal, SIGINT and SIGTERM turned into a stop at the next slice (the run is kept, marked
// interrupted, exit 130), and an assertion of mmsim's own reported as an internal error (exit 3;
// the run is stored as failed with the reason).
import { AssertionFailed } from '../lib'
import type { Context } from './command'
import { formatCount } from './format'
import { EXIT_INTERNAL } from './io'
import { Progress } from './progress'
import { withSignals } from './signals'

export interface SimulationHooks {
  readonly onProgress: (done: number, total: number, events: number) => void
  /** The same bar with words of the caller's (explore: schedules and failures). */
  readonly onProgressText: (done: number, total: number, detail: string) => void
  /** Non-null once a signal asked the run to stop: the reason. */
  readonly interrupted: () => string | null
  /** Clears the progress bar: called before the answer is printed. */
  readonly simulated: () => void
}

export const simulating = async (ctx: Context, showProgress: boolean, body: (h: SimulationHooks) => Promise<number>): Promise<number> => {
  const progress = new Progress(ctx.status, 'simulating', ctx.io.errIsTTY && showProgress)
  try {
    return await withSignals((interrupted) =>
      body({
        onProgress: (done, total, events) => progress.update(done, total, `${formatCount(events)} events`),
        onProgressText: (done, total, detail) => progress.update(done, total, detail),
        interrupted,
        simulated: () => progress.done(),
      }),
    )
  } catch (err) {
    if (err instanceof AssertionFailed) {
      progress.done()
      ctx.io.err(`${ctx.name}: internal error (the run is recorded as failed): ${err.message}\n`)
      return EXIT_INTERNAL
    }
    throw err
  } finally {
    progress.done()
  }
}
