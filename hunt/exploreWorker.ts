// An explorer thread: claims seeds from the shared counter (claims.ts) and simulates each one's
// schedule in memory until the range is done, moot, or stopped; every outcome goes to the main
// thread as it is known. A crash of the simulator (an assertion of mmsim's own) stops the
// exploration, with the seed that caused it.
import { parentPort, workerData } from 'node:worker_threads'
import { AssertionFailed } from '../lib'
import { SeedClaims } from './claims'
import type { ExplorerInit, FromExplorer } from './explore'
import { simulateSchedule } from './schedule'

const { spec, claims: buffer } = workerData as ExplorerInit
const claims = new SeedClaims(buffer, spec.range.count, spec.all)
const send = (m: FromExplorer) => parentPort!.postMessage(m)

for (let i = claims.claim(); i !== null; i = claims.claim()) {
  const seed = spec.range.from + i
  try {
    const outcome = simulateSchedule(spec.workload, seed, spec.config)
    if (outcome.failed) claims.failed(i)
    send({ kind: 'schedule', index: i, outcome })
  } catch (err) {
    claims.abort()
    if (!(err instanceof AssertionFailed)) throw err
    send({ kind: 'crashed', seed, message: err.message })
  }
}
send({ kind: 'done' })
