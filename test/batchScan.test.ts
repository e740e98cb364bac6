// The fold's decoder of a stored batch (storage/batchScan.ts): it reads a body's bytes into
// exactly the events the JSON parse and the structural check give (batchDecode.ts), key order
// included, from any offset; data it does not read in place (nested lists, escapes, fractions)
// goes through JSON.parse with the same result; and what the writer never writes is a StoreError
// naming the file, run and seq of the event where it breaks.
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { eventSpan, type MmEvent } from '../events'
import { BatchScanner, StoreError, bodyElement, decodeChecked, parseBody } from '../storage'
import { loadWorkload } from '../workload/load'
import { ROOT } from './built'
import { runInMemory } from './helpers'

const { events } = runInMemory(loadWorkload(path.join(ROOT, 'workloads', 'gph-discard-list.json')), 3)

const element = (e: MmEvent): string => {
  const s = eventSpan(e)
  return bodyElement(e.t, e.cpu, e.type, s?.pfn ?? null, s?.npages ?? null, e.cause ?? null, JSON.stringify(e.data))
}
const bodyOf = (texts: readonly string[]): string => `[${texts.join(',')}]`
const place = { file: 'x.db', runId: 7 }

/** Events lo..hi of a body of `total` elements whose first seq is `firstSeq`, through the scanner. */
const scan = (body: string, firstSeq: number, lo: number, hi: number, total: number): MmEvent[] => {
  const s = new BatchScanner(place, Buffer.from(body, 'utf8'), firstSeq, lo, hi, total)
  return Array.from({ length: s.count }, () => s.next())
}
const scanAll = (body: string, total: number, firstSeq = 1) => scan(body, firstSeq, 0, total - 1, total)
/** What the JSON parse and the structural check give: the reference. */
const parsed = (body: string, firstSeq = 1): MmEvent[] => parseBody(place, firstSeq, body).map((el, i) => decodeChecked(place, firstSeq + i, el))
/** Events as text: equal texts mean equal values and the same key order. */
const texts = (es: readonly MmEvent[]) => es.map((e) => JSON.stringify(e))

describe('the scanner reads a body as the JSON parse does', () => {
  it('every event of a run (gph-discard-list seed 3), key order included', () => {
    const body = bodyOf(events.map(element))
    expect(texts(scanAll(body, events.length))).toEqual(texts(parsed(body)))
    expect(texts(scanAll(body, events.length))).toEqual(texts(events))
  })

  it('from any offset to any other, the seqs counted from the batch first seq', () => {
    const some = events.slice(0, 300)
    const body = bodyOf(some.map(element))
    const all = parsed(body, 1001)
    for (const [lo, hi] of [
      [0, 0],
      [1, 1],
      [17, 250],
      [299, 299],
      [150, 299],
    ] as const)
      expect(texts(scan(body, 1001, lo, hi, some.length)), `${lo}..${hi}`).toEqual(texts(all.slice(lo, hi + 1)))
  })

  // Data the engine may write one day, or another writer: each read exactly as JSON.parse reads it.
  const odd: Record<string, unknown>[] = [
    {},
    { pfns: [1, 2, [3]], nested: { a: { b: null } } },
    { reason: 'a "quoted" word\\ and a \n newline', op: 'é ü ∑ 😀' },
    { x: 1.5, y: -2, z: -0, big: 2 ** 60, e: 1e21, small: 1e-7 },
    { yes: true, no: false, none: null, neg: -42 },
    { mark: '}],[', other: '"}],[0,' },
    JSON.parse('{"__proto__": 5, "pfn": 3}') as Record<string, unknown>,
    { b: 1, a: 2 },
    { 'a-b': 1, 'c d': 'x', $e: 2 },
    { 'a-b': 3, 'c d': 'y', $e: 4 },
    { a: 2, b: 1 },
    { a: 'x', b: 'x'.repeat(100) },
  ]
  it('data objects of every kind of value, and keys in another order than the type had before', () => {
    const base = events.find((e) => e.type === 'OpSkipped') ?? { seq: 0, t: 5, cpu: 1, type: 'OpSkipped' as const, data: { op: 'x', reason: 'y' } }
    const list = [...events.slice(0, 40), ...odd.map((data) => ({ ...base, data }) as MmEvent), ...events.slice(40, 80), ...odd.map((data) => ({ ...base, data }) as MmEvent)]
    const body = bodyOf(list.map(element))
    const got = scanAll(body, list.length)
    expect(texts(got)).toEqual(texts(parsed(body)))
    // A key named __proto__ is the object's own, as JSON.parse makes it.
    const proto = got.find((e) => Object.prototype.hasOwnProperty.call(e.data, '__proto__'))!
    expect(Object.getPrototypeOf(proto.data)).toBe(Object.prototype)
    // Past a data string that holds the mark between elements, offsets are still found.
    expect(texts(scan(body, 1, 70, 90, list.length))).toEqual(texts(parsed(body).slice(70, 91)))
  })
})

