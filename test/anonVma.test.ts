// Anonymous reverse mapping against structures computed by hand (kernel-facts.md §3): the exact
// events of a fault and a fork, the anon_vma tree they build, COW by copy and by reuse
// (page_move_anon_rmap), unlink_anon_vmas' two passes with the root freed last, legacy linking,
// split and boundary moves; then the store: a fork-heavy run folded back from the database
// equals the live state field by field, and a snapshot restores it.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { foldRun } from '../analysis/fold'
import { resolveConfig } from '../engine/config'
import { simulate } from '../engine/run'
import { compileWorkload } from '../engine/workload/compile'
import type { MmEvent } from '../events'
import { runToStore } from '../hunt/runToStore'
import { HEAP_PAGES } from '../workload/codec'
import { Folder, anonVmaInvariants, checkInvariants, diffStates, restoreAnonVma, snapshotAnonVma, type AnonVmaState, type MmState } from '../projections'
import { openForRead } from '../storage'
import { loadWorkload } from '../workload/load'
import { runInMemory, tmpDir, workload } from './helpers'

const ANON = new Set([
  'MmCreated',
  'MmExited',
  'VmaMapped',
  'VmaSplit',
  'VmaAdjusted',
  'VmaProtectionChanged',
  'VmaRemoved',
  'AnonVmaPrepared',
  'AnonVmaCloned',
  'AnonVmaCreated',
  'AnonVmaUnlinked',
  'AnonVmaPut',
  'AnonRmapAdded',
  'AnonRmapMoved',
  'PteSet',
  'PteCleared',
  'PteWriteChanged',
])

/** The anonymous-memory events of a run as (type, data), boot and allocator events left out. */
const anonEvents = (events: readonly MmEvent[]) => events.filter((e) => ANON.has(e.type)).map((e) => ({ type: e.type, data: e.data as unknown }))

const oneCpu = { cpus: 1, zones: [{ name: 'Normal', pages: 2048 }] }

/** The anon_vmas as plain records (id → root, parent, counts, tree) and each VMA's anon_vma and chain. */
const tree = (a: AnonVmaState) => ({
  anonVmas: Object.fromEntries(
    [...a.anonVmas.values()].map((av) => [
      av.id,
      { root: av.root, parent: av.parent, refcount: av.refcount, numChildren: av.numChildren, numActiveVmas: av.numActiveVmas, vmas: av.vmas, mappedPages: av.mappedPages },
    ]),
  ),
  vmas: Object.fromEntries([...a.vmas.values()].map((v) => [v.id, { mm: v.mm, range: [v.start, v.end], anonVma: v.anonVma, chain: v.chain }])),
})

