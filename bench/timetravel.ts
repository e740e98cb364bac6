// `npm run bench -- --only timetravel`: time travel on a run of more than ten million events
// (the bench's churn on a 2 GiB guest that hints page states, so every projection holds state):
// the time to reach 100 random seqs in process (restore the nearest snapshot, fold on; median and
// maximum, wall and CPU, and the restore alone) beside a full fold from seq 1, and the snapshots'
// stored bytes over the events', first with the snapshots the run wrote (every
// SNAPSHOT_EVERY_DEFAULT events), then with the denser ones `mmsim snapshot --every 4096` builds.
// One question is asked first and not counted: the process's first fold runs before the JIT has
// compiled the fold (about 0.15 s), which a viewer pays once. Targets (issue 8): maximum under
// 100 ms, snapshots at most half the events' size.
import * as path from 'node:path'
import { foldRun } from '../analysis/fold'
import { buildSnapshots, snapshotSummary } from '../analysis/snapshots'
import { stateAt } from '../analysis/stateAt'
import { resolveConfig } from '../engine/config'
import { runToStore, type RunSummary } from '../hunt/runToStore'
import { bisectTimes } from './bisect'
import { SNAPSHOT_EVERY_DEFAULT, openForRead, openForWrite, type Db } from '../storage'
import { benchWorkload } from './workload'
import { measureThreads } from './threadCpu'

const EVENTS_MIN = 10_000_000
/** About 8 events per step of the four CPUs with page hinting on: just over ten million events. */
const STEPS_PER_CPU = 1_260_000
const QUERIES = 100
/** Snapshots as dense as a run asked about a lot might want: a restore and a fold of fewer than 4096 events. */
const DENSE_EVERY = 4096
const MAX_MS_TARGET = 100
const BYTES_RATIO_TARGET = 0.5

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`

/** Bytes the file gives a table (SQLite's dbstat: pages, and the payload in them). */
const tableBytes = (db: Db, table: string): { pages: number; payload: number } =>
  db.prepare('SELECT coalesce(sum(pgsize), 0) AS pages, coalesce(sum(payload), 0) AS payload FROM dbstat WHERE name = ?').get(table) as { pages: number; payload: number }

/** Seeded, so that every bench asks the same seqs. */
const randomSeqs = (n: number, head: number): number[] => {
  let x = 20260101
  return Array.from({ length: n }, () => 1 + ((x = (x * 1103515245 + 12345) % 2 ** 31) % head))
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

/** Asks for the state at the bench's 100 seqs and prints the times and the snapshots' bytes. */
const ask = (db: Db, file: string, runId: number, head: number, events: { pages: number; payload: number }, what: string): void => {
  const snaps = snapshotSummary(db, runId)
  const ratio = snaps.storedBytes / events.pages
  console.log(
    `${what}: ${fmt(snaps.snapshots)} snapshots (${fmt(snaps.full)} full, ${fmt(snaps.delta)} delta), ${mib(snaps.storedBytes)} (${mib(snaps.rawBytes)} before compression); ` +
      `snapshot bytes / event bytes ${ratio.toFixed(4)} (target at most ${BYTES_RATIO_TARGET}: ${ratio <= BYTES_RATIO_TARGET ? 'met' : 'NOT met'})`,
  )
  const times: { ms: number; cpuMs: number; restoreMs: number; seq: number; folded: number }[] = []
  const timed = (seq: number) => {
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    const r = stateAt(db, file, runId, seq)
    const c = process.cpuUsage(c0)
    return { r, ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 }
  }
  timed(head >> 1)
  for (const seq of randomSeqs(QUERIES, head)) {
    const { r, ms, cpuMs } = timed(seq)
    // The restore alone: the state at the snapshot's own seq (nothing folded after it).
    const restoreMs = r.from === null ? 0 : timed(r.from.snapshotSeq).ms
    times.push({ ms, cpuMs, restoreMs, seq, folded: seq - (r.from?.snapshotSeq ?? 0) })
  }
  const sorted = times.map((x) => x.ms).sort((a, b) => a - b)
  const cpu = times.map((x) => x.cpuMs).sort((a, b) => a - b)
  const restore = times.map((x) => x.restoreMs).sort((a, b) => a - b)
  const worst = times.reduce((a, b) => (b.ms > a.ms ? b : a))
  console.log(
    `  time to reach ${QUERIES} random seqs (restore the nearest snapshot, fold on): median ${sorted[QUERIES >> 1]!.toFixed(1)} ms, ` +
      `90th percentile ${quantile(sorted, 0.9).toFixed(1)} ms, maximum ${worst.ms.toFixed(1)} ms (seq ${worst.seq}, ${fmt(worst.folded)} events folded after the snapshot; ` +
      `target under ${MAX_MS_TARGET} ms: ${worst.ms < MAX_MS_TARGET ? 'met' : 'NOT met'})`,
  )
  // The process's own CPU time per question, whatever the neighbours on a shared machine did.
  console.log(
    `  CPU time per question: median ${cpu[QUERIES >> 1]!.toFixed(1)} ms, 90th percentile ${quantile(cpu, 0.9).toFixed(1)} ms, maximum ${cpu[QUERIES - 1]!.toFixed(1)} ms`,
  )
  console.log(
    `  the restore alone (the state at the snapshot's own seq): median ${restore[QUERIES >> 1]!.toFixed(1)} ms, 90th percentile ${quantile(restore, 0.9).toFixed(1)} ms, maximum ${restore[QUERIES - 1]!.toFixed(1)} ms`,
  )
}

