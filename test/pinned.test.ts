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
  { workload: 'default', seed: 1, events: 461477, headHash: 'cdf1f9bef1186bf8e7822f02be0dea1b24dec34d52c784cfaaf56a0e1a3a57d6' },
  { workload: 'gph-discard-list', seed: 3, events: 6262, headHash: 'e579fb41cb136b208359237b8fbde167f5c4dd15bcf6d6f33c1d02417ccb9709' },
  { workload: 'gph-state-change', seed: 3, events: 9951, headHash: '781bb3616b1c88096f26f4618e89189d0d5dfbd142d1e670a8e2ffe74d01214d' },
  { workload: 'gph-volatile-at', seed: 3, events: 4320, headHash: '8d2f1fcf6c3a41062076b149998b2e96175618dfeb72c83688c18dcdf4e2545c' },
  { workload: 'gph-fork-vs-discard', seed: 3, events: 7355, headHash: 'c0b10e919c073a95685467f7f1638fca32867b286636d92c79dad23ed9d7c0bd' },
  { workload: 'gph-tiny-pcp', seed: 3, events: 32312, headHash: '64bd479b30d419c7dbb3f11f3769194b96db5bcd0f6be92d1a26c23374f8756b' },
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
