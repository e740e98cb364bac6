// Integrity of a stored run: recompute every hash over it (hashChain.ts) and compare. The run's
// seal is checked first (a changed seed, workload, config, status or violation count); then the
// per-event chain names the first event whose fields or frame list were altered (or the first
// where two runs diverge), the block chain catches an alteration that also rewrote the per-event
// hashes, a run cut short names its first missing seq, and the head ties the last block, the
// head seq and the schedule together. Runs of hash version 1 are checked as they were written.
// A batch's body is read exactly as stored (batchBody.ts scanBody): any byte of it that differs
// from what the writer wrote changes an event's row text or breaks the body's shape, and either
// names the event where it happens.
import { scanBody } from './batchBody'
import { HASH_BYTES, batchesIn, hashesOf, storesBatches, type BatchRow } from './eventBatches'
import { GENESIS_HASH, SCHEDULE_GENESIS, blockHash, headHash as runHeadHash, rowHash, rowHashV1, rowText, rowTextV1, scheduleHash } from './hashChain'
import type { Db } from './open'
import { readRows, type StoredRow } from './readEvents'
import { getRun, runIdentity, runSeal, type RunRow } from './runs'
import { BLOCK_EVENTS } from './schema'
import { DECISION_WORDS } from '../events/schedule'

export type IntegrityResult =
  | { readonly ok: true; readonly events: number; readonly blocks: number; readonly headHash: string; readonly hashVersion: number }
  /** `seq` is the first seq in doubt; 0 when the run's own row is. */
  | { readonly ok: false; readonly seq: number; readonly problem: string }

interface Block {
  readonly block: number
  readonly first_seq: number
  readonly last_seq: number
  readonly hash: string
}

type Fail = Extract<IntegrityResult, { ok: false }>
const fail = (seq: number, problem: string): Fail => ({ ok: false, seq, problem })

/** The frames event_pfns lists per seq, walked in step with the events (both ascend by seq). */
class FrameLists {
  private readonly it: Iterator<{ seq: number; pfn: number }>
  private next: { seq: number; pfn: number } | undefined

  constructor(db: Db, runId: number) {
    this.it = db.prepare('SELECT seq, pfn FROM event_pfns WHERE run_id = ? ORDER BY seq, pfn').iterate(runId) as Iterator<{ seq: number; pfn: number }>
    this.advance()
  }

  private advance(): void {
    const r = this.it.next()
    this.next = r.done === true ? undefined : r.value
  }

  /** A seq listed before `seq` that the events do not have, if any. */
  orphanBefore(seq: number): number | null {
    return this.next !== undefined && this.next.seq < seq ? this.next.seq : null
  }

  take(seq: number): number[] {
    const out: number[] = []
    while (this.next !== undefined && this.next.seq === seq) {
      out.push(this.next.pfn)
      this.advance()
    }
    return out
  }

  /** The first listed seq past the last event, if any. */
  leftover(): number | null {
    return this.next?.seq ?? null
  }

  /** Ends the query, which would otherwise keep the connection busy. */
  close(): void {
    this.it.return?.()
  }
}

/**
 * The run's events as stored, in seq order, or the first fault of a batch that its events' hashes
 * cannot see: a body that does not have the writer's shape, a batch whose seqs, times or hash
 * count disagree with its body.
 */
function* storedEvents(db: Db, runId: number): Generator<StoredRow | Fail> {
  if (!storesBatches(db)) {
    yield* readRows(db, runId)
    return
  }
  for (const b of batchesIn(db, runId, 1, Number.MAX_SAFE_INTEGER)) {
    const scan = scanBody(b.body, b.first_seq, hashesOf(b.hashes))
    const rows = Array.isArray(scan) ? scan : scan.rows
    yield* rows
    const fault = Array.isArray(scan) ? batchFault(b, rows) : fail(b.first_seq + scan.index, `the batch of seq ${b.first_seq}..${b.last_seq} is damaged: ${scan.problem}`)
    if (fault !== null) {
      yield fault
      return
    }
  }
}

