// The database schema, as an ordered list of migrations: step N takes a database from schema
// N - 1 to N, and a new file is made by running every step from 0, so a migrated file and a new
// one are the same. A change to the tables is a new step at the end, never an edit of an old one
// (databases in users' hands were made by the old steps). One file holds many runs; events are
// append-only (the triggers refuse UPDATE and DELETE); the hashes of hashChain.ts make any altered
// event detected and located (verify.ts).
import type Database from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import { EVENTS_VIEW_SQL, EVENT_BATCHES_SQL } from './eventBatches'
import { EVENT_BOUNDS_SQL, boundStoredBatches } from './eventBounds'
import { EVENT_INDEX_SQL, INDEX_BATCH_EVENTS, indexEventRows } from './eventIndex'
import { eventsToBatches } from './eventsToBatches'
import { identityHash } from './hashChain'

/** PRAGMA application_id: "mmSI". A file with another id is not an mmsim database. */
export const APPLICATION_ID = 0x6d6d5349
/** Events per hash block. */
export const BLOCK_EVENTS = 4096

const appendOnly = (table: string) => `
CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
  BEGIN SELECT RAISE(ABORT, '${table} are append-only'); END;
CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
  BEGIN SELECT RAISE(ABORT, '${table} are append-only'); END;`

/** Schema 1: the tables as first released. */
const SCHEMA_1 = `
CREATE TABLE runs (
  id              INTEGER PRIMARY KEY,
  created_at      TEXT    NOT NULL,
  engine_version  TEXT    NOT NULL,
  seed            INTEGER NOT NULL,
  config          TEXT    NOT NULL,
  workload        TEXT    NOT NULL,
  workload_name   TEXT    NOT NULL,
  workload_source TEXT    NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
  outcome         TEXT,
  reason          TEXT,
  head_seq        INTEGER NOT NULL DEFAULT 0,
  head_hash       TEXT    NOT NULL DEFAULT '',
  decisions       INTEGER NOT NULL DEFAULT 0,
  violations      INTEGER NOT NULL DEFAULT 0,
  pid             INTEGER,
  host            TEXT,
  finished_at     TEXT
);

CREATE TABLE events (
  run_id  INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  t       INTEGER NOT NULL,
  cpu     INTEGER,
  type    TEXT    NOT NULL,
  pfn     INTEGER,
  npages  INTEGER,
  cause   INTEGER,
  data    TEXT    NOT NULL,
  h       INTEGER NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE INDEX events_by_pfn ON events (run_id, pfn) WHERE pfn IS NOT NULL;
CREATE INDEX events_by_type ON events (run_id, type, seq);
${appendOnly('events')}

-- Events about many scattered frames (a discarded-page list spliced, a collection freed) list
-- each frame here, so that "everything that happened to frame X" finds them too.
CREATE TABLE event_pfns (
  run_id INTEGER NOT NULL,
  pfn    INTEGER NOT NULL,
  seq    INTEGER NOT NULL,
  PRIMARY KEY (run_id, pfn, seq)
) WITHOUT ROWID;
${appendOnly('event_pfns')}

CREATE TABLE event_blocks (
  run_id    INTEGER NOT NULL,
  block     INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq  INTEGER NOT NULL,
  hash      TEXT    NOT NULL,
  PRIMARY KEY (run_id, block)
) WITHOUT ROWID;
${appendOnly('event_blocks')}

CREATE TABLE schedule (
  run_id    INTEGER NOT NULL,
  chunk     INTEGER NOT NULL,
  decisions BLOB    NOT NULL,
  PRIMARY KEY (run_id, chunk)
) WITHOUT ROWID;
${appendOnly('schedule')}
`

/**
 * Schema 2: what the run row needs for hash version 2 (storage/hashChain.ts). Runs written before
 * keep hash version 1 and verify as they were written; their hashes are never recomputed, since
 * recomputing would vouch for whatever the file holds now.
 */
