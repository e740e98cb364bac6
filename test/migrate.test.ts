// A database written by the previous schema (test/fixtures/v1.db, see its README) opens: read
// commands read it as it is and leave it unchanged, a write command migrates it in place in one
// transaction, and the old run still verifies with the hashes it was written with.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { MIGRATIONS, SCHEMA_VERSION, getRun, openForRead, openForWrite, readRows, verifyRun } from '../storage'
import { MMSIM_JS, ROOT, ensureBuilt } from './built'
import { cli, tmpDir, workload } from './helpers'
import { README_ONE_EVENT, README_QUERIES, sqlite3Cli } from './sqlQueries'

const FIXTURE = path.resolve(__dirname, 'fixtures', 'v1.db')
const V1_HEAD = '719f58f23aa241a6a09e5d119adb59b0f3090ea9814728b8685369c9ae257f9c'

const copyOfV1 = (): string => {
  const file = path.join(tmpDir(), 'v1.db')
  fs.copyFileSync(FIXTURE, file)
  return file
}

const userVersion = (file: string): number => {
  const db = new Database(file, { readonly: true })
  try {
    return db.pragma('user_version', { simple: true }) as number
  } finally {
    db.close()
  }
}

const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex')

const verify = (file: string, id: number) => {
  const db = openForRead(file)
  try {
    const r = getRun(db, file, id)
    return verifyRun(db, id, r.head_seq, r.head_hash)
  } finally {
    db.close()
  }
}

const small = (dir: string): string => {
  const f = path.join(dir, 'small.json')
  fs.writeFileSync(f, JSON.stringify(workload([{ op: 'alloc', cpu: 0, order: 0, tag: 'a' }])))
  return f
}

describe('schema migrations', () => {
  it('are an ordered list, one version per step, ending at this schema', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1))
    expect(SCHEMA_VERSION).toBe(8)
  })

  it('a new database has the same tables and columns as a migrated schema 1 database', () => {
    const dir = tmpDir()
    const fresh = path.join(dir, 'new.db')
    openForWrite(fresh).close()
    const old = copyOfV1()
    openForWrite(old).close()
    const shape = (file: string) => {
      const db = new Database(file, { readonly: true })
      try {
        return (db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view', 'index', 'trigger') ORDER BY name").pluck().all() as string[]).map((t) => [
          t,
          db.pragma(`table_info(${t})`),
        ])
      } finally {
        db.close()
      }
    }
    expect(shape(old)).toEqual(shape(fresh))
  })
})

