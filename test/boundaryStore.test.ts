// The boundary projection through the store: rebuilt from the events (from seq 1, or from a
// snapshot on) it equals the engine's live state at every seq asked, mid-cycle included (a batch
// in flight, the zone ACTIVE); `mmsim state boundary` prints it.
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { foldRun } from '../analysis/fold'
import { stateAt } from '../analysis/stateAt'
import { runToStore } from '../cli/commands/run'
import { resolveConfig } from '../engine/config'
import { simulate } from '../engine/run'
import { diffStates, type MmState } from '../projections'
import { openForRead } from '../storage'
import { loadWorkload } from '../workload/load'
import { cli, tmpDir } from './helpers'

const EVERY = 4096

describe('the boundary projection rebuilt from the store (workloads/aeration.json, seed 3)', () => {
  let db: string
  let runId: number
  let head: number
  const live: MmState[] = []
  beforeAll(async () => {
    db = path.join(tmpDir(), 'boundary.db')
    const workload = loadWorkload('workloads/aeration.json')
    const config = resolveConfig()
    const r = await runToStore({ workload, workloadSource: 'aeration', seed: 3, db, config, snapshotEvery: EVERY })
    runId = r.runId
    head = r.events
    const result = simulate({ workload, seed: 3, config, sink: { append: () => undefined } })
    live.push(result.state)
    expect(result.lastSeq).toBe(head)
  })

  it('equals the live state at the end, and at seqs with a batch in flight and the zone ACTIVE, restored from snapshots', () => {
    const reader = openForRead(db)
    const asked: number[] = []
    try {
      const folded = foldRun(reader, db, runId, head, (s: MmState, e) => {
        // Every fiftieth seq with a batch in flight while the boundaries are kept, and around every snapshot.
        const b = s.boundary!
        if ((b.batch.pfns.length > 0 && b.active[0] === 1 && e.seq % 50 === 0) || e.seq % EVERY <= 1) {
          const r = stateAt(reader, db, runId, e.seq)
          expect(diffStates(r.state, s), `seq ${e.seq}`).toEqual([])
          if (b.batch.pfns.length > 0) asked.push(e.seq)
        }
      })
      expect(diffStates(live[0]!, folded.state)).toEqual([])
    } finally {
      reader.close()
    }
    expect(asked.length).toBeGreaterThan(3)
  })

  it('`mmsim state boundary --at SEQ --json` shows the boundaries, counts and batch; text names the boundary block', async () => {
    const j = await cli('state', 'boundary', '--db', db, '--json')
    expect(j.code).toBe(0)
    const v = JSON.parse(j.out)
    expect(v).toMatchObject({ run: runId, seq: head, mechanism: 'aeration', capacity: 32 })
    const l10 = v.zones[0].lists.find((l: { order: number; mt: string }) => l.order === 10 && l.mt === 'Movable')
    expect(l10.raw + l10.flagged).toBe(l10.blocks)
    const t = await cli('state', 'boundary', '--db', db, '--at', String(Math.floor(head / 2)))
    expect(t.code).toBe(0)
    expect(t.out).toMatch(/ZONE_AERATION_ACTIVE/)
    expect(t.out).toMatch(/order migratetype +blocks +raw +aerated +boundary/)
  })

  it('a run without reporting: `mmsim state boundary` exits 2 and says why', async () => {
    const other = path.join(tmpDir(), 'plain.db')
    await runToStore({ workload: loadWorkload('workloads/anon-vma-prepare.json'), workloadSource: 'p', seed: 1, db: other, config: resolveConfig() })
    const r = await cli('state', 'boundary', '--db', other)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/reports no free memory/)
  })
})
