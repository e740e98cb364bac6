// Integrity of a stored run: recompute both hash chains and compare. The per-event chain names
// the first row that was altered (or the first where two runs diverge); the block chain, with
// SHA-256, catches an alteration that also rewrote the per-event hashes.
import { BLOCK_EVENTS } from './schema'
import { GENESIS_HASH, blockHash, chainHash, rowText } from './hashChain'
import type { Db } from './open'
import { readRows } from './readEvents'

export type IntegrityResult =
  | { readonly ok: true; readonly events: number; readonly blocks: number; readonly headHash: string }
  | { readonly ok: false; readonly seq: number; readonly problem: string }

export const verifyRun = (db: Db, runId: number, headSeq: number, headHash: string): IntegrityResult => {
  const blocks = db.prepare('SELECT block, first_seq, last_seq, hash FROM event_blocks WHERE run_id = ? ORDER BY block').all(runId) as {
    block: number
    first_seq: number
    last_seq: number
    hash: string
  }[]
  let prevH = 0
  let expectSeq = 1
  let prevBlock = GENESIS_HASH
  let blockIdx = 0
  let rows: string[] = []
  for (const r of readRows(db, runId)) {
    if (r.seq !== expectSeq) return { ok: false, seq: expectSeq, problem: `seq ${expectSeq} is missing (next stored is ${r.seq})` }
    const text = rowText(r.seq, r.t, r.cpu, r.type, r.cause, r.data)
    const h = chainHash(prevH, r.seq, r.t, r.cpu, r.type, r.cause, r.data)
    if (h !== r.h) return { ok: false, seq: r.seq, problem: `row ${r.seq} does not match its hash: it was altered` }
    prevH = h
    rows.push(text)
    const b = blocks[blockIdx]
    if (b === undefined) return { ok: false, seq: r.seq, problem: `no hash block covers seq ${r.seq}` }
    if (r.seq === b.last_seq) {
      if (b.first_seq !== r.seq - rows.length + 1) return { ok: false, seq: b.first_seq, problem: `block ${b.block} does not start at ${r.seq - rows.length + 1}` }
      prevBlock = blockHash(prevBlock, rows)
      if (prevBlock !== b.hash) return { ok: false, seq: b.first_seq, problem: `block ${b.block} (seq ${b.first_seq}..${b.last_seq}) does not match its SHA-256: rows and their hashes were rewritten` }
      rows = []
      blockIdx++
    }
    expectSeq++
  }
  if (rows.length > 0 && blockIdx < blocks.length) return { ok: false, seq: expectSeq - rows.length, problem: 'the last block is incomplete' }
  const leftover = blocks[blockIdx]
  if (leftover !== undefined)
    return { ok: false, seq: leftover.first_seq, problem: `block ${leftover.block} (seq ${leftover.first_seq}..${leftover.last_seq}) has no events: they were removed` }
  if (expectSeq - 1 !== headSeq) return { ok: false, seq: expectSeq, problem: `the run's head is seq ${headSeq} but ${expectSeq - 1} events are stored` }
  if (prevBlock !== headHash) return { ok: false, seq: headSeq, problem: "the run's integrity hash does not match its blocks" }
  return { ok: true, events: expectSeq - 1, blocks: blockIdx, headHash: prevBlock }
}

export { BLOCK_EVENTS }