describe('a schema 1 database', () => {
  it('read commands read it as it is and leave the file unchanged', async () => {
    const file = copyOfV1()
    const before = sha(file)
    const runs = await cli('runs', '--db', file, '--json')
    expect(runs.code).toBe(0)
    expect(JSON.parse(runs.out.trim())).toMatchObject({ id: 1, status: 'finished', events: 5841, headHash: V1_HEAD })
    const events = await cli('events', '--db', file, '--limit', '2', '--json')
    expect(events.code).toBe(0)
    expect(
      events.out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { type: string }).type)[0],
    ).toBe('MachineBooted')
    const state = await cli('state', 'zone', '--db', file, '--format', 'buddyinfo')
    expect(state.code).toBe(0)
    expect(state.out).toContain('Node 0, zone')
    const check = await cli('check', '--db', file, '--json')
    expect(check.code).toBe(0)
    expect(JSON.parse(check.out)).toMatchObject({ integrity: { ok: true, events: 5841, headHash: V1_HEAD, hashVersion: 1 } })
    expect(userVersion(file)).toBe(1)
    expect(sha(file)).toBe(before)
  })

  it('`mmsim run` migrates it in place; the old run verifies as written, the new one with hash version 3', async () => {
    const file = copyOfV1()
    const r = await cli('run', '--db', file, '--workload', small(path.dirname(file)), '--no-progress', '--json')
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(userVersion(file)).toBe(SCHEMA_VERSION)
    expect(verify(file, 1)).toMatchObject({ ok: true, events: 5841, headHash: V1_HEAD, hashVersion: 1 })
    expect(verify(file, 2)).toMatchObject({ ok: true, hashVersion: 3, headHash: (JSON.parse(r.out) as { headHash: string }).headHash })
    const check = await cli('check', '--db', file, '--run', '1')
    expect(check.code).toBe(0)
    expect(check.out).toContain(`integrity: ok (5841 events in 2 hash blocks, head ${V1_HEAD}; hash v1`)
  })

  it('queries by type and by frame answer the same before and after the migration builds its index tables', async () => {
    const old = copyOfV1()
    const migrated = copyOfV1()
    openForWrite(migrated).close()
    expect(userVersion(migrated)).toBe(SCHEMA_VERSION)
    for (const query of [
      ['--type', 'PageFreed,PcpFreed'],
      ['--pfn', '512'],
      ['--type', 'PageAllocated', '--from', '100', '--to', '4000', '--limit', '50'],
    ]) {
      const before = await cli('events', '--db', old, '--run', '1', '--json', ...query)
      const after = await cli('events', '--db', migrated, '--run', '1', '--json', ...query)
      expect(before.code).toBe(0)
      expect(before.out.length).toBeGreaterThan(0)
      expect(after).toEqual(before)
    }
  })

  it('a migration that fails part way leaves the file at schema 1, unchanged', async () => {
    const file = copyOfV1()
    // A column that step 2 adds is already there: its ALTER TABLE fails after the first one ran.
    const db = new Database(file)
    db.exec('ALTER TABLE runs ADD COLUMN seal TEXT')
    db.close()
    const before = sha(file)
    const r = await cli('run', '--db', file, '--workload', small(path.dirname(file)), '--no-progress')
    expect(r.code).toBe(2)
    expect(r.err).toContain('duplicate column')
    expect(userVersion(file)).toBe(1)
    expect(sha(file)).toBe(before)
    expect(verify(file, 1)).toMatchObject({ ok: true, headHash: V1_HEAD })
  })
})

describe('a schema 3 database (test/fixtures/v3.db: hash version 2, a schedule of bare delays)', () => {
  const V3_HEAD = 'd010b40d6a492044201f9cec6ad87d7907bcf2330e5aa556e7f4d83202eadbc1'
  const copyOfV3 = (): string => {
    const file = path.join(tmpDir(), 'v3.db')
    fs.copyFileSync(path.resolve(__dirname, 'fixtures', 'v3.db'), file)
    return file
  }

  it('reads and verifies as written, unchanged; `mmsim run` migrates it to the current schema and its run still verifies', async () => {
    const file = copyOfV3()
    const before = sha(file)
    const check = await cli('check', '--db', file, '--json')
    expect(check.code).toBe(0)
    expect(JSON.parse(check.out)).toMatchObject({ integrity: { ok: true, events: 4320, headHash: V3_HEAD, hashVersion: 2 } })
    expect(sha(file)).toBe(before)
    const r = await cli('run', '--db', file, '--workload', small(path.dirname(file)), '--no-progress', '--json')
    expect(r.code).toBe(0)
    expect(userVersion(file)).toBe(SCHEMA_VERSION)
    expect(verify(file, 1)).toMatchObject({ ok: true, events: 4320, headHash: V3_HEAD, hashVersion: 2 })
    expect(verify(file, 2)).toMatchObject({ ok: true, hashVersion: 3 })
    const runs = (await cli('runs', '--db', file, '--json')).out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { lineage: { parentRun: number | null; scheduleSeed: number | null } })
    expect(runs.map((x) => x.lineage)).toMatchObject([
      { parentRun: null, scheduleSeed: null },
      { parentRun: null, scheduleSeed: 1 },
    ])
  })
})

