// The commands a user types: run the default workload, list the runs, read the events back with
// filters, look at the zones at any seq, check the run; and bad arguments exit 2 with a message.
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { eventSpan, type MmEvent } from '../events'
import { Folder, renderBuddyinfo } from '../projections'
import { openForRead, readEvents } from '../storage'
import type { RunSummary } from '../cli/commands/run'
import { cli, tmpDir } from './helpers'

const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0)
const jsonLines = <T = MmEvent>(s: string): T[] => lines(s).map((l) => JSON.parse(l) as T)

// The default workload (workloads/default.json): DMA32 of 128 MiB and Normal of 256 MiB, each
// handed to the buddy allocator at boot as order-10 blocks, 32 and 64 of them.
const BOOT_BUDDYINFO =
  'Node 0, zone    DMA32      0      0      0      0      0      0      0      0      0      0     32 \n' +
  'Node 0, zone   Normal      0      0      0      0      0      0      0      0      0      0     64 \n'

describe('mmsim on the default workload', () => {
  let db: string
  let text: { code: number; out: string; err: string }
  let json: { code: number; out: string; err: string }
  let summary: RunSummary
  /** Every stored event of run 1, read once, to check the filters against. */
  let all: MmEvent[]

  beforeAll(async () => {
    db = path.join(tmpDir(), 'mmsim.db')
    text = await cli('run', '--db', db, '--no-progress')
    json = await cli('run', '--db', db, '--no-progress', '--json', '--log-level', 'info')
    summary = JSON.parse(json.out) as RunSummary
    const c = openForRead(db)
    try {
      all = [...readEvents(c, db, 1)]
    } finally {
      c.close()
    }
  })

  describe('run', () => {
    it('exits 0 and prints the invariants and /proc/buddyinfo of the end state', () => {
      expect(text.code).toBe(0)
      expect(text.out).toContain('run 1 finished')
      expect(text.out).toContain('invariants: all hold')
      expect(text.out).toMatch(/^Node 0, zone {4}DMA32( +\d+){11} $/m)
      expect(text.out).toMatch(/^Node 0, zone {3}Normal( +\d+){11} $/m)
    })

    it('--json prints one JSON object: the run id, its events, no violations', () => {
      expect(json.code).toBe(0)
      expect(lines(json.out)).toHaveLength(1)
      expect(summary.runId).toBe(2)
      expect(summary.status).toBe('finished')
      expect(summary.events).toBeGreaterThan(0)
      expect(summary.invariants.violations).toBe(0)
      expect(summary.buddyinfo).not.toBe(BOOT_BUDDYINFO)
      // The text run printed the same end state: the default seed is the same.
      expect(text.out).toContain(summary.buddyinfo)
    })

    it('--log-level info logs the milestones on stderr as JSON lines, each with the run id', () => {
      const logs = lines(json.err).map((l) => JSON.parse(l) as { msg: string; runId?: number })
      for (const msg of ['run created', 'run starts', 'batch committed', 'run ends', 'run finished']) {
        const l = logs.find((x) => x.msg === msg)
        expect(l, msg).toBeDefined()
        expect(l!.runId, msg).toBe(2)
      }
      expect(lines(text.err)).toEqual([]) // the default level is warn
    })

    it('stores every event the summary counts', () => {
      expect(all.length).toBe(summary.events)
      expect(all.map((e) => e.seq)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1))
    })
  })

  describe('runs', () => {
    it('lists both runs as finished', async () => {
      const r = await cli('runs', '--db', db)
      expect(r.code).toBe(0)
      const rows = lines(r.out)
      expect(rows[0]).toMatch(/^run +created +workload +seed +strategy +status +outcome +events +violations +from$/)
      expect(rows.slice(1)).toHaveLength(2)
      for (const row of rows.slice(1)) expect(row).toMatch(/ default +1 +random +finished +Finished .* -$/)
    })

    it('--json gives one JSON line per run', async () => {
      const r = await cli('runs', '--db', db, '--json')
      expect(r.code).toBe(0)
      const runs = jsonLines<{ id: number; status: string; events: number; seed: number; headHash: string }>(r.out)
      expect(runs.map((x) => x.id)).toEqual([1, 2])
      for (const x of runs) expect(x).toMatchObject({ status: 'finished', events: summary.events, seed: 1, headHash: summary.headHash })
    })
  })

  describe('events', () => {
    it('--run 1 --limit 3 --json gives seq 1..3, MachineBooted first', async () => {
      const r = await cli('events', '--db', db, '--run', '1', '--limit', '3', '--json')
      expect(r.code).toBe(0)
      const es = jsonLines(r.out)
      expect(es.map((e) => e.seq)).toEqual([1, 2, 3])
      expect(es[0]!.type).toBe('MachineBooted')
      expect(es).toEqual(all.slice(0, 3))
    })

    it('without --json prints one line per event', async () => {
      const r = await cli('events', '--db', db, '--run', '1', '--from', '10', '--to', '14')
      expect(r.code).toBe(0)
      const rows = lines(r.out)
      expect(rows).toHaveLength(5)
      expect(rows.map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([10, 11, 12, 13, 14])
      rows.forEach((l, i) => expect(l).toContain(all[9 + i]!.type))
    })

    it('--type PcpDrained returns every event of that type and no other', async () => {
      const r = await cli('events', '--db', db, '--run', '1', '--type', 'PcpDrained', '--json')
      expect(r.code).toBe(0)
      const es = jsonLines(r.out)
      expect(es.length).toBeGreaterThan(0)
      expect(es.every((e) => e.type === 'PcpDrained')).toBe(true)
      expect(es.length).toBe(summary.eventsByType.PcpDrained)
    })

    it('--type takes a comma-separated list', async () => {
      const r = await cli('events', '--db', db, '--run', '1', '--type', 'PageblockMigratetypeSet,FreeBlockMoved', '--json')
      const es = jsonLines(r.out)
      expect(new Set(es.map((e) => e.type))).toEqual(new Set(['PageblockMigratetypeSet', 'FreeBlockMoved']))
      expect(es.length).toBe((summary.eventsByType.PageblockMigratetypeSet ?? 0) + (summary.eventsByType.FreeBlockMoved ?? 0))
    })

    it('--pfn N returns exactly the events whose span covers frame N', async () => {
      // A frame inside the first order-9 block the workload allocates, not at its head, so that
      // events about enclosing blocks are found as well as events about the frame itself.
      const huge = all.find((e) => e.type === 'PageAllocated' && e.data.tag === 'huge')
      expect(huge).toBeDefined()
      const pfn = (huge!.data as { pfn: number }).pfn + 300
      const r = await cli('events', '--db', db, '--run', '1', '--pfn', String(pfn), '--json')
      expect(r.code).toBe(0)
      const es = jsonLines(r.out)
      expect(es.length).toBeGreaterThan(0)
      for (const e of es) {
        const span = eventSpan(e)
        expect(span, `seq ${e.seq}`).not.toBeNull()
        expect(pfn, `seq ${e.seq}`).toBeGreaterThanOrEqual(span!.pfn)
        expect(pfn, `seq ${e.seq}`).toBeLessThan(span!.pfn + span!.npages)
      }
      const covering = all.filter((e) => {
        const s = eventSpan(e)
        return s !== null && s.pfn <= pfn && pfn < s.pfn + s.npages
      })
      expect(es.map((e) => e.seq)).toEqual(covering.map((e) => e.seq))
      expect(es.some((e) => e.seq === huge!.seq)).toBe(true)
    })

    it('--type Nope exits 2 and names the known types', async () => {
      const r = await cli('events', '--db', db, '--type', 'Nope')
      expect(r.code).toBe(2)
      expect(r.err).toContain('--type')
      expect(r.err).toContain('"Nope"')
      expect(r.err).toContain('PcpDrained')
      expect(r.out).toBe('')
    })

    it('--run of a run that does not exist exits 2', async () => {
      const r = await cli('events', '--db', db, '--run', '9')
      expect(r.code).toBe(2)
      expect(r.err).toContain('no run 9')
    })
  })

  describe('state', () => {
    const bootEnd = () => Math.max(...all.filter((e) => e.type === 'PageFreed' && e.data.from === 'boot').map((e) => e.seq))

    it('zone --at the end of boot prints /proc/buddyinfo as it was then', async () => {
      const at = bootEnd()
      const r = await cli('state', 'zone', '--db', db, '--run', '1', '--at', String(at), '--format', 'buddyinfo')
      expect(r.code).toBe(0)
      expect(r.out).toBe(BOOT_BUDDYINFO)
      // The same as folding the events read back up to that seq, without the command.
      const folder = new Folder()
      for (const e of all.slice(0, at)) folder.apply(e)
      expect(r.out).toBe(renderBuddyinfo(folder.current!.zone))
    })

    it('zone at the head prints the end state, which differs from boot', async () => {
      const r = await cli('state', 'zone', '--db', db, '--run', '1', '--format', 'buddyinfo')
      expect(r.code).toBe(0)
      expect(r.out).toBe(summary.buddyinfo)
      expect(r.out).not.toBe(BOOT_BUDDYINFO)
    })

    it('zone --format pagetypeinfo prints the free counts per migratetype and the pageblock counts', async () => {
      const r = await cli('state', 'zone', '--db', db, '--run', '1', '--at', String(bootEnd()), '--format', 'pagetypeinfo')
      expect(r.code).toBe(0)
      // The default workload hints, so it runs on s390: 1 MiB pageblocks (HPAGE_SHIFT 20).
      expect(r.out).toContain('Page block order: 8\n')
      expect(r.out).toMatch(/^Node 0, zone {4}DMA32 +0 +128 +0 +0 +0 $/m)
      expect(r.out).toMatch(/^Node 0, zone {3}Normal +0 +256 +0 +0 +0 $/m)
    })

    it('zone --json gives the run, the seq and both zones', async () => {
      const at = bootEnd()
      const r = await cli('state', 'zone', '--db', db, '--run', '1', '--at', String(at), '--json')
      expect(r.code).toBe(0)
      expect(lines(r.out)).toHaveLength(1)
      const s = JSON.parse(r.out) as { run: number; seq: number; zones: { zone: string; managed: number; nrFreePages: number; nrFree: number[] }[] }
      expect(s.run).toBe(1)
      expect(s.seq).toBe(at)
      expect(s.zones.map((z) => [z.zone, z.managed, z.nrFreePages, z.nrFree[10]])).toEqual([
        ['DMA32', 32768, 32768, 32],
        ['Normal', 65536, 65536, 64],
      ])
      const head = await cli('state', 'zone', '--db', db, '--run', '1', '--json')
      const h = JSON.parse(head.out) as { seq: number; zones: unknown }
      expect(h.seq).toBe(summary.events)
      expect(h.zones).toEqual(summary.zones)
    })

    it('an unknown view exits 2', async () => {
      const r = await cli('state', 'nope', '--db', db)
      expect(r.code).toBe(2)
      expect(r.err).toContain("unknown command 'nope'")
      expect(r.out).toBe('')
    })
  })

  describe('check', () => {
    it('--run 1 exits 0: integrity ok, all invariants hold', async () => {
      const r = await cli('check', '--db', db, '--run', '1')
      expect(r.code).toBe(0)
      expect(r.out).toContain('integrity: ok')
      expect(r.out).toContain(summary.headHash)
      expect(r.out).toContain('all invariants hold')
    })

    it('--json parses to the report', async () => {
      const r = await cli('check', '--db', db, '--run', '2', '--at', '5000', '--json')
      expect(r.code).toBe(0)
      const rep = JSON.parse(r.out) as { run: number; atSeq: number; integrity: { ok: boolean; events: number }; state: unknown[]; recorded: unknown[] }
      expect(rep).toMatchObject({ run: 2, atSeq: 5000, integrity: { ok: true, events: summary.events }, state: [], recorded: [] })
    })
  })
})