/** What a batch's own columns say that its body does not. */
const batchFault = (b: BatchRow, rows: readonly StoredRow[]): Fail | null => {
  const n = rows.length
  const at = `the batch of seq ${b.first_seq}..${b.last_seq}`
  if (b.last_seq !== b.first_seq + n - 1) return fail(Math.min(b.last_seq, b.first_seq + n - 1) + 1, `${at} holds ${n} events`)
  if (b.hashes.byteLength !== n * HASH_BYTES) return fail(b.first_seq + n, `${at} stores ${b.hashes.byteLength / HASH_BYTES} hashes for its ${n} events`)
  if (n > 0 && (b.first_t !== rows[0]!.t || b.last_t !== rows[n - 1]!.t))
    return fail(b.first_seq, `${at} records times ${b.first_t}..${b.last_t} but its events are at ${rows[0]!.t}..${rows[n - 1]!.t}`)
  return null
}

const verifyEvents = (db: Db, run: RunRow, genesis: string): { events: number; blocks: number; blockHead: string } | Fail => {
  const v2 = run.hash_version >= 2
  const blocks = db.prepare('SELECT block, first_seq, last_seq, hash FROM event_blocks WHERE run_id = ? ORDER BY block').all(run.id) as Block[]
  const frames = v2 ? new FrameLists(db, run.id) : null
  try {
    return walk(db, run, genesis, blocks, frames)
  } finally {
    frames?.close()
  }
}

const walk = (db: Db, run: RunRow, genesis: string, blocks: readonly Block[], frames: FrameLists | null): { events: number; blocks: number; blockHead: string } | Fail => {
  const v2 = run.hash_version >= 2
  let prevH = 0
  let expectSeq = 1
  let prevBlock = genesis
  let blockIdx = 0
  let rows: string[] = []
  const text = (r: StoredRow, f: readonly number[]): string =>
    v2 ? rowText(r.seq, r.t, r.cpu, r.type, r.pfn, r.npages, r.cause, f, r.data) : rowTextV1(r.seq, r.t, r.cpu, r.type, r.cause, r.data)
  const hash = (r: StoredRow, f: readonly number[]): number =>
    v2 ? rowHash(prevH, r.seq, r.t, r.cpu, r.type, r.pfn, r.npages, r.cause, f, r.data) : rowHashV1(prevH, r.seq, r.t, r.cpu, r.type, r.cause, r.data)
  for (const r of storedEvents(db, run.id)) {
    if ('ok' in r) return r
    if (r.seq !== expectSeq) return fail(expectSeq, `seq ${expectSeq} is missing (next stored is ${r.seq})`)
    const orphan = frames?.orphanBefore(r.seq) ?? null
    if (orphan !== null) return fail(orphan, `event_pfns lists frames for seq ${orphan}, which has no event`)
    const f = frames?.take(r.seq) ?? []
    const h = hash(r, f)
    if (h !== r.h) return fail(r.seq, `event ${r.seq}${v2 ? ' (its fields or its frames in event_pfns)' : ''} does not match its hash: it was altered`)
    prevH = h
    rows.push(text(r, f))
    const b = blocks[blockIdx]
    if (b === undefined) return fail(r.seq, `no hash block covers seq ${r.seq}`)
    if (r.seq === b.last_seq) {
      if (b.first_seq !== r.seq - rows.length + 1) return fail(b.first_seq, `block ${b.block} does not start at ${r.seq - rows.length + 1}`)
      prevBlock = blockHash(prevBlock, rows)
      if (prevBlock !== b.hash)
        return fail(
          b.first_seq,
          `block ${b.block} (seq ${b.first_seq}..${b.last_seq}) does not match its SHA-256: rows and their hashes were rewritten${v2 && b.block === 0 ? ", or the run's identity (seed, workload, config) was" : ''}`,
        )
      rows = []
      blockIdx++
    }
    expectSeq++
  }
  const leftover = blocks[blockIdx]
  if (leftover !== undefined)
    return fail(expectSeq, `seq ${expectSeq} is missing: block ${leftover.block} covers seq ${leftover.first_seq}..${leftover.last_seq} but the events end at ${expectSeq - 1}`)
  const beyond = frames?.leftover() ?? null
  if (beyond !== null) return fail(beyond, `event_pfns lists frames for seq ${beyond}, past the last event (${expectSeq - 1})`)
  return { events: expectSeq - 1, blocks: blockIdx, blockHead: prevBlock }
}

