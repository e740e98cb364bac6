// The free path's question in the 2007 patch's design: does this freed block land in a registered
// range? Its own file so that the free path (page_free.ts) and the patch's paths
// (isolation_list.ts, which frees through page_free.ts) do not import each other.
import { NO_RANGE, searchIsolationList } from '../../projections/isolation/state'
import type { Kernel } from '../kernel'

/**
 * page_under_isolation, called by __free_one_page with the zone lock held: the range a freed
 * block lands in, or NO_RANGE. The patch's isolation_lock nests inside the zone lock here; mmsim
 * counts the search (the isolation projection folds it) rather than spinning on it.
 */
export const page_under_isolation = (k: Kernel, zone: number, pfn: number): number => {
  const iso = k.state.isolation
  if (iso.config.isolation !== 'list' || iso.zoneLists[zone]!.length === 0) return NO_RANGE
  return searchIsolationList(iso, zone, pfn).range
}
