// An event as one line of text, in the kernel's words: zones by name (`Normal`), migratetypes as
// migratetype_names[] spells them (`Movable`), frames and addresses in hex as the kernel's
// tracepoints and dump_page print them (`pfn=0x%lx`, `%#lx`). --json keeps the numbers.
import { MIGRATETYPE_NAMES, type MachineBooted, type MmEvent } from '../events'
import { formatNs } from './format'
import { printable } from './text'

/** Long lists are cut in text output (--json shows them whole). */
const LIST_ITEMS_MAX = 12

export const hex = (n: number): string => `0x${n.toString(16)}`

const migratetypeName = (mt: unknown): string => (typeof mt === 'number' ? (MIGRATETYPE_NAMES[mt] ?? String(mt)) : JSON.stringify(mt))

const list = (v: readonly unknown[], item: (x: unknown) => string): string => {
  const shown = v.slice(0, LIST_ITEMS_MAX).map(item).join(',')
  return v.length > LIST_ITEMS_MAX ? `[${shown},...${v.length - LIST_ITEMS_MAX} more]` : `[${shown}]`
}

const plain = (v: unknown): string => (typeof v === 'string' ? printable(v) : Array.isArray(v) ? list(v, (x) => JSON.stringify(x)) : JSON.stringify(v))

const asHex = (v: unknown): string => (typeof v === 'number' ? hex(v) : plain(v))

/** How each field name is rendered; the rest print as they are. */
const fieldRenderers = (zoneNames: readonly string[]): Record<string, (v: unknown) => string> => ({
  zone: (v) => (typeof v === 'number' ? (zoneNames[v] ?? String(v)) : plain(v)),
  mt: migratetypeName,
  toMt: migratetypeName,
  mts: (v) => (Array.isArray(v) ? list(v, migratetypeName) : plain(v)),
  pfn: asHex,
  startPfn: asHex,
  pfnEnd: asHex,
  absoluteAddress: asHex,
  pfns: (v) => (Array.isArray(v) ? list(v, asHex) : plain(v)),
})

/** Event data as `key=value` pairs, in the order the codec defines them. */
export const formatData = (data: unknown, render: Record<string, (v: unknown) => string> = fieldRenderers([])): string =>
  Object.entries(data as Record<string, unknown>)
    .map(([k, v]) => `${k}=${(render[k] ?? plain)(v)}`)
    .join(' ')

/**
 * A line formatter for the events of one run; zone names come from its MachineBooted event
 * (seq 1), so that `zone=1` reads `zone=Normal` on that machine.
 */
export const eventLine = (machine: MachineBooted['data'] | null): ((e: MmEvent) => string) => {
  const render = fieldRenderers(machine?.zones.map((z) => z.name) ?? [])
  return (e) => {
    const who = e.cpu !== null ? `cpu${e.cpu}` : e.type.startsWith('Host') ? 'host' : '-'
    const cause = e.cause !== undefined ? ` (cause ${e.cause})` : ''
    const data = e.type === 'MachineBooted' ? machineText(e.data) : formatData(e.data, render)
    return `${String(e.seq).padStart(8)}  ${formatNs(e.t).padStart(11)}  ${who.padEnd(5)}  ${e.type.padEnd(22)}  ${data}${cause}\n`
  }
}

/** The machine in one line: each zone with its frames in hex, as the boot log prints zone ranges. */
const machineText = (m: MachineBooted['data']): string =>
  `cpus=${m.cpus} pageblockOrder=${m.pageblockOrder} zones=${m.zones.map((z) => `${z.name}[${hex(z.startPfn)}-${hex(z.startPfn + z.pages - 1)}]`).join(',')} ${
    m.hinting === null
      ? 'hinting=off'
      : Object.entries(m.hinting)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')
  }${
    m.rmap === undefined
      ? ''
      : ` ${Object.entries(m.rmap)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`
  }`
