// The anon_vma projection as bytes and back, for snapshots (ROADMAP: every projection cheap to
// restore): LEB128 varints, zigzag for values that may be negative, every Map and list in its
// order (the order is state: a walk follows the interval tree in link order, the LRU is oldest
// first). Frames are written only when they hold an anonymous page, so a big guest with little
// anonymous memory snapshots small.
import { RMAP_WALKS, type RmapWalkKind } from '../../events/anon'
import { type RmapConfig } from '../../events/machine'
import { assert } from '../../lib'
import { createAnonVmaState, NO_ANON_VMA, type AnonVmaState } from './state'
import * as t from 'io-ts'
import type { SnapshotPart } from '../snapshotPart'

const FORMAT = 1

const CONFIG_VALUES: { readonly [K in keyof RmapConfig]: readonly RmapConfig[K][] } = {
  anonVmaLinking: ['chain', 'legacy'],
  lockRmap: ['on', 'off'],
  anonVmaReuse: ['fixed', 'degree', 'off'],
  anonVmaPrepare: ['recheck', 'unchecked'],
}
const CONFIG_KEYS = Object.keys(CONFIG_VALUES) as (keyof RmapConfig)[]

class Writer {
  private buf = new Uint8Array(1024)
  private n = 0

  uint(v: number): void {
    assert(Number.isSafeInteger(v) && v >= 0, `a snapshot writes non-negative integers, got ${v}`)
    if (this.n + 8 > this.buf.length) {
      const b = new Uint8Array(this.buf.length * 2)
      b.set(this.buf)
      this.buf = b
    }
    while (v >= 0x80) {
      this.buf[this.n++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.n++] = v
  }

  /** Zigzag: 0, -1, 1, -2, ... as 0, 1, 2, 3, ... */
  int(v: number): void {
    this.uint(v >= 0 ? v * 2 : -v * 2 - 1)
  }

  list(xs: readonly number[]): void {
    this.uint(xs.length)
    for (const x of xs) this.uint(x)
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.n)
  }
}

class Reader {
  private at = 0
  constructor(private readonly buf: Uint8Array) {}

  uint(): number {
    let v = 0
    let scale = 1
    for (;;) {
      assert(this.at < this.buf.length, 'an anon_vma snapshot ends inside a number')
      const b = this.buf[this.at++]!
      v += (b & 0x7f) * scale
      if (b < 0x80) return v
      scale *= 0x80
    }
  }

  int(): number {
    const u = this.uint()
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2
  }

  list(): number[] {
    return Array.from({ length: this.uint() }, () => this.uint())
  }

  get done(): boolean {
    return this.at === this.buf.length
  }
}

export const snapshotAnonVma = (s: AnonVmaState): Uint8Array => {
  const w = new Writer()
  w.uint(FORMAT)
  for (const k of CONFIG_KEYS) w.uint((CONFIG_VALUES[k] as readonly string[]).indexOf(s.config[k]))
  w.uint(s.pfnEnd)
  w.uint(s.nextVma)
  w.uint(s.nextAnonVma)
  w.uint(s.vmas.size)
  for (const v of s.vmas.values()) {
    w.uint(v.id)
    w.uint(v.mm)
    w.uint(v.start)
    w.uint(v.end)
    w.uint(v.pgoff)
    w.uint((v.writable ? 1 : 0) | (v.unlinked ? 2 : 0))
    w.int(v.anonVma ?? -1)
    w.list(v.chain)
  }
  w.uint(s.mmVmas.size)
  for (const [mm, ids] of s.mmVmas) {
    w.uint(mm)
    w.list(ids)
  }
  w.uint(s.anonVmas.size)
  for (const av of s.anonVmas.values()) {
    w.uint(av.id)
    w.uint(av.root)
    w.uint(av.parent)
    w.int(av.refcount)
    w.int(av.numChildren)
    w.int(av.numActiveVmas)
    w.int(av.mappedPages)
    w.list(av.vmas)
  }
  const frames: number[] = []
  for (let pfn = 0; pfn < s.pfnEnd; pfn++) if (s.mapping[pfn] !== NO_ANON_VMA || s.index[pfn] !== -1 || s.mapcount[pfn] !== 0 || s.isolated[pfn] !== 0) frames.push(pfn)
  w.uint(frames.length)
  let last = 0
  for (const pfn of frames) {
    w.uint(pfn - last)
    last = pfn
    w.int(s.mapping[pfn]!)
    w.int(s.index[pfn]!)
    w.int(s.mapcount[pfn]!)
    w.uint(s.isolated[pfn]!)
  }
  w.list([...s.lru])
  w.uint(s.walks.size)
  for (const [cpu, x] of s.walks) {
    w.uint(cpu)
    w.uint(x.pfn)
    w.uint(x.anonVma)
    w.uint(RMAP_WALKS.indexOf(x.walk))
    w.uint(x.mapcount)
    w.list(x.present)
  }
  w.uint(s.stats.walks)
  w.uint(s.stats.visited)
  w.uint(s.stats.visitedMax)
  w.uint(s.stats.mapped)
  w.uint(s.ptesWithoutRmap)
  return w.bytes()
}