describe('two writers opening a schema 1 database at once', () => {
  it('both runs are stored; the file is migrated once; every run verifies', async () => {
    ensureBuilt()
    const file = copyOfV1()
    const wl = small(path.dirname(file))
    const runOne = () =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn(process.execPath, [MMSIM_JS, 'run', '--db', file, '--workload', wl, '--no-progress'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
        let err = ''
        child.stderr.on('data', (b: Buffer) => void (err += b.toString()))
        child.on('exit', (code) => resolve({ code, err }))
      })
    const results = await Promise.all([runOne(), runOne()])
    expect(results).toEqual([
      { code: 0, err: '' },
      { code: 0, err: '' },
    ])
    expect(userVersion(file)).toBe(SCHEMA_VERSION)
    expect(verify(file, 1)).toMatchObject({ ok: true, headHash: V1_HEAD, hashVersion: 1 })
    expect(verify(file, 2)).toMatchObject({ ok: true, hashVersion: 3 })
    expect(verify(file, 3)).toMatchObject({ ok: true, hashVersion: 3 })
  })
})

/** A copy of the v1 fixture taken to `version` by this mmsim's own steps, as an older mmsim left it. */
const v1At = (version: number): string => {
  const file = copyOfV1()
  const db = new Database(file)
  try {
    db.transaction(() => {
      for (const m of MIGRATIONS)
        if (m.version > 1 && m.version <= version) {
          db.exec(m.sql)
          m.after?.(db)
        }
      db.pragma(`user_version = ${version}`)
    })()
  } finally {
    db.close()
  }
  return file
}

const query = (file: string, sql: string): unknown[] => {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare(sql).raw().all()
  } finally {
    db.close()
  }
}

