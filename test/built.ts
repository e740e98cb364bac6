// The built `mmsim` (dist/cli/mmsim.js) as a child process, for tests that need a process of
// its own: signals, kills, file size limits, several writers at once.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

export const ROOT = path.resolve(__dirname, '..')
export const MMSIM_JS = path.join(ROOT, 'dist', 'cli', 'mmsim.js')

const SOURCE_DIRS = ['lib', 'events', 'projections', 'engine', 'storage', 'workload', 'workloads', 'cli', 'analysis', 'hunt', 'mutate', 'bench']

const newestSource = (dir: string): number => {
  if (!fs.existsSync(dir)) return 0
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p))
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) newest = Math.max(newest, fs.statSync(p).mtimeMs)
  }
  return newest
}

/** Builds dist/ when it is older than the sources (npm test builds first; a single file may not). */
export const ensureBuilt = (): void => {
  const newest = Math.max(...SOURCE_DIRS.map((d) => newestSource(path.join(ROOT, d))))
  if (!fs.existsSync(MMSIM_JS) || fs.statSync(MMSIM_JS).mtimeMs < newest) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'pipe' })
}

export interface Exited {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly out: string
  readonly err: string
}

/** Starts `mmsim argv...`, through `bash -c` when a shell prefix (e.g. `ulimit -f N;`) is given. */
export const startCli = (argv: readonly string[], shellPrefix?: string): { child: ChildProcess; exited: Promise<Exited> } => {
  const child =
    shellPrefix === undefined
      ? spawn(process.execPath, [MMSIM_JS, ...argv], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', `${shellPrefix} exec "$0" "$@"`, process.execPath, MMSIM_JS, ...argv], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.on('data', (b: Buffer) => void (out += b.toString()))
  child.stderr!.on('data', (b: Buffer) => void (err += b.toString()))
  const exited = new Promise<Exited>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })))
  return { child, exited }
}
