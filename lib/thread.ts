// Starting a worker thread on one of mmsim's own modules. The built package runs the module's
// .js beside this file's; run from the TypeScript sources (the test runner), the module is
// bundled on the fly with esbuild (a development dependency, through vite), so that tests
// exercise the same code as the build.
import * as path from 'node:path'
import { Worker, type WorkerOptions } from 'node:worker_threads'

const bundles = new Map<string, string>()

/** The module at `file` (a .ts path) and everything it imports, as one script; native addons stay outside. */
const bundle = (file: string): string => {
  let text = bundles.get(file)
  if (text === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild')
    const out = esbuild.buildSync({ entryPoints: [file], bundle: true, platform: 'node', format: 'cjs', write: false, external: ['better-sqlite3'], logLevel: 'silent' })
    // Eval'd code resolves modules from the working directory: name the addon's own path.
    text = out.outputFiles[0]!.text.replace(/require\("better-sqlite3"\)/g, `require(${JSON.stringify(require.resolve('better-sqlite3'))})`)
    bundles.set(file, text)
  }
  return text
}

/**
 * A worker running `module` (a path without extension, relative to the mmsim root: e.g.
 * 'storage/writerWorker'), from the build or, under the test runner, from the sources.
 */
export const startThread = (module: string, options: WorkerOptions): Worker => {
  const root = path.join(__dirname, '..')
  return __filename.endsWith('.ts') ? new Worker(bundle(path.join(root, `${module}.ts`)), { ...options, eval: true }) : new Worker(path.join(root, `${module}.js`), options)
}