describe('what the writer never writes is a StoreError at that seq', () => {
  const some = events.slice(0, 50)
  const k = some.findIndex((e, i) => i > 20 && e.type.startsWith('Page') && e.t > 0 && e.cpu !== null)
  const edited = (edit: (el: string) => string) => bodyOf(some.map((e, i) => (i === k ? edit(element(e)) : element(e))))
  const broken: [string, (el: string) => string, RegExp][] = [
    ['a space after a comma', (el) => el.replace(',', ', '), /expected/],
    ['a fractional time', (el) => el.replace(/^\[(\d+)/, '[$1.0'), /expected ,/],
    ['an exponent in the time', (el) => el.replace(/^\[(\d+)/, '[$1e0'), /expected ,/],
    ['a negative time', (el) => el.replace(/^\[(\d+)/, '[-$1'), /t: /],
    ['a leading zero', (el) => el.replace(/^\[(\d+)/, '[0$1'), /t: /],
    ['an escaped type', (el) => el.replace('"Page', '"\\u0050age'), /unknown event type/],
    ['an unknown type', (el) => el.replace('"Page', '"Pages'), /unknown event type "Pages/],
    ['CPU 256', (el) => el.replace(/^\[(\d+),(\d+)/, '[$1,256'), /cpu: /],
    ['cause 0', (el) => el.replace(/,(null|\d+),\{/, ',0,{'), /cause: /],
    ['data that is an array', (el) => el.replace(/,\{.*\}\]$/, ',[1]]'), /data: expected an object/],
    ['data that is null', (el) => el.replace(/,\{.*\}\]$/, ',null]'), /data: expected an object/],
    ['data that is not JSON', (el) => el.replace(/,\{(.*)\}\]$/, ',{$1,"x":[1,]}]'), /data: not JSON/],
    ['six fields', (el) => el.replace(/,(null|\d+),\{.*\}\]$/, ']'), /data: expected an object|expected ,/],
    ['eight fields', (el) => el.replace(/\]$/, ',1]'), /the event's \]/],
  ]
  for (const [what, edit, message] of broken)
    it(`${what}: names run 7 seq ${100 + k}`, () => {
      const body = edited(edit)
      const read = () => scan(body, 100, 0, some.length - 1, some.length)
      expect(read).toThrow(StoreError)
      expect(read).toThrow(new RegExp(`^x\\.db: run 7 seq ${100 + k}: `))
      expect(read).toThrow(message)
      // Reading only the events before it does not trip on it.
      expect(texts(scan(body, 100, 0, k - 1, some.length))).toEqual(texts(parsed(bodyOf(some.map(element)), 100).slice(0, k)))
    })

  it('a body that holds fewer or more events than its row says, or ends early, names the seq', () => {
    const body = bodyOf(some.map(element))
    expect(() => scan(body, 100, 0, some.length, some.length + 1)).toThrow(/^x\.db: run 7 seq 149: the batch holds 50 events, its row says 51/)
    expect(() => scan(body, 100, 0, some.length - 2, some.length - 1)).toThrow(/^x\.db: run 7 seq 148: the batch holds more than the 49 events/)
    expect(() => scanAll(body.slice(0, -1), some.length, 100)).toThrow(/^x\.db: run 7 seq 149: /)
    expect(() => scanAll(body.slice(0, 200), some.length, 100)).toThrow(/^x\.db: run 7 seq 10[0-9]: /)
    // An offset past what the body holds is found by the walk, at the seq where the body ends.
    expect(() => scan(body.slice(0, 200), 100, 30, 31, some.length)).toThrow(/^x\.db: run 7 seq 10[0-9]: /)
    expect(() => scanAll('{}', 1, 100)).toThrow(/^x\.db: run 7 seq 100: the stored batch is not a JSON array/)
  })
})
