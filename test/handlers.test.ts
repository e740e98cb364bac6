// The contract of EVENT_PROJECTIONS: an event changes exactly the projections it names (and
// every one it names, at least once in a run that exercises it).
import { describe, expect, it } from 'vitest'
import { EVENT_PROJECTIONS, Folder, diffStates, type MmState, type ProjectionName } from '../projections'
import type { MmEvent } from '../events'
import { loadWorkload } from '../workload/load'
import { runInMemory, workload } from './helpers'

const pick = (s: MmState, p: ProjectionName): unknown => (p === 'zone' ? s.zone : p === 'pages' ? s.pages : p === 'cpus' ? s.cpus : s.mms)
const NAMES: ProjectionName[] = ['zone', 'pages', 'cpus', 'mms']

describe('EVENT_PROJECTIONS', () => {
  it('an event changes no projection it does not name, and each name is earned', () => {
    const runs: MmEvent[][] = [
      runInMemory(loadWorkload('workloads/gph-discard-list.json'), 7).events,
      runInMemory(
        workload(
          [
            { op: 'alloc', cpu: 0, order: 2, tag: 'a' },
            { op: 'free', cpu: 1, tag: 'a' },
          ],
          { zones: [{ name: 'Normal', pages: 1024 }], guestPageHinting: true },
        ),
      ).events,
    ]
    const earned = new Set<string>()
    for (const events of runs) check(events, earned)
    // Every (event, projection) pair named and seen changed that projection at least once.
    const seen = new Set(runs.flat().map((e) => e.type))
    const named = [...seen].flatMap((t) => EVENT_PROJECTIONS[t].map((p) => `${t}:${p}`))
    expect(named.filter((n) => !earned.has(n))).toEqual([])
  })
})

const check = (events: MmEvent[], earned: Set<string>): void => {
  const folder = new Folder()
  folder.apply(events[0]!)
  for (const e of events.slice(1)) {
    const before = structuredClone(folder.current!)
    folder.apply(e)
    const after = folder.current!
    for (const p of NAMES) {
      const changed = diffStates({ x: pick(before, p) } as unknown as MmState, { x: pick(after, p) } as unknown as MmState, 1).length > 0
      if (changed) earned.add(`${e.type}:${p}`)
      if (changed && !EVENT_PROJECTIONS[e.type].includes(p)) throw new Error(`${e.type} (seq ${e.seq}) changed ${p}, which EVENT_PROJECTIONS does not name`)
    }
  }
}
