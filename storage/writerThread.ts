// Starting the writer thread. The built package runs dist/storage/writerWorker.js; run from the
// TypeScript sources (the test runner), the worker is bundled on the fly with esbuild (a
// development dependency, through vite), so tests exercise the same code as the build.
import * as path from 'node:path'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import type { WriterInit } from './writerProtocol'

let bundled: string | null = null

const fromSources = (): string => {
  if (bundled === null) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild')
    const out = esbuild.buildSync({
      entryPoints: [path.join(__dirname, 'writerWorker.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      write: false,
      external: ['better-sqlite3'],
      logLevel: 'silent',
    })
    // Eval'd code resolves modules from the working directory: name the addon's own path.
    bundled = out.outputFiles[0]!.text.replace(/require\("better-sqlite3"\)/g, `require(${JSON.stringify(require.resolve('better-sqlite3'))})`)
  }
  return bundled
}

export const startWriterThread = (init: WriterInit): { worker: Worker; reply: MessagePort } => {
  const { port1, port2 } = new MessageChannel()
  const workerData = { ...init, reply: port2 }
  const options = { workerData, transferList: [port2] }
  const worker = __filename.endsWith('.ts') ? new Worker(fromSources(), { ...options, eval: true }) : new Worker(path.join(__dirname, 'writerWorker.js'), options)
  return { worker, reply: port1 }
}
