// A campaign spread over machines: each shard explores its slice of the seeds into a database of
// its own, and `mmsim merge` gathers them. Four shards merged hold the failing seeds one
// unsharded exploration finds; every run keeps its identity (uuid, digest) and verifies in the
// merged file; a run is merged once, a file that is not mmsim's is refused, and a tampered shard
// stops the merge before anything is written.
import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { beforeAll, describe, expect, it } from 'vitest'
import { cli, tmpDir } from './helpers'
import { dropTriggers, rewriteRow } from './tamper'

const RACE = ['--workload', 'workloads/gph-discard-list.json', '--variant', 'discardList=off', '--seeds', '24', '--all', '--keep', '24', '--no-progress']

interface Listed {
  id: number
  seed: number
  uuid: string
  digest: string
  headHash: string
}

const runsOf = async (db: string): Promise<Listed[]> =>
  (await cli('runs', '--db', db, '--json')).out
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Listed)

const sha = (file: string): string | null => (fs.existsSync(file) ? fs.readFileSync(file).toString('base64') : null)

describe('four shards merged', () => {
  const dir = tmpDir()
  const whole = path.join(dir, 'whole.db')
  const shards = [0, 1, 2, 3].map((k) => path.join(dir, `shard-${k}.db`))
  const merged = path.join(dir, 'merged.db')
  let unsharded: number[]

  beforeAll(async () => {
    const r = await cli('explore', ...RACE, '--db', whole, '--json')
    expect(r.code).toBe(1)
    unsharded = (JSON.parse(r.out) as { failing: { seed: number }[] }).failing.map((f) => f.seed)
    for (const [k, db] of shards.entries()) {
      const s = await cli('explore', ...RACE, '--shard', `${k}/4`, '--db', db, '--json')
      expect([0, 1]).toContain(s.code)
      expect(JSON.parse(s.out)).toMatchObject({ shard: { k, n: 4, of: { from: 1, to: 24 } }, range: { count: 6 } })
    }
  })

  it('hold the failing seeds of one unsharded exploration of seeds 1..24 (gph-discard-list, discardList off, --all)', async () => {
    expect(unsharded.length).toBeGreaterThan(3)
    const r = await cli('merge', merged, ...shards, '--json')
    expect(r.code, r.err).toBe(0)
    const runs = await runsOf(merged)
    expect(runs.map((x) => x.seed).sort((a, b) => a - b)).toEqual(unsharded)
    // The same runs as the unsharded exploration stored: the same experiments, the same heads.
    const alone = await runsOf(whole)
    const key = (x: Listed) => `${x.seed} ${x.digest} ${x.headHash}`
    expect(runs.map(key).sort()).toEqual(alone.map(key).sort())
  })

  it('each merged run keeps its uuid and digest, verifies, and replays identically', async () => {
    const fromShards = (await Promise.all(shards.map(runsOf))).flat()
    const runs = await runsOf(merged)
    expect(runs.map((x) => x.uuid).sort()).toEqual(fromShards.map((x) => x.uuid).sort())
    for (const x of runs) {
      const check = await cli('check', '--db', merged, '--run', String(x.id), '--json')
      expect(JSON.parse(check.out)).toMatchObject({ integrity: { ok: true, headHash: x.headHash } })
    }
    const replay = await cli('replay', '--db', merged, '--run', String(runs[0]!.id), '--json')
    expect(JSON.parse(replay.out)).toMatchObject({ identical: true })
  })

  it('a replay merged with its parent into a file where both get other ids still names its parent, and verifies', async () => {
    const other = path.join(dir, 'other.db')
    // Run 1 of `other` is its own, so every copied run moves up by one.
    expect((await cli('explore', ...RACE.slice(0, 4), '--seeds', '3', '--from-seed', '41', '--db', other, '--keep', '0')).code).toBeLessThan(2)
    expect((await cli('run', '--db', other, '--workload', 'workloads/gph-discard-list.json', '--seed', '1', '--no-progress')).code).toBe(0)
    expect((await cli('merge', other, merged)).code).toBe(0)
    const runs = (await runsOf(other)) as (Listed & { lineage: { parentRun: number | null; derivation: string | null } })[]
    const replay = runs.find((x) => x.lineage.derivation === 'replay')!
    const parent = runs.find((x) => x.id === replay.lineage.parentRun)!
    expect(parent.headHash).toBe(replay.headHash)
    expect(parent.id).toBeGreaterThan(1)
    for (const x of [replay, parent]) expect(JSON.parse((await cli('check', '--db', other, '--run', String(x.id), '--json')).out)).toMatchObject({ integrity: { ok: true } })
  })

  it('a run is merged once: the same shard again, or a file given twice, is refused (exit 2) and nothing is written', async () => {
    const before = sha(merged)
    const again = await cli('merge', merged, shards[1]!)
    expect(again.code).toBe(2)
    expect(again.err).toContain('a run is merged once')
    const twice = await cli('merge', path.join(dir, 'twice.db'), shards[1]!, shards[1]!)
    expect(twice.code).toBe(2)
    expect(twice.err).toContain('the same file as')
    const into = await cli('merge', shards[2]!, shards[2]!)
    expect(into.code).toBe(2)
    expect(sha(merged)).toBe(before)
    expect(fs.existsSync(path.join(dir, 'twice.db'))).toBe(false)
  })

  it('a shard that found nothing leaves a database without runs, which merges as nothing', async () => {
    const empty = path.join(dir, 'empty.db')
    const r = await cli('explore', '--workload', 'workloads/gph-discard-list.json', '--seeds', '3', '--shard', '0/4', '--db', empty)
    expect(r.code).toBe(0)
    expect(r.out).toContain('shard 0/4 of seeds 1..3: no seeds')
    const m = await cli('merge', path.join(dir, 'from-empty.db'), empty, shards[3]!, '--json')
    expect(m.code).toBe(0)
    expect((JSON.parse(m.out) as { runs: unknown[] }).runs.length).toBe((await runsOf(shards[3]!)).length)
  })

  it('overlapping shards (the same seed stored in two files) are refused: exit 2, no output file', async () => {
    const a = path.join(dir, 'a.db')
    const b = path.join(dir, 'b.db')
    for (const db of [a, b]) expect((await cli('explore', ...RACE.slice(0, 4), '--seeds', '8', '--db', db)).code).toBe(1)
    const out = path.join(dir, 'overlap.db')
    const r = await cli('merge', out, a, b)
    expect(r.code).toBe(2)
    expect(r.err).toContain('overlapping shards?')
    expect(fs.existsSync(out)).toBe(false)
  })
})