describe('a fault and a fork, event by event (anon_vma_chain)', () => {
  const { events, result } = runInMemory(
    workload(
      [
        { op: 'anon', cpu: 0, mm: 1, pages: 2 },
        { op: 'fork', cpu: 0, parent: 1, child: 2 },
      ],
      oneCpu,
    ),
  )
  const pfns = events.filter((e) => e.type === 'AnonRmapAdded').map((e) => (e.type === 'AnonRmapAdded' ? e.data.pfn : -1))
  const [a, b] = pfns as [number, number]

  it('do_anonymous_page: mmap, anon_vma_prepare once, page_add_new_anon_rmap before each pte; fork: the child VMA, anon_vma_fork, write-protected ptes in both', () => {
    expect(anonEvents(events)).toEqual([
      { type: 'MmCreated', data: { mm: 1, parent: null } },
      { type: 'VmaMapped', data: { mm: 1, vma: 0, start: 0, end: HEAP_PAGES, pgoff: 0, writable: true, how: 'mmap' } },
      { type: 'AnonVmaPrepared', data: { vma: 0, anonVma: 0, mergeable: false } },
      { type: 'AnonRmapAdded', data: { pfn: a, vma: 0, anonVma: 0, index: 0, exclusive: true } },
      { type: 'PteSet', data: { pfn: a, mm: 1, vpn: 0, writable: true } },
      { type: 'AnonRmapAdded', data: { pfn: b, vma: 0, anonVma: 0, index: 1, exclusive: true } },
      { type: 'PteSet', data: { pfn: b, mm: 1, vpn: 1, writable: true } },
      { type: 'MmCreated', data: { mm: 2, parent: 1 } },
      { type: 'VmaMapped', data: { mm: 2, vma: 1, start: 0, end: HEAP_PAGES, pgoff: 0, writable: true, how: 'fork' } },
      { type: 'AnonVmaCloned', data: { vma: 1, src: 0, anonVma: null, reused: false } },
      { type: 'AnonVmaCreated', data: { vma: 1, anonVma: 1, parent: 0 } },
      { type: 'PteWriteChanged', data: { pfn: a, mm: 1, vpn: 0, writable: false } },
      { type: 'PteSet', data: { pfn: a, mm: 2, vpn: 0, writable: false } },
      { type: 'PteWriteChanged', data: { pfn: b, mm: 1, vpn: 1, writable: false } },
      { type: 'PteSet', data: { pfn: b, mm: 2, vpn: 1, writable: false } },
    ])
  })

  it('builds the tree: the root pinned by its child, a root counting itself as a child, the child VMA chained to its own anon_vma and the parent’s', () => {
    expect(tree(result.state.anonVma)).toEqual({
      anonVmas: {
        0: { root: 0, parent: 0, refcount: 2, numChildren: 2, numActiveVmas: 1, vmas: [0, 1], mappedPages: 2 },
        1: { root: 0, parent: 0, refcount: 1, numChildren: 0, numActiveVmas: 1, vmas: [1], mappedPages: 0 },
      },
      vmas: { 0: { mm: 1, range: [0, HEAP_PAGES], anonVma: 0, chain: [0] }, 1: { mm: 2, range: [0, HEAP_PAGES], anonVma: 1, chain: [1, 0] } },
    })
    const s = result.state.anonVma
    expect([s.mapping[a], s.mapping[b], s.mapcount[a], s.mapcount[b], s.index[a], s.index[b]]).toEqual([0, 0, 2, 2, 0, 1])
  })
})

describe('COW, reuse and exit (anon_vma_chain)', () => {
  const ops = [
    { op: 'anon', cpu: 0, mm: 1, pages: 2 },
    { op: 'fork', cpu: 0, parent: 1, child: 2 },
    { op: 'anon-write', cpu: 0, mm: 2, index: 0, count: 1 },
    { op: 'anon-write', cpu: 0, mm: 1, index: 0, count: 1 },
    { op: 'exit', cpu: 0, mm: 1 },
    { op: 'anon-write', cpu: 0, mm: 2, index: 1, count: 1 },
    { op: 'exit', cpu: 0, mm: 2 },
  ] as const
  const { events } = runInMemory(workload([...ops], oneCpu))
  const anon = anonEvents(events)
  const first = events.filter((e) => e.type === 'AnonRmapAdded').map((e) => (e.type === 'AnonRmapAdded' ? e.data : null))
  const [a, b, copy] = first.map((d) => d!.pfn) as [number, number, number]

  it('the child’s store copies: the copy is exclusive, in the child’s own anon_vma, and the old page loses a mapping', () => {
    expect(first[2]).toEqual({ pfn: copy, vma: 1, anonVma: 1, index: 0, exclusive: true })
    const at = anon.findIndex((e) => e.type === 'AnonRmapAdded' && (e.data as { pfn: number }).pfn === copy)
    expect(anon.slice(at, at + 3)).toEqual([
      { type: 'AnonRmapAdded', data: { pfn: copy, vma: 1, anonVma: 1, index: 0, exclusive: true } },
      { type: 'PteCleared', data: { pfn: a, mm: 2, vpn: 0 } },
      { type: 'PteSet', data: { pfn: copy, mm: 2, vpn: 0, writable: true } },
    ])
  })

  it('the parent, now the page’s last mapper, reuses it: it is in its own anon_vma already, so only the pte becomes writable', () => {
    const at = anon.findIndex((e) => e.type === 'PteWriteChanged' && (e.data as { writable: boolean }).writable)
    expect(anon[at]).toEqual({ type: 'PteWriteChanged', data: { pfn: a, mm: 1, vpn: 0, writable: true } })
    expect(anon[at - 1]!.type).not.toBe('AnonRmapMoved')
  })

  it('after the parent exits, the child reuses the page it inherited and page_move_anon_rmap moves it to the child’s anon_vma', () => {
    const at = anon.findIndex((e) => e.type === 'AnonRmapMoved')
    expect(anon.slice(at, at + 2)).toEqual([
      { type: 'AnonRmapMoved', data: { pfn: b, vma: 1, anonVma: 1 } },
      { type: 'PteWriteChanged', data: { pfn: b, mm: 2, vpn: 1, writable: true } },
    ])
  })

  it('unlink_anon_vmas: the parent leaves the root’s tree; the child’s exit empties both, puts its own first and the root last', () => {
    const unlinks = anon.filter((e) => e.type === 'AnonVmaUnlinked' || e.type === 'AnonVmaPut' || e.type === 'VmaRemoved')
    expect(unlinks).toEqual([
      { type: 'AnonVmaUnlinked', data: { vma: 0, emptied: [] } },
      { type: 'VmaRemoved', data: { vma: 0 } },
      { type: 'AnonVmaUnlinked', data: { vma: 1, emptied: [1, 0] } },
      { type: 'AnonVmaPut', data: { vma: 1, anonVma: 1, freed: [1] } },
      { type: 'AnonVmaPut', data: { vma: 1, anonVma: 0, freed: [0] } },
      { type: 'VmaRemoved', data: { vma: 1 } },
    ])
  })
})

