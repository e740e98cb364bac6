// Starting the writer thread (lib/thread.ts finds its module, built or from the sources).
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads'
import { startThread } from '../lib/thread'
import type { WriterInit } from './writerProtocol'

export const startWriterThread = (init: WriterInit): { worker: Worker; reply: MessagePort } => {
  const { port1, port2 } = new MessageChannel()
  const worker = startThread('storage/writerWorker', { workerData: { ...init, reply: port2 }, transferList: [port2] })
  return { worker, reply: port1 }
}
