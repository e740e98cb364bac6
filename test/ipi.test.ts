// smp_call_function and the collection around it, as seen from a workload: gaps that StrykerJS
// found in the tests (`npm run mutate`: mutants of engine/sim/sync.ts and
// engine/mm/hinting/discard.ts that no test noticed).
import { describe, expect, it } from 'vitest'
import { eventsOfType, runInMemory, workload } from './helpers'

const machine = { cpus: 2, zones: [{ name: 'Normal' as const, pages: 4096 }], guestPageHinting: true }

describe('smp_call_function and page_shrink_discards', () => {
  it('a collection after a CPU went down leaves it out and finishes (an IPI to an offline CPU would never be answered)', () => {
    const { events, result } = runInMemory(
      workload(
        [{ op: 'read', cpu: 1, file: 1, count: 2 }, { op: 'barrier' }, { op: 'cpu-down', cpu: 0, target: 1 }, { op: 'reclaim', cpu: 0 }, { op: 'drain', cpu: 0, all: true }],
        machine,
      ),
    )
    expect(result.outcome._tag).toBe('Finished')
    expect(eventsOfType(events, 'DeadlockDetected')).toEqual([])
    expect(eventsOfType(events, 'DiscardCollectionStarted').length).toBeGreaterThan(0)
  })

  it('with the discarded-page list off, reclaim runs no collection and sends no IPI for one', () => {
    const { events, result } = runInMemory(
      workload(
        [
          { op: 'read', cpu: 0, file: 1, count: 2 },
          { op: 'reclaim', cpu: 1 },
        ],
        machine,
        { variants: { discardList: 'off' } },
      ),
    )
    expect(result.outcome._tag).toBe('Finished')
    expect(eventsOfType(events, 'ReclaimRan').length).toBeGreaterThan(0)
    expect(eventsOfType(events, 'DiscardCollectionStarted')).toEqual([])
  })
})