describe('legacy linking (before 5beb49305251)', () => {
  it('a child shares its parent’s anon_vma, and a page it COWs goes there too: one tree of every VMA', () => {
    const { events, result } = runInMemory(
      workload(
        [
          { op: 'anon', cpu: 0, mm: 1, pages: 1 },
          { op: 'fork', cpu: 0, parent: 1, child: 2 },
          { op: 'fork', cpu: 0, parent: 1, child: 3 },
          { op: 'anon-write', cpu: 0, mm: 3, index: 0, count: 1 },
        ],
        oneCpu,
        { variants: { anonVmaLinking: 'legacy' } },
      ),
    )
    expect(anonEvents(events).filter((e) => e.type === 'AnonVmaCloned')).toEqual([
      { type: 'AnonVmaCloned', data: { vma: 1, src: 0, anonVma: 0, reused: false } },
      { type: 'AnonVmaCloned', data: { vma: 2, src: 0, anonVma: 0, reused: false } },
    ])
    expect(tree(result.state.anonVma).anonVmas).toEqual({ 0: { root: 0, parent: 0, refcount: 1, numChildren: 1, numActiveVmas: 3, vmas: [0, 1, 2], mappedPages: 2 } })
    expect(events.filter((e) => e.type === 'AnonRmapAdded').map((e) => (e.type === 'AnonRmapAdded' ? e.data.anonVma : -1))).toEqual([0, 0])
  })
})

describe('split and boundary moves (vma_adjust)', () => {
  const base = [
    { op: 'anon', cpu: 0, mm: 1, pages: 16 },
    { op: 'mprotect', cpu: 0, mm: 1, index: 8, count: 8, writable: false },
    { op: 'mprotect', cpu: 0, mm: 1, index: 6, count: 2, writable: false },
  ] as const
  const adjusted = (lockRmap: 'on' | 'off') =>
    anonEvents(runInMemory(workload([...base], oneCpu, { variants: { lockRmap } })).events).filter(
      (e) => e.type === 'VmaSplit' || e.type === 'VmaAdjusted' || e.type === 'VmaProtectionChanged',
    )

  it('mprotect of [8, 16) splits the heap twice; mprotect of [6, 8) is case 4: the first VMA shrinks and the next grows down (one step under the root’s lock)', () => {
    expect(adjusted('on')).toEqual([
      { type: 'VmaSplit', data: { vma: 0, new: 1, at: 8, newBelow: true } },
      { type: 'VmaSplit', data: { vma: 0, new: 2, at: 16, newBelow: false } },
      { type: 'VmaProtectionChanged', data: { vma: 0, writable: false } },
      {
        type: 'VmaAdjusted',
        data: {
          vmas: [
            { vma: 1, start: 0, end: 6, pgoff: 0 },
            { vma: 0, start: 6, end: 16, pgoff: 6 },
          ],
        },
      },
    ])
  })

  it('with lockRmap off each VMA changes in its own step', () => {
    expect(adjusted('off').slice(-2)).toEqual([
      { type: 'VmaAdjusted', data: { vmas: [{ vma: 1, start: 0, end: 6, pgoff: 0 }] } },
      { type: 'VmaAdjusted', data: { vmas: [{ vma: 0, start: 6, end: 16, pgoff: 6 }] } },
    ])
  })

  it('munmap of the middle splits at both edges, unlinks and removes the middle; the pages go, the rest keep the anon_vma', () => {
    const { events, result } = runInMemory(
      workload(
        [
          { op: 'anon', cpu: 0, mm: 1, pages: 8 },
          { op: 'munmap', cpu: 0, mm: 1, index: 2, count: 4 },
        ],
        oneCpu,
      ),
    )
    expect(anonEvents(events).filter((e) => /^Vma|AnonVmaUnlinked/.test(e.type) && e.type !== 'VmaMapped')).toEqual([
      { type: 'VmaSplit', data: { vma: 0, new: 1, at: 2, newBelow: true } },
      { type: 'VmaSplit', data: { vma: 0, new: 2, at: 6, newBelow: true } },
      { type: 'AnonVmaUnlinked', data: { vma: 2, emptied: [] } },
      { type: 'VmaRemoved', data: { vma: 2 } },
    ])
    expect(tree(result.state.anonVma)).toEqual({
      anonVmas: { 0: { root: 0, parent: 0, refcount: 1, numChildren: 1, numActiveVmas: 2, vmas: [0, 1], mappedPages: 4 } },
      vmas: { 0: { mm: 1, range: [6, HEAP_PAGES], anonVma: 0, chain: [0] }, 1: { mm: 1, range: [0, 2], anonVma: 0, chain: [0] } },
    })
    expect(events.filter((e) => e.type === 'PcpFreed')).toHaveLength(4)
  })
})

