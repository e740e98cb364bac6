// `mmsim page PFN`: a frame's history lists exactly the events the frame index has for it, and the
// state printed after each is the state a fold to that seq gives.
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { foldRun } from '../analysis/fold'
import { pageHistory } from '../analysis/pageHistory'
import { runToStore } from '../cli/commands/run'
import { resolveConfig } from '../engine/config'
import { frameState } from '../projections'
import { openForRead, readRows, type Db } from '../storage'
import { loadWorkload } from '../workload/load'
import { cli, tmpDir } from './helpers'

let db: string
let h: Db
/** The frame with the most single-frame events: a page that was allocated, freed and reused. */
let busy: number

beforeAll(async () => {
  db = path.join(tmpDir(), 'p.db')
  await runToStore({ workload: loadWorkload('workloads/gph-discard-list.json'), workloadSource: 'gph-discard-list', seed: 3, db, config: resolveConfig() })
  h = openForRead(db)
  const counts = new Map<number, number>()
  for (const r of readRows(h, 1)) if (r.pfn !== null && r.npages === 1) counts.set(r.pfn, (counts.get(r.pfn) ?? 0) + 1)
  busy = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0]
  return () => h.close()
})

describe('mmsim page', () => {
  it('lists every event the frame index has for the frame, in seq order, and only those', () => {
    const history = pageHistory(h, db, 1, { pfn: busy })
    const indexed = [...readRows(h, 1, { pfn: busy })].map((r) => r.seq)
    expect(history.map((e) => e.event.seq)).toEqual(indexed)
    expect(history.length).toBeGreaterThan(20)
    // Its own events, block events (boot's free, a split) and, on a hinting guest, list events.
    expect(new Set(history.map((e) => e.touch))).toContain('own')
    expect(new Set(history.map((e) => e.touch))).toContain('block')
  })

  it("shows after each event the frame's state that a fold to that seq gives", () => {
    const history = pageHistory(h, db, 1, { pfn: busy })
    const sample = [0, 1, Math.floor(history.length / 2), history.length - 1].map((i) => history[i]!)
    for (const e of sample) expect(e.after).toEqual(frameState(foldRun(h, db, 1, e.event.seq).state, busy))
    // A page is allocated after its allocation event and free after its free.
    for (const e of history) {
      if (e.event.type === 'PcpAllocated') expect(e.after.kind).toBe('allocated')
      if (e.event.type === 'PcpFreed') expect(e.after.kind).toBe('pcp')
    }
  })

  it('keeps to --from and --to', () => {
    const all = pageHistory(h, db, 1, { pfn: busy })
    const from = all[5]!.event.seq
    const to = all[15]!.event.seq
    const part = pageHistory(h, db, 1, { pfn: busy, fromSeq: from, toSeq: to })
    expect(part.map((e) => e.event.seq)).toEqual(all.slice(5, 16).map((e) => e.event.seq))
    expect(part.map((e) => e.after)).toEqual(all.slice(5, 16).map((e) => e.after))
  })

  it('prints a table, JSON lines, and refuses what it cannot answer with exit 2', async () => {
    const text = await cli('page', `0x${busy.toString(16)}`, '--db', db)
    expect(text.code).toBe(0)
    expect(text.out).toMatch(new RegExp(`^frame 0x${busy.toString(16)} \\(${busy}\\) in run 1: \\d+ events\n`))
    expect(text.out).toContain('-> ')
    const json = await cli('page', '--pfn', String(busy), '--db', db, '--json')
    expect(json.code).toBe(0)
    const lines = json.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { touch: string; event: { seq: number }; after: { pfn: number } })
    expect(lines.length).toBe(pageHistory(h, db, 1, { pfn: busy }).length)
    expect(lines.every((l) => l.after.pfn === busy)).toBe(true)
    expect((await cli('page', '--db', db)).code).toBe(2)
    expect((await cli('page', '1', '--pfn', '1', '--db', db)).code).toBe(2)
    const outside = await cli('page', '0x7fffffff', '--db', db)
    expect(outside.code).toBe(2)
    expect(outside.err).toContain('outside the machine')
    expect((await cli('page', String(busy), '--from', '9', '--to', '3', '--db', db)).code).toBe(2)
  })
})
