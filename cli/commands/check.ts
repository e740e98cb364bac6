// `mmsim check`: is a stored run intact, and do the invariants hold at a given seq?
import * as t from 'io-ts'
import { checkRun, type CheckReport } from '../../analysis/check'
import { latestRunId, openForRead } from '../../storage'
import { IntArg, StringArg, parseCommand } from '../args'
import { EXIT_FINDING, EXIT_OK, type Io } from '../io'

export const renderCheck = (r: CheckReport): string => {
  let out = `run ${r.run}, checked at seq ${r.atSeq}\n`
  out += r.integrity.ok
    ? `integrity: ok (${r.integrity.events} events in ${r.integrity.blocks} hash blocks, head ${r.integrity.headHash}${r.integrity.hashVersion === 1 ? '; hash v1: written by schema 1, frames, schedule and the run row not covered' : ''})\n`
    : `integrity: FAILED at seq ${r.integrity.seq}: ${r.integrity.problem}\n`
  out += `invariants checked: ${r.checked.join(', ')}\n`
  if (r.state.length === 0) out += `state at seq ${r.atSeq}: all invariants hold\n`
  for (const f of r.state) out += `state: ${f.name} fails from seq ${f.firstSeq}: ${f.message}\n`
  if (r.recorded.length === 0) out += 'recorded findings: none\n'
  else {
    out += `recorded findings: ${r.recorded.length}\n`
    for (const v of r.recorded.slice(0, 50)) out += `  seq ${v.seq}: ${v.name}: ${v.message}\n`
    if (r.recorded.length > 50) out += `  ... and ${r.recorded.length - 50} more (mmsim events --type InvariantViolated)\n`
  }
  return out
}

export const checkCommand = async (argv: readonly string[], io: Io): Promise<number> => {
  const { opts } = parseCommand(
    'check',
    argv,
    { db: { type: 'string' }, run: { type: 'string' }, at: { type: 'string' }, json: { type: 'boolean' } },
    { db: StringArg, run: IntArg(1), at: IntArg(1), json: t.boolean },
  )
  const file = (opts.db as string | undefined) ?? 'mmsim.db'
  const db = openForRead(file)
  try {
    const runId = (opts.run as number | undefined) ?? latestRunId(db, file)
    const report = checkRun(db, file, runId, opts.at as number | undefined)
    io.out(opts.json ? `${JSON.stringify(report)}\n` : renderCheck(report))
    return report.integrity.ok && report.state.length === 0 && report.recorded.length === 0 ? EXIT_OK : EXIT_FINDING
  } finally {
    db.close()
  }
}
