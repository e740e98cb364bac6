// The cpus projection as text: each CPU's discarded-page list, its discard fault in progress,
// and the collection totals.
import type { MmState } from '../state'

export const cpusSummary = (s: MmState) =>
  s.cpus.online.map((online, cpu) => ({
    cpu,
    online,
    discardList: [...s.cpus.discardLists[cpu]!],
    faultOn: s.cpus.faultPfn[cpu]! >= 0 ? s.cpus.faultPfn[cpu]! : null,
    discardFaults: s.cpus.discardFaults[cpu]!,
    collectedPages: s.cpus.collectedPages[cpu]!,
  }))

export const renderCpus = (s: MmState): string => {
  const running = [...s.cpus.collecting.entries()].map(([c, g]) => `cpu${c} has gathered ${g.pfns.length} pages`)
  let out = `collections: ${s.cpus.collections}${running.length > 0 ? ` (running: ${running.join('; ')})` : ''}\n`
  for (const c of cpusSummary(s)) {
    const list = c.discardList.length === 0 ? 'empty' : `${c.discardList.length} pages [${c.discardList.slice(0, 16).join(', ')}${c.discardList.length > 16 ? ', ...' : ''}]`
    out += `cpu${c.cpu} ${c.online ? 'online ' : 'offline'}  discarded-page list: ${list}`
    out += `; discard faults ${c.discardFaults}; pages collected ${c.collectedPages}`
    if (c.faultOn !== null) out += `; in a discard fault on frame ${c.faultOn}`
    out += '\n'
  }
  return out
}
