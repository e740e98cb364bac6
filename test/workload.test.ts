// A bad workload is refused before a run exists: `mmsim run` exits 2, the message names the file
// and the JSON path of what is wrong (STYLE.md §3), and the database gains no run.
import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { beforeAll, describe, expect, it } from 'vitest'
import { compileWorkload } from '../engine/workload/compile'
import { loadWorkload } from '../workload/load'
import { cli, tmpDir, workload } from './helpers'

const ROOT = path.resolve(__dirname, '..')

const machine = { cpus: 2, zones: [{ name: 'Normal', pages: 4096 }] }
const doc = (ops: unknown[], m: object = machine): string => JSON.stringify({ version: 1, name: 'bad', machine: m, ops })

interface Case {
  readonly name: string
  readonly text: string
  /** Fragments the message must contain; FILE stands for the workload's path. */
  readonly says: readonly string[]
}

const cases: Case[] = [
  { name: 'a file that is not JSON', text: '{ "version": 1, "ops": [', says: ['FILE: not JSON'] },
  {
    name: 'an order above MAX_ORDER - 1',
    text: doc([{ op: 'alloc', cpu: 0, order: 11 }]),
    says: ['FILE: $.ops[0].order: expected an integer 0..10, got 11'],
  },
  {
    name: 'a bad value inside a repeat',
    text: doc([
      { op: 'alloc', cpu: 0 },
      { op: 'repeat', times: 2, ops: [{ op: 'alloc', cpu: 0, order: 12 }] },
    ]),
    says: ['FILE: $.ops[1].ops[0].order: expected an integer 0..10, got 12'],
  },
  { name: 'a bad machine field', text: doc([], { cpus: 0, zones: machine.zones }), says: ['FILE: $.machine.cpus: expected an integer 1..64, got 0'] },
  { name: 'an unknown op', text: doc([{ op: 'alocate', cpu: 0 }]), says: ['FILE: $.ops[0].op: expected one of', '"alloc"', 'got "alocate"'] },
  { name: 'a misspelt field', text: doc([{ op: 'alloc', cpu: 0, ordr: 3 }]), says: ['FILE: $.ops[0].ordr', 'unknown field "ordr"', 'order'] },
  {
    name: 'freeing a tag that was never allocated',
    text: doc([{ op: 'free', cpu: 0, tag: 'ghost' }]),
    says: ['FILE: $.ops[0].tag: tag "ghost" is never allocated'],
  },
  {
    name: 'freeing a tag twice',
    text: doc([
      { op: 'alloc', cpu: 0, tag: 'a' },
      { op: 'free', cpu: 0, tag: 'a' },
      { op: 'free', cpu: 1, tag: 'a' },
    ]),
    says: ['FILE: $.ops[2].tag: tag "a" was already freed by $.ops[1]'],
  },
  {
    name: 'a zone that is not a whole number of pageblocks',
    text: doc([], { cpus: 2, zones: [{ name: 'Normal', pages: 1000 }] }),
    says: ['FILE: $.machine.zones[0].pages: expected a size that is a multiple of the pageblock size (512 pages), got 1000 pages'],
  },
  {
    name: 'a CPU the machine does not have',
    text: doc([
      { op: 'alloc', cpu: 0 },
      { op: 'drain', cpu: 2 },
    ]),
    says: ['FILE: $.ops[1].cpu: expected a CPU below 2 (machine.cpus), got 2'],
  },
  {
    name: 'a zone the machine does not have',
    text: doc([{ op: 'alloc', cpu: 0, zone: 'HighMem' }]),
    says: ['FILE: $.ops[0].zone: expected one of the machine\'s zones (Normal), got "HighMem"'],
  },
]

const runCount = (db: string): number => {
  if (!fs.existsSync(db)) return 0
  const c = new Database(db, { readonly: true })
  try {
    return c.prepare('SELECT count(*) FROM runs').pluck().get() as number
  } finally {
    c.close()
  }
}

describe('mmsim run refuses a bad workload with its file and JSON path, exit 2, and no run', () => {
  for (const c of cases)
    it(c.name, async () => {
      const dir = tmpDir()
      const file = path.join(dir, 'w.json')
      const db = path.join(dir, 'runs.db')
      fs.writeFileSync(file, c.text)
      const r = await cli('run', '--db', db, '--workload', file, '--no-progress')
      expect(r.code).toBe(2)
      for (const s of c.says) expect(r.err).toContain(s.replace('FILE', file))
      expect(r.out).toBe('')
      expect(!fs.existsSync(db) || runCount(db) === 0).toBe(true)
    })

  it('a workload file that does not exist', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'nope.json')
    const db = path.join(dir, 'runs.db')
    const r = await cli('run', '--db', db, '--workload', file, '--no-progress')
    expect(r.code).toBe(2)
    expect(r.err).toContain(`${file}: cannot read: ENOENT`)
    expect(fs.existsSync(db)).toBe(false)
  })

  describe('into a database that already holds a run', () => {
    let db: string
    let dir: string
    beforeAll(async () => {
      dir = tmpDir()
      db = path.join(dir, 'runs.db')
      const good = path.join(dir, 'good.json')
      fs.writeFileSync(good, JSON.stringify(workload([{ op: 'alloc', cpu: 0, order: 2, tag: 'a' }])))
      const r = await cli('run', '--db', db, '--workload', good, '--no-progress')
      expect(r.code).toBe(0)
    })

    it('no bad workload adds a run, not even a failed one', async () => {
      for (const c of cases) {
        const file = path.join(dir, 'bad.json')
        fs.writeFileSync(file, c.text)
        const r = await cli('run', '--db', db, '--workload', file, '--no-progress')
        expect(r.code, c.name).toBe(2)
      }
      expect(runCount(db)).toBe(1)
      const runs = await cli('runs', '--db', db, '--json')
      expect(
        runs.out
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { status: string }).status),
      ).toEqual(['finished'])
    })
  })
})

describe('the example workloads', () => {
  const dir = path.join(ROOT, 'workloads')
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()

  it('include the default workload', () => {
    expect(files).toContain('default.json')
  })

  for (const f of files)
    it(`workloads/${f} decodes and passes every semantic check`, () => {
      const w = loadWorkload(path.join(dir, f))
      const c = compileWorkload(w)
      expect('errors' in c ? c.errors : []).toEqual([])
    })
})
