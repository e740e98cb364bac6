// The stored form of a batch (storage/batchBody.ts) and its two decoders (storage/batchDecode.ts):
// a body reads back as exactly the fields that were written, anything else is a fault at the
// event where it occurs, and the fold's structural decode gives the same events as the codecs
// while refusing what is not an event with a message naming the file, run and seq.
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { eventPfns, eventSpan, type MmEvent } from '../events'
import { StoreError, bodyElement, decodeChecked, decodeFull, elementBounds, elementText, eventFrames, parseBody, scanBody } from '../storage'
import { loadWorkload } from '../workload/load'
import { ROOT } from './built'
import { runInMemory } from './helpers'

const { events } = runInMemory(loadWorkload(path.join(ROOT, 'workloads', 'gph-discard-list.json')), 3)

const element = (e: MmEvent): string => {
  const s = eventSpan(e)
  return bodyElement(e.t, e.cpu, e.type, s?.pfn ?? null, s?.npages ?? null, e.cause ?? null, JSON.stringify(e.data))
}
const bodyOf = (es: readonly MmEvent[]): string => `[${es.map(element).join(',')}]`
const place = { file: 'x.db', runId: 7 }

describe('a body reads back exactly as written', () => {
  it('every event of a run (gph-discard-list seed 3): each field, the data text byte for byte, the seqs from first_seq', () => {
    expect(eventFrames(eventPfns(events.find((e) => eventPfns(e) !== null)!)).length).toBeGreaterThan(0)
    const rows = scanBody(bodyOf(events), 1, (i) => i * 10)
    expect(Array.isArray(rows)).toBe(true)
    expect(rows).toEqual(
      events.map((e, i) => {
        const s = eventSpan(e)
        return { seq: i + 1, t: e.t, cpu: e.cpu, type: e.type, pfn: s?.pfn ?? null, npages: s?.npages ?? null, cause: e.cause ?? null, data: JSON.stringify(e.data), h: i * 10 }
      }),
    )
  })

  it('a body is JSON: parsed, its elements are the fields', () => {
    const some = events.slice(0, 200)
    expect(parseBody(place, 1, bodyOf(some))).toEqual(JSON.parse(bodyOf(some)) as unknown)
    expect(scanBody('[]', 1, () => 0)).toEqual([])
  })

  // What the writer never writes: the same event in other bytes (JSON), or not JSON at all.
  const respellings: [string, (el: string) => string, boolean][] = [
    ['a space after a comma', (el) => el.replace(',', ', '), true],
    ['a fraction', (el) => el.replace(/^\[(\d+)/, '[$1.0'), true],
    ['an exponent', (el) => el.replace(/^\[(\d+)/, '[$1e0'), true],
    ['an escaped type', (el) => el.replace('"Page', '"\\u0050age'), true],
    ['a sign', (el) => el.replace(/^\[(\d+)/, '[-$1'), false],
    ['a leading zero', (el) => el.replace(/^\[(\d+)/, '[0$1'), false],
  ]
  for (const [what, respell, json] of respellings)
    it(`${what} is a fault at that event`, () => {
      const some = events.slice(0, 50)
      const k = some.findIndex((e, i) => i > 20 && e.type.startsWith('Page') && e.t > 0)
      expect(k).toBeGreaterThan(20)
      const body = `[${some.map((e, i) => (i === k ? respell(element(e)) : element(e))).join(',')}]`
      if (json) expect(JSON.parse(body)).toEqual(JSON.parse(bodyOf(some)))
      const r = scanBody(body, 100, () => 0)
      expect(r).toMatchObject({ index: k })
      expect(Array.isArray(r) ? [] : r.rows.map((x) => x.seq)).toEqual(some.slice(0, k).map((_, i) => 100 + i))
    })

  it('a body cut short or with something after it is a fault', () => {
    const body = bodyOf(events.slice(0, 10))
    expect(scanBody(body.slice(0, -1), 1, () => 0)).toMatchObject({ index: 10 })
    expect(scanBody(`${body} `, 1, () => 0)).toMatchObject({ index: 10 })
    expect(scanBody(body.slice(0, 40), 1, () => 0)).toMatchObject({ index: 0 })
  })
})

describe("where a body's elements stand", () => {
  const texts = (es: readonly MmEvent[]) => es.map(element)
  const check = (es: readonly MmEvent[]) => {
    const body = bodyOf(es)
    for (const count of [0, 1, 2, Math.floor(es.length / 2), es.length]) {
      const p = elementBounds(body, count, es.length)!
      expect(p, `count ${count}`).not.toBeNull()
      expect(Array.from({ length: count }, (_, k) => elementText(body, p, k))).toEqual(texts(es).slice(0, count))
    }
    expect(elementBounds(body, es.length + 1, es.length)).toBeNull()
  }

  it('every element of a run, found by the marks between elements', () => check(events))

  it('a data string that holds the mark between elements: the walk that skips strings finds them', () => {
    const odd: MmEvent[] = events.slice(0, 60).map((e, i) => (i % 9 === 4 ? { seq: e.seq, t: e.t, cpu: e.cpu, type: 'OpSkipped', data: { op: '}],[', reason: '"}],[0,' } } : e))
    check(odd)
  })

  it('a batch that says it holds more or fewer events than its body: the walk decides', () => {
    const body = bodyOf(events.slice(0, 30))
    expect(elementText(body, elementBounds(body, 5, 31)!, 4)).toBe(element(events[4]!))
    expect(elementText(body, elementBounds(body, 5, 12)!, 4)).toBe(element(events[4]!))
    expect(elementBounds(body, 31, 40)).toBeNull()
  })
})

describe('decoding a batch', () => {
  it('the structural decode gives exactly the events the codecs give, and the engine emitted', () => {
    const elements = parseBody(place, 1, bodyOf(events))
    const checked = elements.map((el, i) => decodeChecked(place, i + 1, el))
    expect(checked).toEqual(elements.map((el, i) => decodeFull(place, i + 1, el)))
    expect(checked).toEqual(events)
    // Key order too: `mmsim events --json` prints what it printed from schema 3's rows.
    const withCause = checked.find((e) => e.cause !== undefined)!
    expect(Object.keys(withCause)).toEqual(['seq', 't', 'cpu', 'type', 'data', 'cause'])
  })

  const valid = (): unknown[] => JSON.parse(element(events.find((e) => e.cause !== undefined && e.cpu !== null)!)) as unknown[]
  const broken: [string, (f: unknown[]) => unknown, RegExp][] = [
    ['six fields', (f) => f.slice(0, 6), /array of 7 fields/],
    ['not an array', () => ({ t: 1 }), /array of 7 fields/],
    ['a negative time', (f) => [-1, ...f.slice(1)], /^.*t: /],
    ['a fractional time', (f) => [1.5, ...f.slice(1)], /t: /],
    ['CPU 256', (f) => [f[0], 256, ...f.slice(2)], /cpu: /],
    ['an unknown type', (f) => [f[0], f[1], 'PageAlocated', ...f.slice(3)], /unknown event type "PageAlocated"/],
    ['cause 0', (f) => [...f.slice(0, 5), 0, f[6]], /cause: /],
    ['a negative pfn', (f) => [...f.slice(0, 3), -4, ...f.slice(4)], /pfn: /],
    ['data that is an array', (f) => [...f.slice(0, 6), [1]], /data: /],
    ['data that is null', (f) => [...f.slice(0, 6), null], /data: /],
  ]
  for (const [what, edit, message] of broken)
    it(`${what}: a StoreError naming the file, run and seq`, () => {
      const el = edit(valid())
      for (const decode of [decodeChecked, decodeFull]) {
        expect(() => decode(place, 42, el)).toThrow(StoreError)
        expect(() => decode(place, 42, el)).toThrow(/^x\.db: run 7 seq 42: /)
        expect(() => decode(place, 42, el)).toThrow(message)
      }
    })

  it('the codecs still check what the structure does not: a field of the data', () => {
    const f = JSON.parse(element(events.find((e) => e.type === 'PageAllocated')!)) as unknown[]
    const el = [...f.slice(0, 6), { ...(f[6] as object), pfn: 'x' }]
    expect(() => decodeChecked(place, 3, el)).not.toThrow()
    expect(() => decodeFull(place, 3, el)).toThrow(/^x\.db: run 7 seq 3 \(\w+\): /)
  })

  it('a body that is not JSON names the seq of the event that breaks it', () => {
    const some = events.slice(0, 30)
    const body = `[${some.map((e, i) => (i === 17 ? element(e).replace('}]', ']') : element(e))).join(',')}]`
    expect(() => parseBody(place, 500, body)).toThrow(/^x\.db: run 7 seq 517: the stored batch is not JSON/)
  })
})
