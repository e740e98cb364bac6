// The writer thread: one connection of its own, one BatchWriter, batches in the order they were
// sent. It reports each commit on the reply port and in the shared control words, so that the
// simulation thread can wait for it synchronously (Atomics.wait) without an event loop turn.
// Every batch is counted as handled, even after a failure, so that a waiting thread always wakes.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { BatchWriter } from './batchWriter'
import { openWriterConnection, type Db } from './open'
import { SnapshotFolder } from './snapshotFold'
import { CTRL_ABANDON, CTRL_CLOSED, CTRL_DONE, CTRL_FAILED, type FromWriter, type ToWriter, type WriterInit } from './writerProtocol'

const init = workerData as WriterInit & { readonly reply: MessagePort }
const ctrl = new Int32Array(init.ctrl)
const reply = (m: FromWriter, transfer: ArrayBuffer[] = []) => init.reply.postMessage(m, transfer)

const fail = (err: unknown) => {
  const e = err as Error & { code?: unknown }
  reply({ kind: 'failed', message: e instanceof Error ? e.message : String(err), code: typeof e.code === 'string' ? e.code : null })
  Atomics.store(ctrl, CTRL_FAILED, 1)
}

let db: Db | null = null
let writer: BatchWriter | null = null
let snapshots: SnapshotFolder | null = null
try {
  db = openWriterConnection(init.file)
  writer = new BatchWriter(db, init.runId)
  snapshots = init.snapshotEvery > 0 ? new SnapshotFolder(db, init.runId, init.snapshotEvery) : null
  // The empty run's head, so that a run stopped before its first commit reports the head its row holds.
  reply({ kind: 'committed', headSeq: 0, headHash: writer.headHash, decisions: 0, snapshots: 0, columns: [], text: new ArrayBuffer(0) })
} catch (err) {
  fail(err)
}

const close = () => {
  try {
    db?.close()
  } finally {
    Atomics.store(ctrl, CTRL_CLOSED, 1)
    Atomics.notify(ctrl, CTRL_DONE)
    parentPort!.close()
  }
}

parentPort!.on('message', (m: ToWriter) => {
  if (m.kind === 'close') return close()
  // After a failure or an interrupt nothing more is written: the stored run ends at the last
  // committed batch.
  if (writer !== null && Atomics.load(ctrl, CTRL_FAILED) === 0 && Atomics.load(ctrl, CTRL_ABANDON) === 0) {
    try {
      writer.writeBatch(m)
      // The snapshots of the batch, once it is committed (a snapshot's head is a committed block's hash).
      if (snapshots !== null && m.n > 0) snapshots.committed(writer.lastBody, m.firstSeq, m.n)
      const columns = [m.t.buffer, m.cpu.buffer, m.type.buffer, m.pfn.buffer, m.npages.buffer, m.cause.buffer, m.dataLength.buffer] as ArrayBuffer[]
      const text = m.text.buffer as ArrayBuffer
      const taken = snapshots?.taken ?? 0
      reply({ kind: 'committed', headSeq: writer.headSeq, headHash: writer.headHash, decisions: writer.decisions, snapshots: taken, columns, text }, [...columns, text])
    } catch (err) {
      fail(err)
    }
  }
  Atomics.add(ctrl, CTRL_DONE, 1)
  Atomics.notify(ctrl, CTRL_DONE)
})
