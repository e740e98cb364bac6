// An explorer thread of a pool (explore.ts): for each exploration it is sent, it claims seeds from
// the shared counter (claims.ts) and simulates each one's schedule in memory until the range is
// done, moot, or stopped; every outcome goes to the main thread as it is known, then 'done'. A
// crash of the simulator (an assertion of mmsim's own) stops the exploration, with its seed.
import { parentPort } from 'node:worker_threads'
import { compileOrThrow } from '../engine/run'
import { AssertionFailed } from '../lib'
import { SeedClaims } from './claims'
import type { ExplorerJob, FromExplorer } from './explore'
import { simulateSchedule } from './schedule'

const send = (m: FromExplorer) => parentPort!.postMessage(m)

const run = (job: ExplorerJob): void => {
  const { spec } = job
  const claims = new SeedClaims(job.claims, spec.range.count, spec.all)
  // The main thread compiled it once already: it compiles.
  const compiled = compileOrThrow(spec.workload)
  for (let i = claims.claim(); i !== null; i = claims.claim()) {
    const seed = spec.range.from + i
    try {
      const outcome = simulateSchedule(spec.workload, seed, spec.config, { compiled })
      if (outcome.failed) claims.failed(i)
      send({ kind: 'schedule', index: i, outcome })
    } catch (err) {
      claims.abort()
      if (!(err instanceof AssertionFailed)) throw err
      send({ kind: 'crashed', seed, message: err.message })
    }
  }
  send({ kind: 'done' })
}

parentPort!.on('message', (job: ExplorerJob) => run(job))
