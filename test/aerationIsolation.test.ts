// Free page aeration beside page isolation (issue 11 meets issue 12): the RFC's drain returns a
// block to the migratetype recorded when it was pulled, so a block whose pageblock was isolated
// while it was with the host lands on a normal free list inside the isolated range. Shown with the
// RFC's put-back, and not with the pageblock's migratetype read at put-back (mainline's
// page_reporting_drain) nor with mainline page reporting, which also skips the ISOLATE lists.
import { describe, expect, it } from 'vitest'
import { loadWorkload } from '../workload/load'
import { runInMemory, seeds } from './helpers'

const FILE = 'workloads/aeration-isolation.json'
const FINDING = 'aeration-isolation.put-back-into-isolated-pageblock'

const findings = (variants: Record<string, string>, seed: number): string[] => {
  const w = loadWorkload(FILE)
  const { result } = runInMemory({ ...w, variants: { ...w.variants, ...variants } }, seed)
  return result.state.stats.violations.map((v) => v.name)
}

describe('free page aeration beside memory hot-remove', () => {
  it('the RFC (aerator_put_migratetype): a block put back inside an isolated pageblock is offlined while NR_FREE_PAGES still counts it (seed 1)', () => {
    const names = findings({}, 1)
    expect(names[0]).toBe(FINDING)
    // What follows from it: the offline's miscount (NR_FREE_PAGES against the free lists).
    expect(names).toContain('buddy.page-conservation')
  })
  it.each(seeds(1, 10))('aerationPutBack=pageblock (page_reporting_drain reads the pageblock): no finding, seed %i', (seed) => {
    expect(findings({ aerationPutBack: 'pageblock' }, seed)).toEqual([])
  })
  it.each(seeds(1, 5))('reporting=page-reporting (mainline skips the ISOLATE lists): no finding, seed %i', (seed) => {
    expect(findings({ reporting: 'page-reporting' }, seed)).toEqual([])
  })
})
