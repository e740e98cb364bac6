// Copying runs from several databases into one (`mmsim merge`): the shards of a campaign, each
// explored on its own machine, gathered into one file. Every run of every input is verified
// first (verify.ts: seal, per-event chain, blocks, schedule, head) and its digest recomputed from
// its row, and nothing is written unless all pass and none is already present (same uuid), or
// present twice (same experiment with the same head in two files: overlapping shards). Then one
// transaction copies them: the run row under a new id (its uuid and digest kept: the identity
// that survives the copy), and the rows of every table keyed by run_id, whatever the tables are
// (the list is read from the schema, so a table that a later schema adds is copied too). Each
// copy is verified again in the output before the transaction commits.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { AssertionFailed, assert } from '../lib'
import { StoreError } from './errors'
import { openForRead, openForWrite, type Db } from './open'
import { getRun, listRuns, runIdentity, runSeal, type RunRow } from './runs'
import { SCHEMA_VERSION } from './schema'
import { verifyRun } from './verify'

/** A merge that cannot be made as asked: a file given twice, a run already in the output, a run still being written. */
export class MergeRefused extends StoreError {}

/** An input run that fails verification: nothing is merged. */
export class ShardDamaged extends Error {
  override readonly name = 'ShardDamaged'
  constructor(
    readonly file: string,
    readonly runId: number,
    /** The first seq in doubt; 0 when the run's row is. */
    readonly seq: number,
    readonly problem: string,
  ) {
    super(`${file}: run ${runId}${seq > 0 ? ` at seq ${seq}` : ''}: ${problem}; nothing was merged`)
  }
}

export interface MergedRun {
  readonly file: string
  /** Its id in its own file, and in the output. */
  readonly from: number
  readonly id: number
  readonly uuid: string
  readonly digest: string
  readonly workload: string
  readonly seed: number
  readonly events: number
  readonly violations: number
  readonly headHash: string
}

export interface MergeReport {
  readonly out: string
  readonly inputs: readonly string[]
  readonly runs: readonly MergedRun[]
}

interface Input {
  readonly file: string
  readonly db: Db
  readonly runs: readonly RunRow[]
}

const quoteId = (name: string): string => `"${name.replace(/"/g, '""')}"`

const columnsOf = (db: Db, table: string): string[] => (db.pragma(`table_info(${quoteId(table)})`) as { name: string }[]).map((c) => c.name)

/** Every table whose rows belong to a run (it has a run_id column), but the runs table itself. */
const runTables = (db: Db): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]).filter((t) => t !== 'runs' && columnsOf(db, t).includes('run_id'))

const realPath = (file: string): string => (fs.existsSync(file) ? fs.realpathSync(file) : path.resolve(file))

/** Opens and checks each input: an mmsim database of this schema whose every run has ended and verifies. */
const openInput = (file: string): Input => {
  const db = openForRead(file)
  try {
    const version = db.pragma('user_version', { simple: true }) as number
    if (version !== SCHEMA_VERSION)
      throw new MergeRefused(
        `${file}: schema ${version}; merge copies runs between files of this mmsim's schema (${SCHEMA_VERSION}): a write to it (\`mmsim run --db ${file}\`) migrates it`,
      )
    const runs = listRuns(db, file)
    for (const r of runs) {
      if (r.status === 'running') throw new MergeRefused(`${file}: run ${r.id} is still running (or its writer died: a write to the file marks it interrupted); nothing was merged`)
      if (r.uuid === null || r.digest === null) throw new MergeRefused(`${file}: run ${r.id} has no identity (uuid, digest); nothing was merged`)
      if (r.digest !== runIdentity(r))
        throw new ShardDamaged(file, r.id, 0, 'its digest is not the digest of its engine version, seed, configuration and workload: the row was changed')
      const v = verifyRun(db, r.id, r.head_seq, r.head_hash)
      if (!v.ok) throw new ShardDamaged(file, r.id, v.seq, v.problem)
      if (r.parent_run !== null && !runs.some((p) => p.id === r.parent_run))
        throw new MergeRefused(`${file}: run ${r.id} is derived from run ${r.parent_run}, which the file does not hold`)
    }
    return { file, db, runs }
  } catch (err) {
    db.close()
    throw err
  }
}

