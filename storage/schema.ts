// The database schema. One file holds many runs; events are append-only (the triggers refuse
// UPDATE and DELETE); each event carries a chained hash, and each block of events a SHA-256
// chained to the block before, so any altered row is detected and located (verify.ts).
import { EVENT_INDEX_SQL } from './eventIndex'

/** PRAGMA application_id: "mmSI". A file with another id is not an mmsim database. */
export const APPLICATION_ID = 0x6d6d5349
/** PRAGMA user_version. Bumped with every change to the tables below. */
export const SCHEMA_VERSION = 2
/** Events per hash block. */
export const BLOCK_EVENTS = 4096

const appendOnly = (table: string) => `
CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
  BEGIN SELECT RAISE(ABORT, '${table} are append-only'); END;
CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
  BEGIN SELECT RAISE(ABORT, '${table} are append-only'); END;`

export const SCHEMA_SQL = `
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
${appendOnly('events')}
-- No SQLite index on events: their upkeep was most of the write path's cost. Queries by type
-- and by frame use the per-batch index tables (eventIndex.ts).
${EVENT_INDEX_SQL}
${appendOnly('event_types')}
${appendOnly('event_frames')}

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
 * How long a writer waits for another process's transaction before giving up. Writers take
 * turns per batch, a fraction of a second each; but SQLite's busy handler polls rather than
 * queues, so with several writers keeping the lock busy one of them may wait through many turns.
 */
export const BUSY_TIMEOUT_MS = 300_000

/** Page size of a new database file. */
export const PAGE_SIZE = 16384

/** Connection settings for writing: WAL, and durable at each committed batch's checkpoint. */
export const WRITE_PRAGMAS = ['journal_mode = WAL', 'synchronous = NORMAL', 'temp_store = MEMORY', 'cache_size = -65536']
