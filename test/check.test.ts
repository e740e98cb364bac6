// `mmsim check` re-runs the event monitors while it folds a stored run, so a run is checked for
// every invariant, not only for the findings its engine recorded (issue 7 §3).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkRun } from '../analysis/check'
import { runToStore } from '../cli/commands/run'
import { resolveConfig } from '../engine/config'
import { openForRead } from '../storage'
import type { Workload } from '../workload/codec'
import { loadWorkload } from '../workload/load'
import { cli, runInMemory, seeds, tmpDir } from './helpers'

const REUSED = 'hinting.discard-fault-on-reused-frame'

// The discarded-page list off: a discard fault pins a reused frame for some seed (races.test.ts).
const base = loadWorkload('workloads/gph-discard-list.json')
const racy: Workload = { ...base, variants: { ...base.variants, discardList: 'off' } }
const racySeed = (): number => {
  const seed = seeds(1, 500).find((s) => runInMemory(racy, s).events.some((e) => e.type === 'InvariantViolated' && e.data.name === REUSED))
  expect(seed).toBeDefined()
  return seed!
}

const store = async (seed: number, monitors: boolean): Promise<string> => {
  const db = path.join(tmpDir(), 'm.db')
  await runToStore({ workload: racy, workloadSource: 'gph-discard-list (discardList off)', seed, db, config: { ...resolveConfig(), monitors } })
  return db
}

const check = (db: string) => {
  const h = openForRead(db)
  try {
    return checkRun(h, db, 1)
  } finally {
    h.close()
  }
}

describe('mmsim check re-runs the event monitors', () => {
  it('finds a discard fault on a reused frame in a run stored with monitors off, which recorded none', async () => {
    const seed = racySeed()
    const db = await store(seed, false)
    const r = check(db)
    expect(r.recorded).toEqual([])
    expect(r.monitors.map((m) => m.name)).toContain(REUSED)
    expect(r.checked).toContain(REUSED)
    const out = await cli('check', '--db', db)
    expect(out.code).toBe(1)
    expect(out.out).toMatch(new RegExp(`event: ${REUSED.replace(/\./g, '\\.')} fails at seq \\d+`))
  })

  it('`mmsim run --no-monitors` stores the run without findings, and `mmsim check` finds them (exit 1)', async () => {
    const seed = racySeed()
    const dir = tmpDir()
    const db = path.join(dir, 'cli.db')
    const file = path.join(dir, 'racy.json')
    fs.writeFileSync(file, JSON.stringify(racy))
    const run = await cli('run', '--db', db, '--workload', file, '--seed', String(seed), '--no-monitors', '--no-progress', '--json')
    expect(run.code).toBe(0)
    expect((JSON.parse(run.out) as { invariants: { violations: number } }).invariants.violations).toBe(0)
    const out = await cli('check', '--db', db, '--json')
    expect(out.code).toBe(1)
    expect((JSON.parse(out.out) as { monitors: { name: string }[] }).monitors.map((m) => m.name)).toContain(REUSED)
  })

  it('finds exactly what the engine recorded when the monitors ran (same names, same first seqs)', async () => {
    const seed = racySeed()
    const db = await store(seed, true)
    const r = check(db)
    const h = openForRead(db)
    let causes: Map<string, number>
    try {
      const rows = h
        .prepare("SELECT json_extract(data, '$.name') AS name, min(cause) AS seq FROM events WHERE run_id = 1 AND type = 'InvariantViolated' AND cause IS NOT NULL GROUP BY name")
        .all() as { name: string; seq: number }[]
      causes = new Map(rows.map((x) => [x.name, x.seq]))
    } finally {
      h.close()
    }
    expect(causes.size).toBeGreaterThan(0)
    expect(new Map(r.monitors.map((m) => [m.name, m.firstSeq]))).toEqual(causes)
  })

  it('a run without findings checks clean, monitors included (gph-discard-list seed 1, list on)', async () => {
    const db = path.join(tmpDir(), 'ok.db')
    await runToStore({ workload: base, workloadSource: 'gph-discard-list', seed: 1, db, config: { ...resolveConfig(), monitors: false } })
    const r = check(db)
    expect(r.monitors).toEqual([])
    expect((await cli('check', '--db', db)).out).toContain('every event monitor holds')
  })
})
