// The targeted half of `npm run mutate`: each protection of mutate/protections.ts removed in a
// temporary copy of the project, the race sweeps run there in full, and the tests that fail
// named — the tests that kill that mutant.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { PROTECTIONS, type Protection } from './protections'
import { ROOT, patchedTree, removeTree } from './patched'

export interface Kill {
  readonly test: string
  /** The first line of the failure, which names the seeds for a sweep. */
  readonly why: string
}

export interface RemovalResult {
  readonly protection: Protection
  readonly killedBy: readonly Kill[]
  /** Set when the patch did not apply or the suite could not run. */
  readonly error: string | null
}

/** Test files that sweep the race workloads. */
export const RACE_TESTS = ['test/races.test.ts', 'test/anonVmaRaces.test.ts']

interface VitestJson {
  testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[]; message?: string; status: string }[]
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g')
const firstLine = (s: string): string => (s.split('\n').find((l) => l.trim() !== '') ?? '').replace(ANSI, '').slice(0, 300)

export const runRemoval = (p: Protection, seeds: string): RemovalResult => {
  let dir: string
  try {
    dir = patchedTree(p.edits, true)
  } catch (err) {
    return { protection: p, killedBy: [], error: (err as Error).message }
  }
  try {
    const out = path.join(dir, 'vitest-report.json')
    const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs')
    const r = spawnSync(process.execPath, [vitest, 'run', ...RACE_TESTS, '--reporter=json', `--outputFile=${out}`], {
      cwd: dir,
      env: { ...process.env, MMSIM_RACE_SEEDS: seeds, MMSIM_MUTANT: p.id },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    })
    if (!fs.existsSync(out)) return { protection: p, killedBy: [], error: `vitest did not report (exit ${r.status}): ${firstLine(r.stderr ?? '')}` }
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as VitestJson
    const killedBy: Kill[] = []
    for (const file of report.testResults) {
      if (file.assertionResults.length === 0 && file.status === 'failed') killedBy.push({ test: '(the test file)', why: firstLine(file.message ?? '') })
      for (const a of file.assertionResults) if (a.status === 'failed') killedBy.push({ test: a.fullName, why: firstLine(a.failureMessages[0] ?? '') })
    }
    return { protection: p, killedBy, error: null }
  } finally {
    removeTree(dir)
  }
}

/** Each protection (or only those `ids` names) removed in turn, the race tests run against it. */
export const runRemovals = (seeds: string, log: (s: string) => void, ids: readonly string[] | null = null): RemovalResult[] =>
  PROTECTIONS.filter((p) => ids === null || ids.includes(p.id)).map((p) => {
    log(`removing ${p.id}: ${p.what}`)
    const r = runRemoval(p, seeds)
    if (r.error !== null) log(`  ERROR: ${r.error}`)
    else if (r.killedBy.length === 0) log(`  SURVIVED${p.survives ? `: ${p.survives}` : ''}`)
    else for (const k of r.killedBy) log(`  killed by: ${k.test}\n    ${k.why}`)
    return r
  })