describe('anonymous memory without guest page hinting, and with it', () => {
  it('the same fork-heavy workload runs on a hinting guest: every page state change is legal and the invariants hold', () => {
    const w = loadWorkload('workloads/anon-vma-fork.json')
    const { result } = runInMemory({ ...w, machine: { ...w.machine, guestPageHinting: true } })
    expect(result.violations).toBe(0)
    expect(result.finalCheck.violated).toEqual([])
  })
})

describe('the store and snapshots', () => {
  const w = loadWorkload('workloads/anon-vma-fork.json')

  it('a fork-heavy run folded back from the database equals the live state, and diffStates reads the anon_vma projection field by field', async () => {
    const db = path.join(tmpDir(), 'anon.db')
    const config = resolveConfig()
    const s = await runToStore({ workload: w, workloadSource: 'anon-vma-fork.json', seed: 5, db, config })
    const live = simulate({ workload: w, seed: 5, config, sink: { append: () => undefined } })
    const conn = openForRead(db)
    try {
      const folded = foldRun(conn, db, s.runId)
      expect(diffStates(live.state, folded.state)).toEqual([])
      // A single field changed is named by its path.
      const v = [...folded.state.anonVma.vmas.values()][0]!
      v.pgoff++
      expect(diffStates(live.state, folded.state)).toEqual([`state.anonVma.vmas.get(${v.id}).pgoff: ${v.pgoff - 1} != ${v.pgoff}`])
      v.pgoff--
      folded.state.anonVma.lru.delete([...folded.state.anonVma.lru][0]!)
      expect(diffStates(live.state, folded.state)[0]).toMatch(/^state\.anonVma\.lru/)
    } finally {
      conn.close()
    }
  })

  it('a run stored before this model (test/fixtures/v1.db: anonymous pages mapped without anon_vmas) still folds, its anonymous invariants holding', () => {
    const file = path.join(tmpDir(), 'v1.db')
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'v1.db'), file)
    const conn = openForRead(file)
    try {
      const { state } = foldRun(conn, file, 1)
      expect(state.anonVma.ptesWithoutRmap).toBeGreaterThan(0)
      expect(state.anonVma.vmas.size).toBe(0)
      expect(checkInvariants(anonVmaInvariants, state)).toEqual([])
    } finally {
      conn.close()
    }
  })

  it('snapshotAnonVma / restoreAnonVma: at every 97th event and inside each walk, the restored projection equals the live one, and its snapshot is the same bytes', () => {
    const events: MmEvent[] = []
    simulate({ workload: w, seed: 2, config: resolveConfig(), sink: { append: (e) => events.push(e) } })
    let checked = 0
    let walking = 0
    const f = new Folder()
    for (const e of events) {
      f.apply(e)
      if (e.seq % 97 !== 0 && e.seq !== events.length && e.type !== 'RmapWalkStarted') continue
      const s = f.current!
      const bytes = snapshotAnonVma(s.anonVma)
      const back = restoreAnonVma(bytes)
      expect(diffStates({ anonVma: s.anonVma } as unknown as MmState, { anonVma: back } as unknown as MmState)).toEqual([])
      expect(snapshotAnonVma(back)).toEqual(bytes)
      // Compact: a few bytes per anonymous frame and structure, not per frame of the machine.
      expect(bytes.length).toBeLessThan(64 + 16 * s.anonVma.lru.size + 64 * (s.anonVma.vmas.size + s.anonVma.anonVmas.size) + 24 * s.anonVma.walks.size)
      checked++
      if (s.anonVma.walks.size > 0) walking++
    }
    expect(checked).toBeGreaterThan(10)
    expect(walking).toBeGreaterThan(0)
  })
})

