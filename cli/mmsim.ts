#!/usr/bin/env node
// Entry point of the `mmsim` binary.
import { main } from './main'
import { processIo } from './io'

main(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`mmsim: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exitCode = 3
  },
)