/** A run made twice: the same uuid, or the same experiment (digest) with the same head in two files. */
const refuseDuplicates = (out: Db, outFile: string, inputs: readonly Input[]): void => {
  const where = new Map<string, string>()
  const content = new Map<string, string>()
  const note = (file: string, r: RunRow): void => {
    const at = `${file} run ${r.id}`
    const again = where.get(r.uuid!)
    if (again !== undefined) throw new MergeRefused(`${at} is already ${again} (uuid ${r.uuid}): a run is merged once; nothing was merged`)
    where.set(r.uuid!, at)
    // Replays share their parent's digest and head by design: only runs of a workload alone count.
    if (r.parent_run !== null) return
    const key = `${r.digest}:${r.head_hash}`
    const same = content.get(key)
    if (same !== undefined && !same.startsWith(`${file} `))
      throw new MergeRefused(`${at} is the same run as ${same} (digest ${r.digest}, head ${r.head_hash}): overlapping shards? nothing was merged`)
    content.set(key, at)
  }
  for (const r of listRuns(out, outFile)) if (r.uuid !== null) note(outFile, r)
  for (const i of inputs) for (const r of i.runs) note(i.file, r)
}

/** Copies run `r` of `src` into `out` under a new id; its parent, if any, is already there as `parents.get(r.parent_run)`. */
const copyRun = (src: Db, out: Db, r: RunRow, parents: ReadonlyMap<number, number>, tables: readonly string[]): number => {
  const columns = columnsOf(src, 'runs').filter((c) => c !== 'id')
  const row = src.prepare(`SELECT ${columns.map(quoteId).join(', ')} FROM runs WHERE id = ?`).get(r.id) as Record<string, unknown>
  if (r.parent_run !== null) {
    const parent = parents.get(r.parent_run)
    assert(parent !== undefined, 'a parent is copied before the runs derived from it')
    row.parent_run = parent
    // The seal covers the lineage (the parent's id, which the copy changes), not the run's
    // events or identity: resealed only after the source's seal was verified.
    if (r.hash_version >= 3) row.seal = runSeal({ ...r, parent_run: parent })
  }
  const info = out.prepare(`INSERT INTO runs (${columns.map(quoteId).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...columns.map((c) => row[c]))
  const id = Number(info.lastInsertRowid)
  for (const t of tables) {
    const cols = columnsOf(src, t)
    const at = cols.indexOf('run_id')
    const select = src.prepare(`SELECT ${cols.map(quoteId).join(', ')} FROM ${quoteId(t)} WHERE run_id = ?`).raw(true)
    const insert = out.prepare(`INSERT INTO ${quoteId(t)} (${cols.map(quoteId).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`)
    for (const values of select.iterate(r.id) as IterableIterator<unknown[]>) {
      values[at] = id
      insert.run(values)
    }
  }
  return id
}

/** Merges the runs of `inputs` into `outFile` (created if missing); see the file's head. */
export const mergeRuns = (outFile: string, inputs: readonly string[]): MergeReport => {
  if (inputs.length === 0) throw new MergeRefused('merge: no input database given')
  const seen = new Map<string, string>()
  for (const f of [outFile, ...inputs]) {
    const real = realPath(f)
    const first = seen.get(real)
    if (first !== undefined) throw new MergeRefused(`${f}: the same file as ${first}${first === outFile ? ', the output' : ''}: each input is merged once, into another file`)
    seen.set(real, f)
  }
  const opened: Input[] = []
  const created = !fs.existsSync(outFile)
  try {
    for (const f of inputs) opened.push(openInput(f))
    const out = openForWrite(outFile)
    try {
      const outTables = new Set(runTables(out))
      for (const i of opened)
        for (const t of runTables(i.db)) {
          if (!outTables.has(t)) throw new MergeRefused(`${i.file}: table ${t} is not in ${outFile}`)
          const missing = columnsOf(i.db, t).filter((c) => !columnsOf(out, t).includes(c))
          if (missing.length > 0) throw new MergeRefused(`${i.file}: ${t}.${missing[0]} is not in ${outFile}`)
        }
      const runs: MergedRun[] = []
      out
        .transaction(() => {
          refuseDuplicates(out, outFile, opened)
          for (const i of opened) {
            const tables = runTables(i.db)
            const ids = new Map<number, number>()
            for (const r of i.runs) {
              const id = copyRun(i.db, out, r, ids, tables)
              ids.set(r.id, id)
              const copied = getRun(out, outFile, id)
              const v = verifyRun(out, id, copied.head_seq, copied.head_hash)
              if (!v.ok) throw new AssertionFailed(`merge: ${i.file} run ${r.id} copied as run ${id} does not verify: ${v.problem}`)
              runs.push({
                file: i.file,
                from: r.id,
                id,
                uuid: r.uuid!,
                digest: r.digest!,
                workload: r.workload_name,
                seed: r.seed,
                events: r.head_seq,
                violations: r.violations,
                headHash: r.head_hash,
              })
            }
          }
        })
        .immediate()
      return { out: outFile, inputs, runs }
    } finally {
      out.close()
    }
  } catch (err) {
    // A refused merge leaves no output file behind that it created.
    if (created) for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${outFile}${suffix}`, { force: true })
    throw err
  } finally {
    for (const i of opened) i.db.close()
  }
}