describe('schema 4: the events of a run in batches', () => {
  it('the migration moves each run into batches on the boundaries of its index rows, and drops the events table for a view', () => {
    const file = copyOfV1()
    openForWrite(file).close()
    expect(query(file, "SELECT type FROM sqlite_master WHERE name = 'events'")).toEqual([['view']])
    const firsts = query(file, 'SELECT DISTINCT first_seq FROM event_types WHERE run_id = 1 ORDER BY first_seq')
    expect(query(file, 'SELECT first_seq FROM event_batches WHERE run_id = 1 ORDER BY first_seq')).toEqual(firsts)
    expect(query(file, 'SELECT sum(last_seq - first_seq + 1), min(first_seq), max(last_seq) FROM event_batches WHERE run_id = 1')).toEqual([[5841, 1, 5841]])
  })

  it("the README's sqlite3 queries answer the same from the events view as from schema 1's table (better-sqlite3 and, where installed, the sqlite3 shell)", () => {
    const old = copyOfV1()
    const migrated = copyOfV1()
    openForWrite(migrated).close()
    for (const sql of README_QUERIES) {
      const before = query(old, sql)
      expect(before.length, sql).toBeGreaterThan(0)
      expect(query(migrated, sql), sql).toEqual(before)
      const shell = sqlite3Cli(migrated, sql)
      if (shell !== null) expect(shell, sql).toBe(sqlite3Cli(old, sql))
    }
  })

  it('the README shows these queries, as they are tested here', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
    for (const sql of [...README_QUERIES, README_ONE_EVENT]) expect(readme).toContain(`sqlite3 mmsim.db "${sql}"`)
  })

  it("a new run's events view has each stored event's columns, in seq order", async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'new.db')
    expect((await cli('run', '--db', file, '--workload', path.join(ROOT, 'workloads', 'gph-discard-list.json'), '--no-progress')).code).toBe(0)
    const db = openForRead(file)
    try {
      const view = db.prepare('SELECT seq, t, cpu, type, pfn, npages, cause, data FROM events WHERE run_id = 1').all()
      expect(view).toEqual([...readRows(db, 1)].map(({ h: _h, ...r }) => r))
      expect(view.length).toBe(getRun(db, file, 1).head_seq)
      // The README's query for one event finds the element of seq 3000.
      const one = db.prepare(README_ONE_EVENT).raw().all() as [number, string][]
      const w = view[2999] as { t: number; cpu: number | null; type: string; pfn: number | null; npages: number | null; cause: number | null; data: string }
      expect(one).toHaveLength(1)
      expect(one[0]![0]).toBe(3000)
      expect(JSON.parse(one[0]![1])).toEqual([w.t, w.cpu, w.type, w.pfn, w.npages, w.cause, JSON.parse(w.data)])
    } finally {
      db.close()
    }
  })

  it('a run altered before the migration fails verification at the same seq after it', () => {
    const file = copyOfV1()
    const db = new Database(file)
    try {
      db.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete')
      // The same event, spelt differently; and a gap further on.
      db.prepare(`UPDATE events SET data = replace(data, '{"', '{ "') WHERE run_id = 1 AND seq = 1234`).run()
      db.prepare('DELETE FROM events WHERE run_id = 1 AND seq = 4000').run()
    } finally {
      db.close()
    }
    const before = verify(file, 1)
    expect(before).toMatchObject({ ok: false, seq: 1234 })
    openForWrite(file).close()
    expect(userVersion(file)).toBe(SCHEMA_VERSION)
    expect(verify(file, 1)).toEqual(before)
    // The batch after the gap starts at the next stored seq.
    expect(query(file, 'SELECT first_seq, last_seq FROM event_batches WHERE run_id = 1 ORDER BY first_seq')).toEqual([
      [1, 3999],
      [4001, 5841],
    ])
  })

  it('a row a batch cannot hold (data that is not JSON) stops the migration, names the run and seq, and leaves the file as it was', async () => {
    const file = copyOfV1()
    const db = new Database(file)
    try {
      db.exec('DROP TRIGGER events_no_update')
      db.prepare(`UPDATE events SET data = '{"pfn":' WHERE run_id = 1 AND seq = 77`).run()
    } finally {
      db.close()
    }
    const before = sha(file)
    const r = await cli('run', '--db', file, '--workload', small(path.dirname(file)), '--no-progress')
    expect(r.code).toBe(2)
    expect(r.err).toContain(`${file}: run 1 seq 77`)
    expect(userVersion(file)).toBe(1)
    expect(sha(file)).toBe(before)
  })

  it('a hash version 2 run in a schema 3 file (one row per event, as schema 3 wrote it) migrates into batches and verifies with the same head', () => {
    // test/fixtures/v3.db was written by schema 3 (8bb97cd): its events one row each, h as stored.
    const three = path.join(tmpDir(), 'three.db')
    fs.copyFileSync(path.resolve(__dirname, 'fixtures', 'v3.db'), three)
    expect(userVersion(three)).toBe(3)
    const want = verify(three, 1)
    expect(want).toMatchObject({ ok: true, hashVersion: 2 })
    openForWrite(three).close()
    expect(userVersion(three)).toBe(SCHEMA_VERSION)
    expect(verify(three, 1)).toEqual(want)
    const head = query(three, 'SELECT head_seq FROM runs WHERE id = 1')[0] as number[]
    expect(query(three, 'SELECT min(first_seq), max(last_seq), sum(last_seq - first_seq + 1) FROM event_batches WHERE run_id = 1')).toEqual([[1, head[0], head[0]]])
  })

  it('a schema 3 database reads as it is (its events table through its index tables) and answers as the migrated one', async () => {
    const three = v1At(3)
    expect(userVersion(three)).toBe(3)
    const before = sha(three)
    const migrated = v1At(3)
    openForWrite(migrated).close()
    for (const q of [
      ['--type', 'PageFreed,PcpFreed', '--limit', '40'],
      ['--pfn', '512'],
      ['--from', '5000', '--limit', '20'],
    ]) {
      const a = await cli('events', '--db', three, '--json', ...q)
      expect(a.code).toBe(0)
      expect(a.out.length).toBeGreaterThan(0)
      expect(await cli('events', '--db', migrated, '--json', ...q)).toEqual(a)
    }
    const check = await cli('check', '--db', three, '--json')
    expect(JSON.parse(check.out)).toMatchObject({ integrity: { ok: true, events: 5841, headHash: V1_HEAD } })
    expect(sha(three)).toBe(before)
  })
})
