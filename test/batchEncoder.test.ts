// The writer thread's byte-level encoder (storage/batchEncoder.ts) writes exactly what the string
// definitions say: each event's body element is bodyElement's text, its row hash is cyrb53 of
// rowText chained from the previous one, and each block's hash is blockHash of the row texts,
// for ASCII events and for events whose data has other characters (hashed as UTF-16 code units).
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { EVENT_TYPES, eventPfns, eventSpan, type MmEvent } from '../events'
import { blockHash, bodyElement, cyrb53, eventFrames, rowText } from '../storage'
import { BatchEncoder } from '../storage/batchEncoder'
import type { BatchMessage } from '../storage/writerProtocol'
import { loadWorkload } from '../workload/load'
import { ROOT } from './built'
import { runInMemory } from './helpers'

/** A batch as the simulation thread packs it (storage/appendEvents.ts). */
const pack = (events: readonly MmEvent[]): { message: BatchMessage; data: Uint8Array } => {
  const column = (f: (e: MmEvent) => number) => Float64Array.from(events, f)
  const text = new TextEncoder().encode(events.map((e) => `${JSON.stringify(e.data)}\n`).join(''))
  const message: BatchMessage = {
    kind: 'batch',
    firstSeq: events[0]!.seq,
    n: events.length,
    t: column((e) => e.t),
    cpu: column((e) => e.cpu ?? -1),
    type: column((e) => EVENT_TYPES.indexOf(e.type)),
    pfn: column((e) => eventSpan(e)?.pfn ?? -1),
    npages: column((e) => eventSpan(e)?.npages ?? 0),
    cause: column((e) => e.cause ?? -1),
    text,
    textBytes: text.length,
    dataLength: column((e) => JSON.stringify(e.data).length),
    ascii: text.every((byte) => byte < 0x80),
    pfnPairs: Float64Array.from(events.flatMap((e) => (eventPfns(e) ?? []).flatMap((pfn) => [pfn, e.seq]))),
    decisions: [],
  }
  return { message, data: text }
}

/** What the string definitions give for the same events. */
const expected = (events: readonly MmEvent[], blockEvents: number, prevH: number, prevBlock: string) => {
  const rows = events.map((e) => {
    const s = eventSpan(e)
    return rowText(e.seq, e.t, e.cpu, e.type, s?.pfn ?? null, s?.npages ?? null, e.cause ?? null, eventFrames(eventPfns(e)), JSON.stringify(e.data))
  })
  const hashes = rows.map((r) => (prevH = cyrb53(r, prevH)))
  const blocks: [number, string][] = []
  for (let i = 0; i < rows.length; i += blockEvents) {
    prevBlock = blockHash(prevBlock, rows.slice(i, i + blockEvents))
    blocks.push([events[Math.min(rows.length, i + blockEvents) - 1]!.seq, prevBlock])
  }
  const body = `[${events
    .map((e) => {
      const s = eventSpan(e)
      return bodyElement(e.t, e.cpu, e.type, s?.pfn ?? null, s?.npages ?? null, e.cause ?? null, JSON.stringify(e.data))
    })
    .join(',')}]`
  return { body, hashes: Float64Array.from(hashes), blocks }
}

/** The encoder's output with its body as text. */
const encoded = (encoder: BatchEncoder, events: readonly MmEvent[], prevH: number, prevBlock: string) => {
  const { message, data } = pack(events)
  const out = encoder.encode(message, data, prevH, prevBlock)
  return { ...out, body: new TextDecoder().decode(out.body) }
}

describe('the writer encodes a batch as the string definitions say', () => {
  const { events } = runInMemory(loadWorkload(path.join(ROOT, 'workloads', 'gph-discard-list.json')), 3)

  it('every event of a run (gph-discard-list seed 3, frames listed), blocks of 512, chained from earlier hashes', () => {
    expect(events.some((e) => eventPfns(e) !== null)).toBe(true)
    expect(encoded(new BatchEncoder(512), events, 12345, 'abc')).toEqual(expected(events, 512, 12345, 'abc'))
  })

  it('data with characters other than ASCII: hashed as code units, stored as UTF-8', () => {
    const odd: MmEvent[] = events
      .slice(0, 40)
      .map((e, i) => (i % 7 === 3 ? { seq: e.seq, t: e.t, cpu: e.cpu, type: 'OpSkipped', data: { op: `$.ops[${i}]`, reason: `zone «Normal» épuisée ✓ 😀 ${i}` } } : e))
    expect(encoded(new BatchEncoder(16), odd, 0, '')).toEqual(expected(odd, 16, 0, ''))
  })
})