/**
 * The state a snapshot holds. `into`, a state createAnonVmaState just made for the same machine,
 * is filled in place when the snapshot's configuration and size are its own: a restore then
 * allocates the per-frame arrays once, not twice (a fifth of a restore's time on a 2 GiB guest).
 */
export const restoreAnonVma = (bytes: Uint8Array, into?: AnonVmaState): AnonVmaState => {
  const r = new Reader(bytes)
  assert(r.uint() === FORMAT, `an anon_vma snapshot of format ${FORMAT}`)
  const config = Object.fromEntries(CONFIG_KEYS.map((k) => [k, CONFIG_VALUES[k][r.uint()]])) as unknown as RmapConfig
  for (const k of CONFIG_KEYS) assert(config[k] !== undefined, `the snapshot's ${k} is one mmsim knows`)
  const pfnEnd = r.uint()
  const fresh = into !== undefined && into.pfnEnd === pfnEnd && CONFIG_KEYS.every((k) => into.config[k] === config[k]) && into.vmas.size === 0 && into.anonVmas.size === 0
  const s = fresh ? into : createAnonVmaState(config, pfnEnd)
  s.nextVma = r.uint()
  s.nextAnonVma = r.uint()
  for (let n = r.uint(); n > 0; n--) {
    const id = r.uint()
    const mm = r.uint()
    const start = r.uint()
    const end = r.uint()
    const pgoff = r.uint()
    const flags = r.uint()
    const anonVma = r.int()
    s.vmas.set(id, { id, mm, start, end, pgoff, writable: (flags & 1) !== 0, unlinked: (flags & 2) !== 0, anonVma: anonVma < 0 ? null : anonVma, chain: r.list() })
  }
  for (let n = r.uint(); n > 0; n--) s.mmVmas.set(r.uint(), r.list())
  for (let n = r.uint(); n > 0; n--) {
    const id = r.uint()
    const root = r.uint()
    const parent = r.uint()
    const refcount = r.int()
    const numChildren = r.int()
    const numActiveVmas = r.int()
    const mappedPages = r.int()
    s.anonVmas.set(id, { id, root, parent, refcount, numChildren, numActiveVmas, mappedPages, vmas: r.list() })
  }
  let pfn = 0
  for (let n = r.uint(); n > 0; n--) {
    pfn += r.uint()
    s.mapping[pfn] = r.int()
    s.index[pfn] = r.int()
    s.mapcount[pfn] = r.int()
    s.isolated[pfn] = r.uint()
  }
  for (const p of r.list()) s.lru.add(p)
  for (let n = r.uint(); n > 0; n--) {
    const cpu = r.uint()
    const p = r.uint()
    const anonVma = r.uint()
    const walk: RmapWalkKind | undefined = RMAP_WALKS[r.uint()]
    assert(walk !== undefined, 'the snapshot names a walk mmsim knows')
    const mapcount = r.uint()
    s.walks.set(cpu, { pfn: p, anonVma, walk, mapcount, present: r.list() })
  }
  s.stats.walks = r.uint()
  s.stats.visited = r.uint()
  s.stats.visitedMax = r.uint()
  s.stats.mapped = r.uint()
  s.ptesWithoutRmap = r.uint()
  assert(r.done, 'an anon_vma snapshot has nothing after its last field')
  return s
}

/**
 * The anon_vma projection as a part of the whole state's snapshot (projections/snapshot.ts): its
 * own compact encoding, as base64 in the snapshot's JSON (the snapshot is deflated as a whole).
 * It has no per-frame typed arrays worth a chunked image: only frames holding anonymous pages
 * are written.
 */
export const anonVmaSnapshot: SnapshotPart<string> = {
  arrays: () => [],
  save: ({ anonVma }) => Buffer.from(snapshotAnonVma(anonVma)).toString('base64'),
  codec: t.string,
  load: (s, saved) => {
    const restored = restoreAnonVma(new Uint8Array(Buffer.from(saved, 'base64')), s.anonVma)
    if (restored.pfnEnd !== s.anonVma.pfnEnd) return `the anon_vma snapshot covers ${restored.pfnEnd} frames, the machine ${s.anonVma.pfnEnd}`
    if (restored !== s.anonVma) Object.assign(s.anonVma, restored)
    return null
  },
}
