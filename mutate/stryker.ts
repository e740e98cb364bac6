// The broad half of `npm run mutate`: StrykerJS empties blocks and flips conditions in guest page
// hinting's kernel paths and the simulator's sync primitives (stryker.config.mjs), runs the fast
// tests against each mutant, and this reads its JSON report to say which test killed what.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ROOT } from './patched'

interface Mutant {
  id: string
  mutatorName: string
  replacement?: string
  location: { start: { line: number; column: number } }
  status: 'Killed' | 'Survived' | 'NoCoverage' | 'Timeout' | 'CompileError' | 'RuntimeError' | 'Ignored' | 'Pending'
  killedBy?: string[]
}

interface Report {
  files: Record<string, { mutants: Mutant[] }>
  testFiles?: Record<string, { tests: { id: string; name: string }[] }>
}

export interface StrykerSummary {
  readonly killed: number
  readonly timedOut: number
  readonly survived: number
  readonly noCoverage: number
  readonly errors: number
  /** (killed + timed out) / (killed + timed out + survived + no coverage), as Stryker computes it. */
  readonly score: number
}

export const REPORT = path.join(ROOT, 'reports', 'mutation', 'mutation.json')

/** Runs Stryker (its progress on this terminal); `mutate` narrows the files. False when it failed. */
export const runStryker = (mutate: string | null): boolean => {
  const bin = path.join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js')
  const args = [bin, 'run', 'stryker.config.mjs', ...(mutate === null ? [] : ['--mutate', mutate])]
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' })
  return r.status === 0
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').slice(0, 80)

/** Prints every mutant with what killed it, or why nothing did, and returns the score. */
export const summarise = (log: (s: string) => void): StrykerSummary => {
  const report = JSON.parse(fs.readFileSync(REPORT, 'utf8')) as Report
  const testName = new Map<string, string>()
  for (const f of Object.values(report.testFiles ?? {})) for (const t of f.tests) testName.set(t.id, t.name)
  const n = { killed: 0, timedOut: 0, survived: 0, noCoverage: 0, errors: 0 }
  for (const file of Object.keys(report.files).sort()) {
    const mutants = [...report.files[file]!.mutants].sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column)
    for (const m of mutants) {
      const at = `${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName}${m.replacement ? ` -> ${oneLine(m.replacement)}` : ''}`
      switch (m.status) {
        case 'Killed':
          n.killed++
          log(`killed    ${at}\n          by ${(m.killedBy ?? []).map((id) => testName.get(id) ?? id).join('; ') || '(a test)'}`)
          break
        case 'Timeout':
          n.timedOut++
          log(`timed out ${at}`)
          break
        case 'Survived':
          n.survived++
          log(`SURVIVED  ${at}`)
          break
        case 'NoCoverage':
          n.noCoverage++
          log(`NO TEST   ${at}`)
          break
        case 'CompileError':
        case 'RuntimeError':
          n.errors++
          break
        case 'Ignored':
        case 'Pending':
          break
      }
    }
  }
  const detected = n.killed + n.timedOut
  const valid = detected + n.survived + n.noCoverage
  return { ...n, score: valid === 0 ? 0 : detected / valid }
}
