// The pinned reference: the head hash of a few example workloads at fixed seeds, committed here.
// The head hash covers every event, its frames, the run's identity (engine version, seed,
// configuration, workload) and its schedule, so any change of behaviour changes a value below.
// Such a change updates the value in the same commit and says why in its message; the same
// values on another machine or Node version are what make replays and sharded campaigns
// trustworthy. To print the current values: MMSIM_PIN_PRINT=1 npx vitest run test/pinned.test.ts
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../engine/config'
import { runToStore } from '../hunt/runToStore'
import { loadWorkload } from '../workload/load'
import { ROOT } from './built'
import { tmpDir } from './helpers'

const PINNED = [
  { workload: 'default', seed: 1, events: 461318, headHash: '424eead5b592e839e24a313ffae9227816a6ac587b6019c4fdf1fd4f08030ae3' },
  { workload: 'gph-discard-list', seed: 3, events: 5858, headHash: '4fc36db5964780c25e48cd43ef947ba0e2e16ebd82c04d19f0db7739b8184b08' },
  { workload: 'gph-state-change', seed: 3, events: 9951, headHash: 'becdeb0a6c6183997120329a83a68e544014cae90ddd532e7f1556847ed57187' },
  { workload: 'gph-volatile-at', seed: 3, events: 4320, headHash: '281f3d6a6d390d4b201954871a4642785a08e06817e8625010fbba6231606540' },
  { workload: 'gph-fork-vs-discard', seed: 3, events: 7355, headHash: '8d825c9e20a585f8c5d47e8740f45fe05c66ed887faae4320643ddb71ec17cb7' },
  { workload: 'gph-tiny-pcp', seed: 3, events: 31415, headHash: 'cbf2438d1d1c5e089932eff6a0cc6bb6f35a9ca3305d619474dc558a674670fc' },
] as const

describe('pinned head hashes (change them only with the behaviour change that moves them)', () => {
  for (const p of PINNED)
    it(`workloads/${p.workload}.json at seed ${p.seed}: ${p.events} events, head ${p.headHash.slice(0, 16)}…`, async () => {
      const workload = loadWorkload(path.join(ROOT, 'workloads', `${p.workload}.json`))
      const db = path.join(tmpDir(), 'pinned.db')
      const s = await runToStore({ workload, workloadSource: `workloads/${p.workload}.json`, seed: p.seed, db, config: resolveConfig() })
      if (process.env.MMSIM_PIN_PRINT) console.log(JSON.stringify({ workload: p.workload, seed: p.seed, events: s.events, headHash: s.headHash }))
      expect({ events: s.events, headHash: s.headHash }).toEqual({ events: p.events, headHash: p.headHash })
    })
})
