// The process projection in a snapshot: each process (in creation order) with its page table in
// the order its ptes were set, as flat [vpn, pfn, gen, writable] runs, and each file's i_mmap.
import * as t from 'io-ts'
import { Int } from '../../events/codecs'
import { mapEntries, refill, type SnapshotPart } from '../snapshotPart'
import type { Pte } from './state'

const Saved = t.type({
  /** [id, parent, files, ptes as vpn, pfn, gen, writable (0 or 1), ...]. */
  mms: t.array(t.tuple([Int, t.union([Int, t.null]), t.array(Int), t.array(Int)])),
  iMmap: t.array(t.tuple([Int, t.array(Int)])),
})
type Saved = t.TypeOf<typeof Saved>

const PTE_FIELDS = 4

const flatPtes = (ptes: ReadonlyMap<number, Pte>): number[] => {
  const out: number[] = []
  for (const [vpn, p] of ptes) out.push(vpn, p.pfn, p.gen, p.writable ? 1 : 0)
  return out
}

export const mmsSnapshot: SnapshotPart<Saved> = {
  arrays: () => [],
  save: ({ mms: s }) => ({
    mms: [...s.mms.values()].map((m) => [m.id, m.parent, [...m.files], flatPtes(m.ptes)]),
    iMmap: mapEntries(s.iMmap).map(([f, ids]) => [f, [...ids]]),
  }),
  codec: Saved,
  load: ({ mms: s }, saved) => {
    s.mms.clear()
    for (const [id, parent, files, flat] of saved.mms) {
      if (flat.length % PTE_FIELDS !== 0) return `process ${id}'s page table is cut short`
      const ptes = new Map<number, Pte>()
      for (let i = 0; i < flat.length; i += PTE_FIELDS) ptes.set(flat[i]!, { pfn: flat[i + 1]!, gen: flat[i + 2]!, writable: flat[i + 3] === 1 })
      s.mms.set(id, { id, parent, ptes, files })
    }
    refill(s.iMmap, saved.iMmap)
    return null
  },
}
