// `node dist/bench/rowHash.js`: what the per-event row hash costs on the write path: hash version
// 2 (pfn, npages and the frame list included) beside schema 1's implementation over its columns
// (kept here as it was, for the comparison), with JSON.stringify of the events' data for scale.
// Events from the bench workload, in memory. CPU time, best of several rounds: the figures hold
// on a machine that other processes share.
import { resolveConfig } from '../engine/config'
import { simulate } from '../engine/run'
import type { MmEvent } from '../events'
import { eventPfns, eventSpan } from '../events/span'
import { eventFrames, rowHash, rowHashV1 } from '../storage'
import { benchWorkload } from './workload'

const ROUNDS = 5

const events: MmEvent[] = []
simulate({ workload: benchWorkload(60_000), seed: 1, config: resolveConfig(), sink: { append: (e) => events.push(e) } })
const n = events.length
const datas = events.map((e) => JSON.stringify(e.data))
const spans = events.map(eventSpan)
const frames = events.map((e) => eventFrames(eventPfns(e)))

/** Schema 1's row hash as it shipped: the state in a closure, fields fed in turn. */
const schema1Hash = (prev: number, seq: number, t: number, cpu: number | null, type: string, cause: number | null, data: string): number => {
  let h1 = 0xdeadbeef ^ (prev >>> 0)
  let h2 = 0x41c6ce57 ^ Math.floor(prev / 4294967296)
  const mix = (text: string, sep: boolean) => {
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i)
      h1 = Math.imul(h1 ^ ch, 2654435761)
      h2 = Math.imul(h2 ^ ch, 1597334677)
    }
    if (sep) {
      h1 = Math.imul(h1 ^ 0x1f, 2654435761)
      h2 = Math.imul(h2 ^ 0x1f, 1597334677)
    }
  }
  mix(String(seq), true)
  mix(String(t), true)
  mix(cpu === null ? '' : String(cpu), true)
  mix(type, true)
  mix(cause === null ? '' : String(cause), true)
  mix(data, false)
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}

const time = (label: string, f: () => number): number => {
  let best = Infinity
  let sink = 0
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.cpuUsage()
    sink += f()
    const used = process.cpuUsage(t0)
    best = Math.min(best, (used.user + used.system) / 1000)
  }
  const ns = (best * 1e6) / n
  console.log(`${label.padEnd(40)} ${ns.toFixed(1).padStart(7)} ns/event  (${sink % 10})`)
  return ns
}

console.log(`${n.toLocaleString('en-US')} events, best of ${ROUNDS} (CPU time)`)
time('JSON.stringify(data)', () => events.reduce((a, e) => a + JSON.stringify(e.data).length, 0))
const v1 = time("schema 1's row hash (its columns)", () => {
  let h = 0
  for (let i = 0; i < n; i++) {
    const e = events[i]!
    h = schema1Hash(h, e.seq, e.t, e.cpu, e.type, e.cause ?? null, datas[i]!)
  }
  return h
})
time('rowHashV1 (schema 1 runs, verify only)', () => {
  let h = 0
  for (let i = 0; i < n; i++) {
    const e = events[i]!
    h = rowHashV1(h, e.seq, e.t, e.cpu, e.type, e.cause ?? null, datas[i]!)
  }
  return h
})
const v2 = time('row hash v2 (+ pfn, npages, frames)', () => {
  let h = 0
  for (let i = 0; i < n; i++) {
    const e = events[i]!
    const s = spans[i]!
    h = rowHash(h, e.seq, e.t, e.cpu, e.type, s?.pfn ?? null, s?.npages ?? null, e.cause ?? null, frames[i]!, datas[i]!)
  }
  return h
})
time('eventFrames(eventPfns(e))', () => events.reduce((a, e) => a + eventFrames(eventPfns(e)).length, 0))
console.log(`ratio row hash v2 / schema 1's: ${(v2 / v1).toFixed(2)}`)