describe('merge refuses what is not a healthy mmsim shard', () => {
  const dir = tmpDir()
  let shard: string

  beforeAll(async () => {
    shard = path.join(dir, 'shard.db')
    expect((await cli('explore', ...RACE.slice(0, 4), '--seeds', '8', '--db', shard)).code).toBe(1)
  })

  it('a text file, or an SQLite file of another program: exit 2, naming it; no output file', async () => {
    const text = path.join(dir, 'notes.db')
    fs.writeFileSync(text, 'not a database\n')
    const other = path.join(dir, 'other.db')
    const db = new Database(other)
    db.exec('CREATE TABLE t (x)')
    db.close()
    for (const [bad, message] of [
      [text, 'not an mmsim database (not an SQLite file)'],
      [other, 'not an mmsim database (SQLite application_id 0)'],
    ] as const) {
      const out = path.join(dir, 'out.db')
      const r = await cli('merge', out, shard, bad)
      expect(r.code).toBe(2)
      expect(r.err).toContain(`${bad}: ${message}`)
      expect(fs.existsSync(out)).toBe(false)
    }
  })

  it('a shard whose event was altered (behind the append-only triggers): exit 1, naming the run and seq; nothing written', async () => {
    const tampered = path.join(dir, 'tampered.db')
    fs.copyFileSync(shard, tampered)
    const db = new Database(tampered)
    dropTriggers(db, ['event_batches'])
    rewriteRow(db, 1, 50, (row) => ({ ...row, data: row.data.replace('"pfn":', '"pfn": ') }))
    db.close()
    const out = path.join(dir, 'out.db')
    fs.copyFileSync(shard, out)
    const before = sha(out)
    const other = path.join(dir, 'other-shard.db')
    expect((await cli('explore', ...RACE.slice(0, 4), '--seeds', '10', '--from-seed', '9', '--db', other)).code).toBe(1)
    const r = await cli('merge', out, other, tampered)
    expect(r.code).toBe(1)
    expect(r.err).toContain(`${tampered}: run 1 at seq 50: event 50`)
    expect(r.err).toContain('nothing was merged')
    expect(sha(out)).toBe(before)
  })

  it('a shard whose digest was changed: exit 1', async () => {
    const changed = path.join(dir, 'digest.db')
    fs.copyFileSync(shard, changed)
    const db = new Database(changed)
    db.prepare("UPDATE runs SET digest = 'x' WHERE id = 1").run()
    db.close()
    const r = await cli('merge', path.join(dir, 'out2.db'), changed)
    expect(r.code).toBe(1)
    expect(r.err).toContain('its digest is not the digest of')
  })

  it('no input: exit 2 with the usage', async () => {
    const r = await cli('merge', path.join(dir, 'out3.db'))
    expect(r.code).toBe(2)
    expect(r.err).toContain('mmsim merge OUT.db IN.db...')
  })
})
