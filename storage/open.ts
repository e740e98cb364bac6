// Opening a database: the path and the file are checked before anything is written
// (validate.ts); a new file gets the schema and an older one is migrated (migrate.ts); a file that
// is not a healthy mmsim database is refused with a message that says why, and left as it was.
import Database from 'better-sqlite3'
import { BUSY_TIMEOUT_MS, WRITE_PRAGMAS } from './schema'
import { migrate } from './migrate'
import { checkIdentity, checkPath, storeErrorFor } from './validate'

export type Db = Database.Database

/** Opens (creating if needed) a database for writing runs, migrating an older schema in place. */
export const openForWrite = (file: string): Db => {
  checkPath(file, 'write')
  let db: Db
  try {
    // Other writers may hold the file: wait for them (every statement) rather than fail.
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS })
  } catch (err) {
    throw storeErrorFor(file, err)
  }
  try {
    migrate(db, file)
    for (const p of WRITE_PRAGMAS) db.pragma(p)
  } catch (err) {
    db.close()
    throw storeErrorFor(file, err)
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
  checkPath(file, 'read')
  let db: Db
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
  } catch (err) {
    throw storeErrorFor(file, err)
  }
  try {
    if (checkIdentity(db, file) === 0) throw storeErrorFor(file, new Error('not an mmsim database (empty)'))
  } catch (err) {
    db.close()
    throw storeErrorFor(file, err)
  }
  return db
}

const tablesSeen = new WeakMap<Db, Map<string, boolean>>()

/** Whether the file has table `name` (asked once per connection: a read opens a file as it is, of any schema). */
export const hasTable = (db: Db, name: string): boolean => {
  let seen = tablesSeen.get(db)
  if (seen === undefined) tablesSeen.set(db, (seen = new Map()))
  let has = seen.get(name)
  if (has === undefined) {
    has = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?").pluck().get(name) === 1
    seen.set(name, has)
  }
  return has
}
