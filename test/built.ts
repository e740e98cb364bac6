// Tests that start the built CLI (dist/) in another process build it first when any source is
// newer than it, so they never test stale code.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

export const ROOT = path.resolve(__dirname, '..')
export const MMSIM_JS = path.join(ROOT, 'dist', 'cli', 'mmsim.js')

const SOURCE_DIRS = ['lib', 'events', 'projections', 'engine', 'storage', 'workload', 'workloads', 'cli', 'analysis']

const newestSource = (dir: string): number => {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p))
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) newest = Math.max(newest, fs.statSync(p).mtimeMs)
  }
  return newest
}

export const ensureBuilt = (): void => {
  const newest = Math.max(...SOURCE_DIRS.map((d) => newestSource(path.join(ROOT, d))))
  if (!fs.existsSync(MMSIM_JS) || fs.statSync(MMSIM_JS).mtimeMs < newest) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'pipe' })
}