/** The time-travel run (stored as `mmsim run` stores it), of `stepsPerCpu` churn steps per CPU: ten million events and more by default. */
export const timeTravelRun = async (dir: string, stepsPerCpu = STEPS_PER_CPU): Promise<{ file: string; run: RunSummary }> => {
  const workload = benchWorkload(stepsPerCpu)
  workload.machine.guestPageHinting = true
  const file = path.join(dir, 'timetravel.db')
  console.log(`\ntime travel: workload ${workload.name} with page hinting, 4 CPUs x ${fmt(stepsPerCpu)} churn steps, 2 GiB guest`)
  const t0 = performance.now()
  const { result: run, cpu } = await measureThreads(() => runToStore({ workload, workloadSource: 'bench', seed: 1, db: file, config: resolveConfig() }))
  const runMs = performance.now() - t0
  if (stepsPerCpu === STEPS_PER_CPU && run.events < EVENTS_MIN) throw new Error(`the time-travel run has ${run.events} events, fewer than ${EVENTS_MIN}`)
  // The writer thread folds the events and takes the snapshots (storage/snapshotFold.ts): its time per event beside the simulation thread's.
  const threads =
    cpu === null
      ? ''
      : `; CPU per event: simulation thread ${((cpu.mainMs * 1000) / run.events).toFixed(2)} µs, writer thread ${((cpu.newThreadMs * 1000) / run.events).toFixed(2)} µs`
  console.log(`run (mmsim run): ${fmt(run.events)} events, ${fmt((run.events / runMs) * 1000)} events/s end to end (${(runMs / 1000).toFixed(1)} s${threads})`)
  return { file, run }
}

export const timeTravelBench = async (dir: string): Promise<void> => {
  const { file, run } = await timeTravelRun(dir)
  bisectTimes(file, run.runId, run.events)
  let t0: number
  const db = openForRead(file)
  try {
    // Table event_batches holds the events (bodies and hashes); `events` is a view over it.
    const events = tableBytes(db, 'event_batches')
    console.log(`event bytes: ${mib(events.pages)} stored (dbstat: the pages of table event_batches; ${mib(events.payload)} of row payload)`)
    ask(db, file, run.runId, run.events, events, `the run's snapshots, every ${fmt(SNAPSHOT_EVERY_DEFAULT)} events`)
    t0 = performance.now()
    const c0 = process.cpuUsage()
    const full = foldRun(db, file, run.runId, run.events)
    const c = process.cpuUsage(c0)
    const foldMs = performance.now() - t0
    const foldCpuMs = (c.user + c.system) / 1000
    console.log(
      `full fold from seq 1 to ${fmt(full.lastSeq)}: ${(foldMs / 1000).toFixed(1)} s (${fmt((full.lastSeq / foldMs) * 1000)} events/s; ${fmt((full.lastSeq / foldCpuMs) * 1000)} events per CPU second)`,
    )
    const writer = openForWrite(file)
    t0 = performance.now()
    try {
      buildSnapshots(writer, file, run.runId, DENSE_EVERY)
    } finally {
      writer.close()
    }
    console.log(`mmsim snapshot --every ${DENSE_EVERY}: ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    ask(db, file, run.runId, run.events, events, `snapshots every ${fmt(DENSE_EVERY)} events`)
  } finally {
    db.close()
  }
}
