// `npm run mutate`: mutation testing, opt-in (it takes long). First the targeted removals of the
// protections guest page hinting carries (mutate/protections.ts) against the full race sweeps,
// then StrykerJS over engine/mm/hinting and engine/sim/sync.ts against the fast tests.
//
//   npm run mutate                                   both halves, race sweeps over seeds 1..200
//   npm run mutate -- --only removals --seeds 1-100  the removals alone, over other seeds
//   npm run mutate -- --only removals --id vma-adjust-locks-rmap,walk-rechecks-page-mapped
//   npm run mutate -- --only stryker --mutate engine/sim/sync.ts
import { parseArgs } from 'node:util'
import { PROTECTIONS } from './protections'
import { runRemovals } from './removals'
import { runStryker, summarise } from './stryker'

const log = (s: string): void => void process.stdout.write(`${s}\n`)

const main = (): number => {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, seeds: { type: 'string', default: '1-200' }, mutate: { type: 'string' }, id: { type: 'string' } },
  })
  const only = values.only
  if (only !== undefined && only !== 'removals' && only !== 'stryker') {
    process.stderr.write(`mutate: --only is removals or stryker, got ${JSON.stringify(only).slice(0, 40)}\n`)
    return 2
  }
  if (!/^\d+-\d+$/.test(values.seeds)) {
    process.stderr.write('mutate: --seeds is a range FROM-TO, e.g. 1-200\n')
    return 2
  }
  const ids = values.id === undefined ? null : values.id.split(',')
  const unknown = ids?.filter((id) => !PROTECTIONS.some((p) => p.id === id)) ?? []
  if (unknown.length > 0) {
    process.stderr.write(`mutate: --id names no protection: ${unknown.join(', ').slice(0, 200)} (known: ${PROTECTIONS.map((p) => p.id).join(', ')})\n`)
    return 2
  }
  let ok = true
  if (only !== 'stryker') {
    log(`== protections removed one at a time, race sweeps over seeds ${values.seeds}`)
    const rs = runRemovals(values.seeds, log, ids)
    const killed = rs.filter((r) => r.error === null && r.killedBy.length > 0).length
    log(`== removals: ${killed} of ${rs.length} killed`)
    ok &&= rs.every((r) => r.error === null)
  }
  if (only !== 'removals') {
    log('== StrykerJS')
    if (!runStryker(values.mutate ?? null)) {
      process.stderr.write('mutate: Stryker failed (its output is above)\n')
      return 2
    }
    const s = summarise(log)
    log(`== Stryker: ${s.killed} killed, ${s.timedOut} timed out, ${s.survived} survived, ${s.noCoverage} without a test, ${s.errors} errors`)
    log(`mutation score: ${(100 * s.score).toFixed(1)}%`)
  }
  return ok ? 0 : 2
}

process.exitCode = main()
