// The sqlite3 queries the README shows, as a user types them, and the sqlite3 shell to run them
// with where it is installed.
import { spawnSync } from 'node:child_process'

export const README_QUERIES = [
  'SELECT type, count(*) FROM events WHERE run_id = 1 GROUP BY type',
  "SELECT seq, t, cpu, json_extract(data, '$.pfn') FROM events WHERE run_id = 1 AND type = 'DiscardFault'",
] as const

/** The README's query for one event (seq 3000) through event_batches' primary key. */
export const README_ONE_EVENT =
  'SELECT b.first_seq + j.key AS seq, j.value FROM event_batches b, json_each(b.body) j WHERE b.run_id = 1 AND b.first_seq <= 3000 AND b.last_seq >= 3000 AND j.key = 3000 - b.first_seq'

const hasShell = spawnSync('sqlite3', ['-version'], { encoding: 'utf8' }).status === 0

/** What `sqlite3 file sql` prints, or null where the shell is not installed. */
export const sqlite3Cli = (file: string, sql: string): string | null => {
  if (!hasShell) return null
  const r = spawnSync('sqlite3', ['-readonly', file, sql], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`sqlite3 ${file} "${sql}": ${r.stderr}`)
  return r.stdout
}