/** Bytes per decision as a run's hash version stores them: a bare delay (2), a decision record (3). */
const decisionBytes = (run: RunRow): number => (run.hash_version >= 3 ? 4 * DECISION_WORDS : 4)

/** The schedule's hash chain and decision count (hash version 2 and later). */
const verifySchedule = (db: Db, run: RunRow): { head: string } | Fail => {
  const chunks = db.prepare('SELECT chunk, decisions FROM schedule WHERE run_id = ? ORDER BY chunk').all(run.id) as { chunk: number; decisions: Buffer }[]
  let head = SCHEDULE_GENESIS
  let decisions = 0
  for (const [i, c] of chunks.entries()) {
    if (c.chunk !== i) return fail(0, `schedule chunk ${i} is missing`)
    if (c.decisions.byteLength % decisionBytes(run) !== 0) return fail(0, `schedule chunk ${i} does not hold whole decisions of ${decisionBytes(run)} bytes`)
    head = scheduleHash(head, c.decisions)
    decisions += c.decisions.byteLength / decisionBytes(run)
  }
  if (head !== run.schedule_hash) return fail(0, "the stored schedule does not match the run's schedule hash: it was changed")
  if (decisions !== run.decisions) return fail(0, `the run records ${run.decisions} schedule decisions but ${decisions} are stored`)
  return { head }
}

/**
 * Verifies run `runId` against its head (`headSeq`, `headHash`: the run row's, or an anchor kept
 * elsewhere). One read transaction: a run still being written is checked as of one commit.
 */
export const verifyRun = (db: Db, runId: number, headSeq: number, headHash: string): IntegrityResult => db.transaction(() => verifyInSnapshot(db, runId, headSeq, headHash))()

const verifyInSnapshot = (db: Db, runId: number, headSeq: number, headHash: string): IntegrityResult => {
  const run = getRun(db, db.name, runId)
  const v2 = run.hash_version >= 2
  if (v2 && run.seal !== runSeal(run))
    return fail(
      0,
      `the run's row does not match its seal: its seed, workload, config, status, outcome, reason${run.hash_version >= 3 ? ', violations or lineage' : ' or violations'} were changed`,
    )
  const ev = verifyEvents(db, run, v2 ? runIdentity(run) : GENESIS_HASH)
  if ('ok' in ev) return ev
  if (ev.events !== headSeq)
    return ev.events < headSeq
      ? fail(ev.events + 1, `seq ${ev.events + 1} is missing: the run's head is seq ${headSeq} but the events end at ${ev.events}`)
      : fail(headSeq + 1, `the run's head is seq ${headSeq} but ${ev.events} events are stored`)
  let head = ev.blockHead
  if (v2) {
    const s = verifySchedule(db, run)
    if ('ok' in s) return s
    head = runHeadHash(ev.blockHead, headSeq, s.head, run.decisions, run.hash_version)
  }
  if (head !== headHash) return fail(headSeq, "the run's head hash does not match its blocks and schedule: the run's row was changed, or its last blocks removed")
  return { ok: true, events: ev.events, blocks: ev.blocks, headHash: head, hashVersion: run.hash_version }
}

export { BLOCK_EVENTS }
