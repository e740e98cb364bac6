// Is this file a healthy mmsim database, and if not, why? Checked before anything is written: a
// path that is a directory, a file or directory without the permission the command needs, a file
// of another program, an mmsim file without its tables, a schema newer than this mmsim. Each is a
// StoreError (exit 2) whose message names the file and the real cause; SQLite's own codes are
// translated at this boundary so that "disk I/O error" never stands for "this is a directory".
import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { StoreError } from './errors'
import { APPLICATION_ID, SCHEMA_VERSION, SCHEMA_VERSION_READABLE, createSchema } from './schema'

type Db = Database.Database

const errnoOf = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message

/** A StoreError for an error SQLite raised on `file`, naming the cause in a user's words. */
export const storeErrorFor = (file: string, err: unknown): StoreError => {
  if (err instanceof StoreError) return err
  const code = (err as { code?: unknown }).code
  const msg = err instanceof Error ? err.message : String(err)
  const c = typeof code === 'string' ? code : ''
  if (c === 'SQLITE_NOTADB') return new StoreError(`${file}: not an mmsim database (not an SQLite file)`)
  if (c.startsWith('SQLITE_CORRUPT')) return new StoreError(`${file}: the database file is damaged (${msg})`)
  if (c === 'SQLITE_READONLY_DIRECTORY' || c === 'SQLITE_CANTOPEN_DIRTYWAL')
    return new StoreError(
      `${file}: its directory ${path.dirname(file)} is not writable, and SQLite must create the write-ahead log's index (${path.basename(file)}-shm) beside the file to use it; copy the file to a writable directory`,
    )
  if (c.startsWith('SQLITE_READONLY')) return new StoreError(`${file}: the database is read-only (${msg})`)
  if (c === 'SQLITE_FULL') return new StoreError(`${file}: the disk is full (${msg})`)
  if (c.startsWith('SQLITE_BUSY') || c.startsWith('SQLITE_LOCKED')) return new StoreError(`${file}: locked by another process (${msg})`)
  if (c.startsWith('SQLITE_CANTOPEN')) return new StoreError(`${file}: cannot open (${msg})`)
  if (c.startsWith('SQLITE_IOERR')) return new StoreError(`${file}: I/O error (${msg})`)
  return new StoreError(`${file}: ${msg}`)
}

/** The checks a path must pass before SQLite opens it: nothing here writes. */
export const checkPath = (file: string, mode: 'read' | 'write'): void => {
  let st: fs.Stats | null = null
  try {
    st = fs.statSync(file)
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw new StoreError(`${file}: cannot read (${errnoOf(err)})`)
  }
  if (st === null) {
    if (mode === 'read') throw new StoreError(`${file}: no such database (run \`mmsim run --db ${file}\` first)`)
    const dir = path.dirname(file)
    if (!fs.existsSync(dir)) throw new StoreError(`${file}: no such directory ${dir}`)
  } else {
    if (st.isDirectory()) throw new StoreError(`${file}: is a directory, not a database file`)
    if (!st.isFile()) throw new StoreError(`${file}: not a regular file, so not an mmsim database`)
  }
  const need = mode === 'read' ? fs.constants.R_OK : fs.constants.R_OK | fs.constants.W_OK
  if (st !== null) {
    try {
      fs.accessSync(file, need)
    } catch (err) {
      throw new StoreError(
        mode === 'read' ? `${file}: not readable (${errnoOf(err)})` : `${file}: the database is read-only (${errnoOf(err)}); writing a run needs write permission`,
      )
    }
  }
  if (mode === 'write') {
    const dir = path.dirname(file)
    try {
      fs.accessSync(dir, fs.constants.W_OK)
    } catch (err) {
      throw new StoreError(`${file}: its directory ${dir} is not writable (${errnoOf(err)}); SQLite keeps the write-ahead log and its index beside the database`)
    }
  }
}

/** Tables and views and their columns, as each schema version has them: made by the migrations, in memory. */
const shapes = new Map<number, Map<string, string[]>>()

const shapeOf = (db: Db): Map<string, string[]> => {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name").pluck().all() as string[]
  return new Map(tables.map((t) => [t, (db.pragma(`table_info(${t})`) as { name: string }[]).map((c) => c.name)]))
}

const expectedShape = (version: number): Map<string, string[]> => {
  let s = shapes.get(version)
  if (s === undefined) {
    const mem = new Database(':memory:')
    try {
      createSchema(mem, version)
      s = shapeOf(mem)
    } finally {
      mem.close()
    }
    shapes.set(version, s)
  }
  return s
}

/** Every table and column of schema `version` is there; anything of mmsim's missing is an unhealthy file. */
export const checkShape = (db: Db, file: string, version: number): void => {
  const have = shapeOf(db)
  for (const [table, columns] of expectedShape(version)) {
    const got = have.get(table)
    if (got === undefined) throw new StoreError(`${file}: not a healthy mmsim database: table ${table} of schema ${version} is missing`)
    for (const c of columns) if (!got.includes(c)) throw new StoreError(`${file}: not a healthy mmsim database: column ${table}.${c} of schema ${version} is missing`)
  }
}

/**
 * The file's schema version, 0 for an empty file (a new database). A file of another program, an
 * mmsim file without its tables, or a newer schema is refused.
 */
export const checkIdentity = (db: Db, file: string): number => {
  let appId: number
  let version: number
  let tables: number
  try {
    // One read transaction, so the three answers come from one state of the file: another
    // process creating the database between them would otherwise show tables without its id.
    ;[appId, version, tables] = db
      .transaction((): [number, number, number] => [
        db.pragma('application_id', { simple: true }) as number,
        db.pragma('user_version', { simple: true }) as number,
        db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number,
      ])
      .deferred()
  } catch (err) {
    throw storeErrorFor(file, err)
  }
  if (appId === 0 && version === 0 && tables === 0) return 0
  if (appId !== APPLICATION_ID) throw new StoreError(`${file}: not an mmsim database (SQLite application_id ${appId})`)
  if (version > SCHEMA_VERSION) throw new StoreError(`${file}: written by a newer mmsim (schema ${version}; this mmsim reads up to ${SCHEMA_VERSION})`)
  if (version === 0 || tables === 0)
    throw new StoreError(`${file}: not a healthy mmsim database: it has mmsim's application id but ${tables === 0 ? 'no tables' : 'no schema version'}; mmsim will not write to it`)
  if (version < SCHEMA_VERSION_READABLE)
    throw new StoreError(`${file}: schema ${version} is older than the read commands read (${SCHEMA_VERSION_READABLE}); \`mmsim run --db ${file}\` migrates it`)
  checkShape(db, file, version)
  return version
}
