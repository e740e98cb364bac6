// The per-CPU projection in a snapshot: each CPU's discard fault in progress (arrays), and its
// online bit, discarded-page list, the collections in progress (in the order they started) and
// the counts.
import * as t from 'io-ts'
import { Int } from '../../events/codecs'
import { setNumbers, type SnapshotPart } from '../snapshotPart'

const Saved = t.type({
  online: t.array(t.boolean),
  discardLists: t.array(t.array(Int)),
  /** [collecting cpu, the pages it gathered, the cpu each came from]. */
  collecting: t.array(t.tuple([Int, t.array(Int), t.array(Int)])),
  discardFaults: t.array(Int),
  collectedPages: t.array(Int),
  collections: Int,
})
type Saved = t.TypeOf<typeof Saved>

export const cpusSnapshot: SnapshotPart<Saved> = {
  arrays: ({ cpus: c }) => [
    ['faultPfn', c.faultPfn],
    ['faultGen', c.faultGen],
  ],
  save: ({ cpus: c }) => ({
    online: [...c.online],
    discardLists: c.discardLists.map((l) => [...l]),
    collecting: [...c.collecting.entries()].map(([cpu, g]) => [cpu, [...g.pfns], [...g.from]]),
    discardFaults: [...c.discardFaults],
    collectedPages: [...c.collectedPages],
    collections: c.collections,
  }),
  codec: Saved,
  load: ({ cpus: c }, saved) => {
    c.collecting.clear()
    for (const [cpu, pfns, from] of saved.collecting) c.collecting.set(cpu, { pfns, from })
    c.collections = saved.collections
    return (
      setNumbers(c.online, saved.online, 'online') ??
      setNumbers(c.discardLists, saved.discardLists, 'discardLists') ??
      setNumbers(c.discardFaults, saved.discardFaults, 'discardFaults') ??
      setNumbers(c.collectedPages, saved.collectedPages, 'collectedPages')
    )
  },
}