describe('bad arguments', () => {
  it('an unknown command exits 2 with the usage', async () => {
    const r = await cli('frobnicate')
    expect(r.code).toBe(2)
    expect(r.err).toContain("mmsim: unknown command 'frobnicate'")
    expect(r.err).toContain('mmsim --help')
  })

  it('no command exits 2 with the usage; --help exits 0', async () => {
    const none = await cli()
    expect(none.code).toBe(2)
    expect(none.err).toContain('Usage: mmsim')
    const h = await cli('--help')
    expect(h.code).toBe(0)
    expect(h.out).toContain('Usage: mmsim')
  })

  it('an unknown option exits 2 and names it', async () => {
    const db = path.join(tmpDir(), 'x.db')
    const r = await cli('run', '--db', db, '--sede', '3')
    expect(r.code).toBe(2)
    expect(r.err).toContain('--sede')
    const e = await cli('events', '--db', db, '--frm', '1')
    expect(e.code).toBe(2)
    expect(e.err).toContain('--frm')
  })

  it('--seed x exits 2 and says what it expected', async () => {
    const db = path.join(tmpDir(), 'x.db')
    const r = await cli('run', '--db', db, '--seed', 'x', '--no-progress')
    expect(r.code).toBe(2)
    expect(r.err).toContain('--seed: expected')
    expect(r.err).toContain('"x"')
  })

  it('a non-numeric --limit or --at exits 2', async () => {
    const db = path.join(tmpDir(), 'x.db')
    expect((await cli('events', '--db', db, '--limit', '0')).code).toBe(2)
    expect((await cli('state', 'zone', '--db', db, '--at', '-3')).code).toBe(2)
  })
})
