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
  { workload: 'default', seed: 1, events: 461477, headHash: 'fdb25118b2340f2f2969d00d944dd08f0d6be001bb8eb6c333ddd219e2a2659c' },
  { workload: 'gph-discard-list', seed: 3, events: 6262, headHash: 'dfdbcb0b7907b2719cc12a92a8d2e717e852a7361b9253d9f2398ae3b6866ca8' },
  { workload: 'gph-state-change', seed: 3, events: 9951, headHash: '6f5f7359a26fdbe0302a1562d81d77b2d9c4968cf6ec3fe0a9e19b2d2debedf8' },
  { workload: 'gph-volatile-at', seed: 3, events: 4320, headHash: '8e4fb9edf03ea3a7ff77a9a3e5918ad07bf412b90474891c3361d5f8687507ea' },
  { workload: 'gph-fork-vs-discard', seed: 3, events: 7355, headHash: '70bd69baac4607d576e26a9ac25acd83e05787ea33713dd9202e81b5d3c6f836' },
  { workload: 'gph-tiny-pcp', seed: 3, events: 32312, headHash: 'd6c370a8a27f06c1b462662b1710031c1b5572c31ec3067f946c52b756e37008' },
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
