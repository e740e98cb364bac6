// The page state projection in a snapshot (absent for a guest that does not hint): the per-frame
// arrays as they are; the page cache as its entries in LRU order, the state counts, the
// transition counts and the host's totals.
import * as t from 'io-ts'
import { Int } from '../../events/codecs'
import { mapEntries, refill, setNumbers, type SnapshotPart } from '../snapshotPart'

const Saved = t.union([
  t.null,
  t.type({
    cache: t.array(t.tuple([Int, Int])),
    stateCounts: t.array(Int),
    transitions: t.array(t.tuple([t.string, Int])),
    hostDiscards: Int,
    hostPagedOut: Int,
  }),
])
type Saved = t.TypeOf<typeof Saved>

export const pagesSnapshot: SnapshotPart<Saved> = {
  arrays: ({ pages: p }) =>
    p === null
      ? []
      : [
          ['pstate', p.pstate],
          ['flags', p.flags],
          ['refcount', p.refcount],
          ['mapcount', p.mapcount],
          ['uses', p.uses],
          ['file', p.file],
          ['index', p.index],
        ],
  save: ({ pages: p }) =>
    p === null
      ? null
      : { cache: mapEntries(p.cache), stateCounts: [...p.stateCounts], transitions: mapEntries(p.transitions), hostDiscards: p.hostDiscards, hostPagedOut: p.hostPagedOut },
  codec: Saved,
  load: ({ pages: p }, saved) => {
    if (p === null || saved === null) return p === saved ? null : 'page states saved for a guest that does not hint, or missing for one that does'
    refill(p.cache, saved.cache)
    refill(p.transitions, saved.transitions)
    p.hostDiscards = saved.hostDiscards
    p.hostPagedOut = saved.hostPagedOut
    return setNumbers(p.stateCounts, saved.stateCounts, 'stateCounts')
  },
}
