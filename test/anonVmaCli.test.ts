// The anon_vma commands a user types: `mmsim state anon-vma` over a stored fork-heavy run (the
// trees, a process, a page, JSON, and the questions the run cannot answer), and `mmsim experiment
// anon-vma-scaling` (a small one end to end, bad input, the exit code of a finding).
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { anonVmaView, Folder, type AnonVmaView } from '../projections'
import { openForRead, readEvents } from '../storage'
import { cli, tmpDir } from './helpers'

describe('mmsim state anon-vma', () => {
  let db: string
  let pfn: number

  beforeAll(async () => {
    db = path.join(tmpDir(), 'anon.db')
    const r = await cli('run', '--db', db, '--workload', 'workloads/anon-vma-fork.json', '--no-progress', '--json')
    expect(r.code).toBe(0)
    const c = openForRead(db)
    try {
      for (const e of readEvents(c, db, 1, { types: ['AnonRmapAdded'], limit: 1 })) if (e.type === 'AnonRmapAdded') pfn = e.data.pfn
    } finally {
      c.close()
    }
  })

  it('prints the anon_vma trees from their roots and each process’s VMAs with their chains', async () => {
    const r = await cli('state', 'anon-vma', '--db', db)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^anon_vma linking chain, lockRmap on, anonVmaReuse fixed, anonVmaPrepare recheck$/m)
    expect(r.out).toContain('anon_vma trees (refcount, num_children, num_active_vmas')
    expect(r.out).toMatch(/^ {2}av0 \(root\) {2}ref \d+ {2}children \d+ {2}active \d+ {2}pages \d+ {2}vmas mm\d+\/vma\d+/m)
    expect(r.out).toMatch(/^ {2}process 4$/m)
    expect(r.out).toMatch(/chain av\d+ → av\d+/)
  })

  it('--at folds to a seq: right after the first fork the child is chained to its own anon_vma and its parent’s', async () => {
    const c = openForRead(db)
    let seq = 0
    try {
      for (const e of readEvents(c, db, 1, { types: ['AnonVmaCreated'], limit: 1 })) seq = e.seq
    } finally {
      c.close()
    }
    const r = await cli('state', 'anon-vma', '--db', db, '--at', String(seq), '--json')
    expect(r.code).toBe(0)
    const v = JSON.parse(r.out) as AnonVmaView & { seq: number }
    expect(v.seq).toBe(seq)
    expect(v.totals.anonVmas).toBe(2)
    expect(v.trees).toHaveLength(1)
    expect(v.trees[0]!.children.map((n) => n.id)).toEqual([1])
    const child = v.processes.find((p) => p.vmas.some((x) => x.anonVma === 1))!
    expect(child.vmas[0]!.chain).toEqual([1, 0])
  })

  it('--mm shows one process and the trees it is chained to; --pfn one page’s rmap and the walk of it', async () => {
    const m = await cli('state', 'anon-vma', '--db', db, '--mm', '4', '--json')
    expect(m.code).toBe(0)
    const v = JSON.parse(m.out) as AnonVmaView
    expect(v.processes.map((p) => p.mm)).toEqual([4])
    const p = await cli('state', 'anon-vma', '--db', db, '--at', '40', '--pfn', `0x${pfn.toString(16)}`)
    expect(p.code).toBe(0)
    expect(p.out).toMatch(new RegExp(`^page 0x${pfn.toString(16)}: page->mapping av0 \\(root av0\\), index 0x0, mapcount 1, on the LRU$`, 'm'))
    expect(p.out).toMatch(/an rmap walk visits 1 VMA\(s\):\n {4}mm1\/vma0 at 0x0: maps it/)
  })

  it('the JSON is the library’s view (anonVmaView), as a fold of the same run gives it', async () => {
    const r = await cli('state', 'anon-vma', '--db', db, '--json')
    const c = openForRead(db)
    const f = new Folder()
    try {
      for (const e of readEvents(c, db, 1)) f.apply(e)
    } finally {
      c.close()
    }
    const { run, seq, from, ...view } = JSON.parse(r.out) as AnonVmaView & { run: number; seq: number; from: unknown }
    expect(run).toBe(1)
    // A run this short has no snapshot: the answer says it was folded from seq 1.
    expect(from).toBeNull()
    expect(seq).toBe(f.current!.stats.lastSeq)
    expect(view).toEqual(JSON.parse(JSON.stringify(anonVmaView(f.current!))))
  })

  it('a frame outside the machine, or a seq past the run, is exit 2 with what the run has', async () => {
    const p = await cli('state', 'anon-vma', '--db', db, '--pfn', '0x9999999')
    expect(p.code).toBe(2)
    expect(p.err).toContain('is outside the machine of run 1')
    const a = await cli('state', 'anon-vma', '--db', db, '--at', '99999999')
    expect(a.code).toBe(2)
    expect(a.err).toContain('is past the end of run 1')
  })
})

describe('mmsim experiment anon-vma-scaling', () => {
  it('N = P = 3: both runs stored, the table side by side, exit 0', async () => {
    const db = path.join(tmpDir(), 'exp.db')
    const r = await cli('experiment', 'anon-vma-scaling', '--children', '3', '--pages', '3', '--db', db)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^linking +pages +anon_vmas +avg VMAs\/walk +max +expected +walks +sampled avg +sampled max +events +wall +run$/m)
    expect(r.out).toMatch(/^legacy +12 +1 +4\.00 +4 +4\.00 +4 +4\.00 +4 +[\d,]+ +[\d.]+s +1$/m)
    expect(r.out).toMatch(/^chain +12 +4 +1\.75 +4 +1\.75 +12 +1\.75 +4 +[\d,]+ +[\d.]+s +2$/m)
    expect(r.out).toMatch(/events stored in .*exp\.db by 2 run\(s\), in [\d.]+s/)
    const runs = await cli('runs', '--db', db, '--json')
    expect(runs.out.trim().split('\n')).toHaveLength(2)
  })

  it('--json: the rows, the events stored, no findings', async () => {
    const r = await cli('experiment', 'anon-vma-scaling', '--children', '2', '--pages', '2', '--sample', '1', '--db', path.join(tmpDir(), 'e.db'), '--json')
    expect(r.code).toBe(0)
    const j = JSON.parse(r.out) as { rows: { linking: string; exact: { average: number } }[]; events: number; findings: string[] }
    expect(j.rows.map((x) => [x.linking, x.exact.average])).toEqual([
      ['legacy', 3],
      ['chain', 5 / 3],
    ])
    expect(j.events).toBeGreaterThan(0)
    expect(j.findings).toEqual([])
  })

  it('bad input is exit 2 with a message: a missing count, a zero, a guest too big', async () => {
    for (const [args, message] of [
      [['--pages', '3'], 'give --children N and --pages P'],
      [['--children', '0', '--pages', '3'], '--children: expected an integer 1..65536, got "0"'],
      [['--children', '4000', '--pages', '4000'], 'at most 4,194,304 (16 GiB)'],
    ] as const) {
      const r = await cli('experiment', 'anon-vma-scaling', ...args, '--db', path.join(tmpDir(), 'x.db'))
      expect(r.code, r.err).toBe(2)
      expect(r.err).toContain(message)
    }
  })
})
