// Bringing a database to this mmsim's schema: a new (empty) file gets every step, an older one
// the steps after its version, in one transaction, after checking it. A write command calls this
// on open; read commands read schema 1 files as they are (runs.ts fills the columns added since).
import type Database from 'better-sqlite3'
import { StoreError } from './errors'
import { APPLICATION_ID, MIGRATIONS, PAGE_SIZE, SCHEMA_VERSION } from './schema'
import { checkIdentity, checkShape, storeErrorFor } from './validate'

type Db = Database.Database

export interface Migrated {
  readonly from: number
  readonly to: number
}

/**
 * Migrates `db` to SCHEMA_VERSION. BEGIN IMMEDIATE takes the write lock first, so two processes
 * opening an old file at once migrate it once: the second finds it current inside its transaction.
 * Runs keep the hashes they were written with (a migration never recomputes one: that would vouch
 * for whatever the file holds now).
 */
export const migrate = (db: Db, file: string): Migrated => {
  const from = checkIdentity(db, file)
  if (from === SCHEMA_VERSION) return { from, to: from }
  // A new file's page size, set before its first page is written (a no-op on an existing file).
  // Larger pages make the append-only inserts cheaper: fewer splits and WAL frames per row.
  if (from === 0) db.pragma(`page_size = ${PAGE_SIZE}`)
  try {
    db.exec('BEGIN IMMEDIATE')
  } catch (err) {
    throw storeErrorFor(file, err)
  }
  try {
    const now = checkIdentity(db, file)
    if (now > 0) {
      const problems = db.pragma('quick_check', { simple: false }) as { quick_check: string }[]
      if (problems.length !== 1 || problems[0]!.quick_check !== 'ok')
        throw new StoreError(
          `${file}: the database file is damaged (${problems
            .slice(0, 3)
            .map((p) => p.quick_check)
            .join('; ')}); not migrating it`,
        )
    }
    for (const m of MIGRATIONS)
      if (m.version > now) {
        db.exec(m.sql)
        m.after?.(db)
      }
    db.pragma(`application_id = ${APPLICATION_ID}`)
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
    checkShape(db, file, SCHEMA_VERSION)
    db.exec('COMMIT')
    return { from: now, to: SCHEMA_VERSION }
  } catch (err) {
    db.exec('ROLLBACK')
    throw storeErrorFor(file, err)
  }
}
