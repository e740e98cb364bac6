// Database files that are not healthy mmsim databases, or that the command may not use: each is
// exit 2 with a message naming the real cause, and none of them is written. Permissions are
// checked as an unprivileged user: when the tests run as root (who may write anything), the
// built CLI is started as `nobody`.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { beforeAll, describe, expect, it } from 'vitest'
import { APPLICATION_ID } from '../storage'
import { MMSIM_JS, ROOT, ensureBuilt } from './built'
import { cli, tmpDir, workload } from './helpers'
const NOBODY = 65534
const asRoot = process.getuid?.() === 0

/**
 * As root, the permission tests run the CLI as nobody; that needs a checkout nobody can read (a
 * clone under /root is not). Where it cannot, root ignores permissions and the tests cannot show
 * anything: they are skipped, and say why.
 */
const unprivilegedCanRun = (): boolean => {
  if (!asRoot) return true
  const r = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(path.join(ROOT, 'package.json'))}, require('fs').constants.R_OK)`], {
    uid: NOBODY,
    gid: NOBODY,
  })
  return r.status === 0
}

const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex')

const smallWorkload = (dir: string): string => {
  const f = path.join(dir, 'small.json')
  fs.writeFileSync(f, JSON.stringify(workload([{ op: 'alloc', cpu: 0, order: 0, tag: 'a' }])))
  return f
}

/** The CLI as a user without write permission on what the test made read-only. */
const cliUnprivileged = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  if (!asRoot) return cli(...argv)
  const r = spawnSync(process.execPath, [MMSIM_JS, ...argv], { cwd: ROOT, uid: NOBODY, gid: NOBODY, encoding: 'utf8' })
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr }
}

/** A scratch directory that the unprivileged user can enter. */
const sharedDir = (): string => {
  const d = tmpDir()
  fs.chmodSync(d, 0o777)
  return d
}

const healthyDb = async (dir: string): Promise<string> => {
  const file = path.join(dir, 'ok.db')
  const r = await cli('run', '--db', file, '--workload', smallWorkload(dir), '--no-progress')
  expect(r.code).toBe(0)
  return file
}

describe("a file with mmsim's application id but no tables", () => {
  for (const version of [0, 1]) {
    it(`(user_version ${version}): every command exits 2 naming it unhealthy, and run leaves it unchanged`, async () => {
      const dir = tmpDir()
      const file = path.join(dir, 'bare.db')
      const db = new Database(file)
      db.pragma(`application_id = ${APPLICATION_ID}`)
      db.pragma(`user_version = ${version}`)
      db.close()
      const before = sha(file)
      for (const argv of [['run', '--workload', smallWorkload(dir), '--no-progress'], ['runs'], ['events'], ['check']]) {
        const r = await cli(...argv, '--db', file)
        expect(r.code, argv[0]).toBe(2)
        expect(r.err, argv[0]).toContain('not a healthy mmsim database')
        expect(r.err, argv[0]).toContain(file)
      }
      expect(sha(file)).toBe(before)
      expect(fs.readdirSync(dir).sort()).toEqual(['bare.db', 'small.json'])
    })
  }

  it('a table of mmsim missing (event_blocks dropped): exit 2 naming the table, nothing written', async () => {
    const dir = tmpDir()
    const file = await healthyDb(dir)
    const db = new Database(file)
    db.exec('DROP TABLE event_blocks')
    db.close()
    const before = sha(file)
    for (const argv of [['run', '--workload', smallWorkload(dir), '--no-progress'], ['check']]) {
      const r = await cli(...argv, '--db', file)
      expect(r.code, argv[0]).toBe(2)
      expect(r.err, argv[0]).toContain('table event_blocks')
    }
    expect(sha(file)).toBe(before)
  })
})

describe('a directory given as --db', () => {
  it('every command exits 2 and says it is a directory', async () => {
    const dir = tmpDir()
    for (const argv of [['run', '--workload', smallWorkload(dir), '--no-progress'], ['runs'], ['events'], ['state', 'zone'], ['check']]) {
      const r = await cli(...argv, '--db', dir)
      expect(r.code, argv[0]).toBe(2)
      expect(r.err, argv[0]).toContain(`${dir}: is a directory`)
      expect(r.err, argv[0]).not.toContain('disk I/O error')
    }
  })

  it('a database in a directory that does not exist: exit 2, "no such directory"', async () => {
    const dir = tmpDir()
    const r = await cli('run', '--db', path.join(dir, 'nope', 'x.db'), '--workload', smallWorkload(dir), '--no-progress')
    expect(r.code).toBe(2)
    expect(r.err).toContain('no such directory')
  })
})

describe.skipIf(!unprivilegedCanRun())('permissions (as root: run as nobody, which must be able to read the checkout)', () => {
  beforeAll(() => {
    if (asRoot) ensureBuilt()
  })

  it('a read-only database: run exits 2 saying it is read-only and leaves it unchanged; read commands read it', async () => {
    const dir = sharedDir()
    const file = await healthyDb(dir)
    fs.chmodSync(file, 0o444)
    const before = sha(file)
    const w = await cliUnprivileged('run', '--db', file, '--workload', smallWorkload(dir), '--no-progress')
    expect(w.code).toBe(2)
    expect(w.err).toContain(`${file}: the database is read-only`)
    expect(w.err).not.toContain('not an mmsim database')
    expect(sha(file)).toBe(before)
    const r = await cliUnprivileged('runs', '--db', file, '--json')
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.out.trim())).toMatchObject({ id: 1, status: 'finished' })
  })

  it('a read-only directory: every command exits 2 naming the directory, and nothing is written', async () => {
    const parent = sharedDir()
    const dir = path.join(parent, 'ro')
    fs.mkdirSync(dir)
    const file = await healthyDb(dir)
    const wl = smallWorkload(parent)
    fs.chmodSync(file, 0o666) // the file itself is writable: only the directory is not
    fs.chmodSync(dir, 0o555)
    const before = sha(file)
    for (const argv of [['run', '--workload', wl, '--no-progress'], ['runs'], ['check']]) {
      const r = await cliUnprivileged(...argv, '--db', file)
      expect(r.code, argv[0]).toBe(2)
      expect(r.err, argv[0]).toContain(`its directory ${dir} is not writable`)
      expect(r.err, argv[0]).not.toContain('not an mmsim database')
    }
    const fresh = await cliUnprivileged('run', '--db', path.join(dir, 'new.db'), '--workload', wl, '--no-progress')
    expect(fresh.code).toBe(2)
    expect(fresh.err).toContain('is not writable')
    expect(sha(file)).toBe(before)
    expect(fs.readdirSync(dir).sort()).toEqual(['ok.db', 'small.json'])
    fs.chmodSync(dir, 0o755)
  })
})