const SCHEMA_2 = `
ALTER TABLE runs ADD COLUMN hash_version  INTEGER NOT NULL DEFAULT 1;
ALTER TABLE runs ADD COLUMN schedule_hash TEXT;
ALTER TABLE runs ADD COLUMN seal          TEXT;
`

/**
 * Schema 3: the per-batch index tables (eventIndex.ts) replace the two SQLite indexes on events,
 * whose upkeep was most of the write path's cost. Runs already stored get their index rows built
 * from their events (the step's `after`), in the migration's transaction.
 */
const SCHEMA_3 = `
DROP INDEX events_by_pfn;
DROP INDEX events_by_type;
${EVENT_INDEX_SQL}
${appendOnly('event_types')}
${appendOnly('event_frames')}
`

/**
 * Schema 5: a run's lineage. A replay or a fork names the run it came from (`parent_run`), how
 * (`derivation`), where a fork leaves its parent (`fork_seq`), the seed of the schedule strategy
 * that decides once the parent's schedule no longer does (`schedule_seed`), and the seq and
 * decision index at which that happened (`departed_seq`, `departed_decision`; null when every
 * decision came from the parent). Runs stored before keep null in every one of them.
 */
const SCHEMA_5 = `
ALTER TABLE runs ADD COLUMN parent_run        INTEGER REFERENCES runs (id);
ALTER TABLE runs ADD COLUMN derivation        TEXT CHECK (derivation IN ('replay', 'fork'));
ALTER TABLE runs ADD COLUMN fork_seq          INTEGER;
ALTER TABLE runs ADD COLUMN schedule_seed     INTEGER;
ALTER TABLE runs ADD COLUMN departed_seq      INTEGER;
ALTER TABLE runs ADD COLUMN departed_decision INTEGER;
`

/**
 * Schema 6: snapshots of the projected state (storage/snapshotStore.ts), so that the state at any
 * seq is a restore plus a short fold. Derived data: runs stored before have none until `mmsim
 * snapshot` builds them, and reading works without them. Rows may be deleted (a rebuild replaces
 * a run's set in one transaction) but never changed; every use verifies a snapshot first.
 */
const SCHEMA_6 = `
CREATE TABLE snapshots (
  run_id    INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  kind      TEXT    NOT NULL CHECK (kind IN ('full', 'delta')),
  base_seq  INTEGER CHECK (base_seq < seq),
  head_hash TEXT    NOT NULL,
  checksum  TEXT    NOT NULL,
  raw_bytes INTEGER NOT NULL,
  bytes     BLOB    NOT NULL,
  PRIMARY KEY (run_id, seq),
  CHECK ((kind = 'full') = (base_seq IS NULL))
);
CREATE TRIGGER snapshots_no_update BEFORE UPDATE ON snapshots
  BEGIN SELECT RAISE(ABORT, 'snapshots are never changed: mmsim snapshot replaces a run''s set'); END;
`

/**
 * Schema 7: each run's stable identity, which a copy into another database keeps (`mmsim merge`):
 * `uuid`, drawn once when the run is created, names this run; `digest`, the run's identity hash
 * (hashChain.ts: engine version, seed, configuration with the schedule strategy, workload with its
 * variants), names the experiment, equal for every run that must produce the same events. Runs
 * stored before get both here. Neither is under the run's hashes: the digest is recomputed from
 * the row by whoever needs to trust it, and the uuid is a name, not a claim.
 */
const SCHEMA_7 = `
ALTER TABLE runs ADD COLUMN uuid   TEXT;
ALTER TABLE runs ADD COLUMN digest TEXT;
CREATE UNIQUE INDEX runs_by_uuid ON runs (uuid);
CREATE INDEX runs_by_digest ON runs (digest);
`

/**
 * Schema 8: where each event stands in its batch's body (eventBounds.ts), so that a query by type
 * or by frame reads its events without reading whole bodies. Derived data, append-only like the
 * index; the batches already stored get theirs here (the step's `after`).
 */
const SCHEMA_8 = `
${EVENT_BOUNDS_SQL}
${appendOnly('event_bounds')}
`

