// Bisect's cost on a long run (`npm run bench -- --only bisect`, on the time-travel run of ten
// million events; `--bisect-steps N` for a smaller one): the wall time of `bisectRun` for a state
// invariant that starts failing at a third, at three quarters and near the end of the run, and
// for one that fails for a few events at a third and holds again until three quarters (which a
// search on "fails here" would miss). Each answer is checked against the seq the predicate was
// built to fail at. Target (issue 9): under 2 s on a ten-million-event run.
import { bisectRun, type BisectFound } from '../analysis/bisect'
import type { MmState, StateInvariant } from '../projections'
import { openForRead } from '../storage'
import { timeTravelRun } from './timetravel'

const TARGET_MS = 2000
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

/** Fails after `from` events for `length` events (Infinity: for good), and for good after `again`. */
const failsAt = (from: number, length: number, again: number): StateInvariant<MmState> => ({
  name: 'bench.fails',
  description: 'a predicate on the count of events folded',
  check: (s) => {
    const n = s.stats.events
    return (n >= from && n < from + length) || n >= again ? { name: 'bench.fails', message: `${n} events folded` } : null
  },
})

/** Times bisect on stored run `runId` of `file` (`head` events) and prints one line per question. */
export const bisectTimes = (file: string, runId: number, head: number): void => {
  const db = openForRead(file)
  try {
    const cases = [
      { what: 'fails from a third on', inv: failsAt(Math.floor(head / 3), Infinity, Infinity), expect: Math.floor(head / 3) },
      { what: 'fails from three quarters on', inv: failsAt(Math.floor((head * 3) / 4), Infinity, Infinity), expect: Math.floor((head * 3) / 4) },
      { what: 'fails from the last event', inv: failsAt(head, Infinity, Infinity), expect: head },
      { what: 'fails 3 events at a third, again from 3/4', inv: failsAt(Math.floor(head / 3), 3, Math.floor((head * 3) / 4)), expect: Math.floor(head / 3) },
    ]
    console.log(`bisect (a state invariant) on ${fmt(head)} events, target under ${TARGET_MS / 1000} s:`)
    for (const c of cases) {
      const t0 = performance.now()
      const r = bisectRun(db, file, runId, { invariant: 'bench.fails', extraInvariants: [c.inv] })
      const ms = performance.now() - t0
      const found = r._tag === 'Found' ? (r as BisectFound) : null
      const right = found !== null && found.seq === c.expect
      console.log(
        `  ${c.what.padEnd(44)} ${(ms / 1000).toFixed(2)} s, ${found === null ? 'not found' : `seq ${fmt(found.seq)}${right ? '' : ` (WRONG: expected ${fmt(c.expect)})`}`}` +
          (found === null ? '' : `; ${found.cost.folds} restores, ${fmt(found.cost.eventsFolded)} events folded, ${found.cost.windows} windows`),
      )
    }
  } finally {
    db.close()
  }
}

export const bisectBench = async (dir: string, stepsPerCpu?: number): Promise<void> => {
  const { file, run } = await timeTravelRun(dir, stepsPerCpu)
  bisectTimes(file, run.runId, run.events)
}
