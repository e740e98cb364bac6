// `node dist/bench/rowHash.js`: what the per-event row hash costs on the write path, hash version
// 2 (pfn, npages and the frame list included) beside the same hash over schema 1's columns only,
// with JSON.stringify of the events' data for scale. Events from the bench workload, in memory.
import { resolveConfig } from '../engine/config'
import { simulate } from '../engine/run'
import type { MmEvent } from '../events'
import { eventPfns, eventSpan } from '../events/span'
import { eventFrames, rowHash } from '../storage'
import { benchWorkload } from './workload'

const ROUNDS = 5

const events: MmEvent[] = []
simulate({ workload: benchWorkload(60_000), seed: 1, config: resolveConfig(), sink: { append: (e) => events.push(e) } })
const n = events.length
const datas = events.map((e) => JSON.stringify(e.data))
const spans = events.map(eventSpan)
const frames = events.map((e) => eventFrames(eventPfns(e)))

const time = (label: string, f: () => number): number => {
  let best = Infinity
  let sink = 0
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now()
    sink += f()
    best = Math.min(best, performance.now() - t0)
  }
  const ns = (best * 1e6) / n
  console.log(`${label.padEnd(44)} ${ns.toFixed(1).padStart(7)} ns/event  (${sink % 10})`)
  return ns
}

console.log(`${n.toLocaleString('en-US')} events, best of ${ROUNDS}`)
time('JSON.stringify(data)', () => events.reduce((a, e) => a + JSON.stringify(e.data).length, 0))
const v1 = time('row hash over schema 1 columns', () => {
  let h = 0
  for (let i = 0; i < n; i++) {
    const e = events[i]!
    h = rowHash(h, e.seq, e.t, e.cpu, e.type, null, null, e.cause ?? null, [], datas[i]!)
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
console.log(`ratio v2 / schema 1 columns: ${(v2 / v1).toFixed(2)}`)
