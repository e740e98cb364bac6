#!/usr/bin/env node
// Entry point of the `mmsim` binary.
import { main } from './main'
import { processIo } from './io'
import { capMessage } from './text'

main(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`mmsim: internal error: ${capMessage(err instanceof Error ? (err.stack ?? err.message) : String(err))}`)
    process.exitCode = 3
  },
)
