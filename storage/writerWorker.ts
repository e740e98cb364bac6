// The writer thread: one connection of its own, one BatchWriter, batches in the order they were
// sent. It reports each commit on the reply port and in the shared control words, so that the
// simulation thread can wait for it synchronously (Atomics.wait) without an event loop turn.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { BatchWriter } from './batchWriter'
import { openWriterConnection } from './open'
import { CTRL_CLOSED, CTRL_DONE, CTRL_FAILED, type FromWriter, type ToWriter, type WriterInit } from './writerProtocol'

const init = workerData as WriterInit & { readonly reply: MessagePort }
const ctrl = new Int32Array(init.ctrl)
const db = openWriterConnection(init.file)
const writer = new BatchWriter(db, init.runId)
const reply = (m: FromWriter) => init.reply.postMessage(m)

const close = () => {
  db.close()
  Atomics.store(ctrl, CTRL_CLOSED, 1)
  Atomics.notify(ctrl, CTRL_DONE)
  parentPort!.close()
}

parentPort!.on('message', (m: ToWriter) => {
  if (m.kind === 'close') return close()
  // After a failure nothing more is written: the stored run ends at the last committed batch.
  if (Atomics.load(ctrl, CTRL_FAILED) === 0) {
    try {
      writer.writeBatch(m)
      reply({ kind: 'committed', headSeq: writer.headSeq, headHash: writer.headHash, decisions: writer.decisions })
    } catch (err) {
      const e = err as Error & { code?: unknown }
      reply({ kind: 'failed', message: e.message, code: typeof e.code === 'string' ? e.code : null })
      Atomics.store(ctrl, CTRL_FAILED, 1)
    }
  }
  Atomics.add(ctrl, CTRL_DONE, 1)
  Atomics.notify(ctrl, CTRL_DONE)
})