const identifyStoredRuns = (db: Database.Database): void => {
  const rows = db.prepare('SELECT id, engine_version, seed, config, workload FROM runs ORDER BY id').all() as {
    id: number
    engine_version: string
    seed: number
    config: string
    workload: string
  }[]
  const set = db.prepare('UPDATE runs SET uuid = ?, digest = ? WHERE id = ?')
  for (const r of rows) set.run(randomUUID(), identityHash({ engineVersion: r.engine_version, seed: r.seed, config: r.config, workload: r.workload }), r.id)
}

const indexStoredRuns = (db: Database.Database): void => {
  for (const id of db.prepare('SELECT id FROM runs ORDER BY id').pluck().all() as number[]) indexEventRows(db, id, INDEX_BATCH_EVENTS)
}

/**
 * Schema 4: one row per batch of events (eventBatches.ts, batchBody.ts) instead of one per event.
 * Storing a batch is then one INSERT instead of thousands, and reading one is one JSON.parse
 * instead of a row and a JSON.parse per event. Stored runs move into batches with their hashes
 * unchanged (the step's `after`); the events table gives way to a view of the same name and
 * columns (but h), so that queries of the sqlite3 shell keep working.
 */
const SCHEMA_4 = `
${EVENT_BATCHES_SQL}
${appendOnly('event_batches')}
`

const moveEventsIntoBatches = (db: Database.Database): void => {
  eventsToBatches(db)
  // Its triggers go with the table.
  db.exec(`DROP TABLE events; ${EVENTS_VIEW_SQL}`)
}

export interface Migration {
  /** The schema version this step produces. */
  readonly version: number
  readonly what: string
  readonly sql: string
  /**
   * Work on the rows already stored, after the step's SQL, in the same transaction; it may end
   * with SQL of its own (schema 4 drops a table once its rows moved). It runs on a new, empty
   * database too, so a new file and a migrated one are the same.
   */
  readonly after?: (db: Database.Database) => void
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, what: 'runs, events, event_pfns, event_blocks, schedule', sql: SCHEMA_1 },
  { version: 2, what: "each run's hash version, schedule hash and seal", sql: SCHEMA_2 },
  { version: 3, what: 'per-batch index tables for queries by type and by frame', sql: SCHEMA_3, after: indexStoredRuns },
  { version: 4, what: 'one row per batch of events; events becomes a view', sql: SCHEMA_4, after: moveEventsIntoBatches },
  { version: 5, what: "each run's lineage: the run it replays or forks, the fork point, the schedule's seed", sql: SCHEMA_5 },
  { version: 6, what: 'snapshots of the projected state', sql: SCHEMA_6 },
  { version: 7, what: "each run's identity: a uuid and the digest of what it runs", sql: SCHEMA_7, after: identifyStoredRuns },
  { version: 8, what: "each event's place in its batch's body, for filtered queries", sql: SCHEMA_8, after: boundStoredBatches },
]

/** PRAGMA user_version of a database this mmsim writes: the last migration's. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version

/** The oldest schema the read commands read as it is (a write command migrates it first). */
export const SCHEMA_VERSION_READABLE = 1

/**
 * How long a writer waits for another process's transaction before giving up. Writers take
 * turns per batch; a turn is a fraction of a second, and building a schema or ending a run less.
 */
export const BUSY_TIMEOUT_MS = 300_000

/** Page size of a new database file: larger pages make the append-only inserts cheaper. */
export const PAGE_SIZE = 16384

/** Connection settings for writing: WAL, and durable at each committed batch's checkpoint. */
export const WRITE_PRAGMAS = ['journal_mode = WAL', 'synchronous = NORMAL', 'temp_store = MEMORY', 'cache_size = -65536']

/** Runs the steps up to `version` (every step by default) on `db`: the tables of a new database. */
export const createSchema = (db: Database.Database, version = SCHEMA_VERSION): void => {
  for (const m of MIGRATIONS)
    if (m.version <= version) {
      db.exec(m.sql)
      m.after?.(db)
    }
}