describe('workload checks of the anonymous ops', () => {
  const errors = (w: Parameters<typeof compileWorkload>[0]): string[] => {
    const c = compileWorkload(w)
    return 'errors' in c ? c.errors.map((e) => `${e.path}: ${e.message}`) : []
  }
  it('rmap takes a range of one process or a sample, not both; a range ends inside the heap', () => {
    expect(errors(workload([{ op: 'rmap', cpu: 0, mm: 1, index: 0, count: 2, sample: 3 }], oneCpu))).toEqual([
      '$.ops[0]: expected either "mm" (with "index" and "count") or "sample", not both and not neither',
    ])
    expect(errors(workload([{ op: 'rmap', cpu: 0 }], oneCpu))).toHaveLength(1)
    expect(errors(workload([{ op: 'rmap', cpu: 0, index: 4 }], oneCpu))).toEqual(['$.ops[0].mm: expected the process whose pages to walk'])
    expect(errors(workload([{ op: 'munmap', cpu: 0, mm: 1, index: HEAP_PAGES - 2, count: 4 }], oneCpu))).toEqual([
      `$.ops[0].count: expected the range to end inside the heap (${HEAP_PAGES} pages), got index ${HEAP_PAGES - 2} + count 4`,
    ])
  })
  it('the rmap variants need no hinting guest; the hinting ones still do', () => {
    expect(errors(workload([{ op: 'anon', cpu: 0, mm: 1, pages: 1 }], oneCpu, { variants: { lockRmap: 'off', anonVmaReuse: 'degree' } }))).toEqual([])
    expect(errors(workload([{ op: 'anon', cpu: 0, mm: 1, pages: 1 }], oneCpu, { variants: { discardList: 'off' } }))).toEqual([
      '$.variants: discardList, stateChange, volatileAt and forkVsDiscard switch guest page hinting, which needs machine.guestPageHinting: true',
    ])
  })
  it('a run records the rmap variants in MachineBooted only when the workload sets one', () => {
    const boot = (v: object) => runInMemory(workload([], oneCpu, v)).events[0]!
    expect(boot({}).data).not.toHaveProperty('rmap')
    expect(boot({ variants: { lockRmap: 'off' } }).data).toMatchObject({ rmap: { anonVmaLinking: 'chain', lockRmap: 'off', anonVmaReuse: 'fixed', anonVmaPrepare: 'recheck' } })
  })
  it('a store into a read-only VMA, or outside every VMA, is SIGSEGV: the op is skipped', () => {
    const { events } = runInMemory(
      workload(
        [
          { op: 'anon', cpu: 0, mm: 1, pages: 4 },
          { op: 'mprotect', cpu: 0, mm: 1, index: 0, count: 4, writable: false },
          { op: 'anon-write', cpu: 0, mm: 1, index: 1, count: 1 },
          { op: 'munmap', cpu: 0, mm: 1, index: 0, count: 8 },
          { op: 'anon-write', cpu: 0, mm: 1, index: 2, count: 1 },
        ],
        oneCpu,
      ),
    )
    expect(events.filter((e) => e.type === 'OpSkipped').map((e) => (e.type === 'OpSkipped' ? e.data.reason : ''))).toEqual([
      'process 1 heap page 1: its VMA is read-only (SIGSEGV)',
      'process 1 heap page 2: no VMA maps it (SIGSEGV)',
    ])
  })
})
