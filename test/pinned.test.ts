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
  { workload: 'default', seed: 1, events: 461477, headHash: '7175e6e34d9a109faf927795bdc2f8a331508109ac09966917c859290318e8ea' },
  { workload: 'gph-discard-list', seed: 3, events: 6262, headHash: '15c9e63a7dfade8164aca7e1c49eecfa8f7989e9bafd3247ea616e8d02747bb6' },
  { workload: 'gph-state-change', seed: 3, events: 9951, headHash: '79079b72f50db0148e2f7676091c6e7992325aca6c4f990e33e2a141d377c52b' },
  { workload: 'gph-volatile-at', seed: 3, events: 4320, headHash: 'd010b40d6a492044201f9cec6ad87d7907bcf2330e5aa556e7f4d83202eadbc1' },
  { workload: 'gph-fork-vs-discard', seed: 3, events: 7355, headHash: '7f79b4ba05e0fbddf4c645d239b1b7f263b446b40e9d42eafdce276e9f0d1b72' },
  { workload: 'gph-tiny-pcp', seed: 3, events: 32312, headHash: '3eafb4ef43b46516e9aabe9300731d6374cdca835ad759fa262112358a72fe1b' },
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
