// A temporary copy of the source with some edits applied: how a protection is removed without
// the product ever carrying a switch for it. The copy links the project's node_modules, so
// vitest can import it (the race tests) or run in it (`npm run mutate`).
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Edit } from './protections'

/** The project root: the nearest directory above this file with a package.json (from mutate/ or dist/mutate/). */
const findRoot = (from: string): string => {
  for (let d = from; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json'))) return d
    if (path.dirname(d) === d) throw new Error(`no package.json above ${from}`)
  }
}
export const ROOT = findRoot(__dirname)

/** What a simulation needs; the whole tree (minus build output) is copied for a test run. */
const SIMULATION_DIRS = ['lib', 'events', 'projections', 'engine', 'workload', 'workloads']
const NEVER_COPIED = new Set(['node_modules', 'dist', '.git', 'coverage', 'reports', '.stryker-tmp'])

export class PatchDoesNotApply extends Error {
  override readonly name = 'PatchDoesNotApply'
}

/** Applies one edit to a source text; the text to replace must occur exactly once. */
export const applyEdit = (text: string, e: Edit): string => {
  const at = text.indexOf(e.find)
  if (at < 0) throw new PatchDoesNotApply(`${e.file}: the text to remove is gone (the source changed; update mutate/protections.ts): ${JSON.stringify(e.find)}`)
  if (text.indexOf(e.find, at + 1) >= 0) throw new PatchDoesNotApply(`${e.file}: the text to remove occurs more than once: ${JSON.stringify(e.find)}`)
  return text.slice(0, at) + e.replace + text.slice(at + e.find.length)
}

/**
 * Copies the source into a new temporary directory and applies `edits` there. `whole` copies
 * every file of the project (tests and configs too), so vitest can run in the copy.
 */
export const patchedTree = (edits: readonly Edit[], whole = false): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmsim-mutant-'))
  const entries = whole ? fs.readdirSync(ROOT).filter((n) => !NEVER_COPIED.has(n) && !/\.db(-wal|-shm)?$/.test(n)) : SIMULATION_DIRS
  for (const name of entries) fs.cpSync(path.join(ROOT, name), path.join(dir, name), { recursive: true })
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
  for (const e of edits) {
    const file = path.join(dir, e.file)
    fs.writeFileSync(file, applyEdit(fs.readFileSync(file, 'utf8'), e))
  }
  return dir
}

export const removeTree = (dir: string): void => fs.rmSync(dir, { recursive: true, force: true })
