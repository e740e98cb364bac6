// Opening a database: a new file gets the schema; an existing one must be an mmsim file of a
// schema this version knows. Anything else is refused with a message that says which.
import * as fs from 'node:fs'
import Database from 'better-sqlite3'
import { APPLICATION_ID, BUSY_TIMEOUT_MS, PAGE_SIZE, SCHEMA_SQL, SCHEMA_VERSION, WRITE_PRAGMAS } from './schema'
import { StoreError } from './errors'

export type Db = Database.Database

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err))

const checkIdentity = (db: Db, file: string): 'empty' | 'ok' => {
  let appId: number
  let version: number
  let tables: number
  try {
    appId = db.pragma('application_id', { simple: true }) as number
    version = db.pragma('user_version', { simple: true }) as number
    tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n
  } catch (err) {
    throw new StoreError(`${file}: not an mmsim database (${describe(err)})`)
  }
  if (appId === 0 && version === 0 && tables === 0) return 'empty'
  if (appId !== APPLICATION_ID) throw new StoreError(`${file}: not an mmsim database (SQLite application_id ${appId})`)
  if (version > SCHEMA_VERSION)
    throw new StoreError(`${file}: written by a newer mmsim (schema ${version}; this mmsim reads up to ${SCHEMA_VERSION})`)
  if (version < SCHEMA_VERSION) throw new StoreError(`${file}: schema ${version} is older than ${SCHEMA_VERSION} and cannot be upgraded`)
  return 'ok'
}

/** Opens (creating if needed) a database for writing runs. */
export const openForWrite = (file: string): Db => {
  let db: Db
  try {
    // Other writers may hold the file: wait for them (every statement) rather than fail.
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS })
  } catch (err) {
    throw new StoreError(`${file}: cannot open: ${describe(err)}`)
  }
  try {
    if (checkIdentity(db, file) === 'empty') {
      // Set before the file's first page is written. Larger pages make the append-only inserts
      // cheaper (fewer splits and WAL frames per row): about 10% of the insert cost here.
      db.pragma(`page_size = ${PAGE_SIZE}`)
      // IMMEDIATE, and the check again inside: of several writers that find the file empty at
      // once, one creates the schema and the others then find it made.
      db.exec('BEGIN IMMEDIATE')
      try {
        if (checkIdentity(db, file) === 'empty') {
          db.exec(SCHEMA_SQL)
          db.pragma(`application_id = ${APPLICATION_ID}`)
          db.pragma(`user_version = ${SCHEMA_VERSION}`)
        }
        db.exec('COMMIT')
      } finally {
        if (db.inTransaction) db.exec('ROLLBACK')
      }
    }
    for (const p of WRITE_PRAGMAS) db.pragma(p)
  } catch (err) {
    db.close()
    throw err instanceof StoreError ? err : new StoreError(`${file}: ${describe(err)}`)
  }
  return db
}

/** The writer thread's own connection to a database that openForWrite already opened. */
export const openWriterConnection = (file: string): Db => {
  const db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS })
  for (const p of WRITE_PRAGMAS) db.pragma(p)
  return db
}

/** Opens an existing database for reading; a missing file is an error, not a new database. */
export const openForRead = (file: string): Db => {
  if (!fs.existsSync(file)) throw new StoreError(`${file}: no such database (run \`mmsim run --db ${file}\` first)`)
  let db: Db
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
  } catch (err) {
    throw new StoreError(`${file}: cannot open: ${describe(err)}`)
  }
  try {
    if (checkIdentity(db, file) === 'empty') throw new StoreError(`${file}: not an mmsim database (empty)`)
  } catch (err) {
    db.close()
    throw err
  }
  return db
}
