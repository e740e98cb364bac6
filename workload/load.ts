// Reading a workload: a file (or the embedded default) through the codec, then the semantic
// checks. Every error names the file and the JSON path.
import * as fs from 'node:fs'
import * as E from 'fp-ts/Either'
import { formatErrors } from '../events'
import { Workload } from './codec'
import defaultWorkload from '../workloads/default.json'

export class WorkloadError extends Error {
  override readonly name = 'WorkloadError'
}

export const decodeWorkload = (u: unknown, source: string): Workload => {
  const r = Workload.decode(u)
  if (E.isLeft(r)) throw new WorkloadError(`${source}: ${formatErrors(r.left, 5).split('; ').join(`\n${source}: `)}`)
  return r.right
}

export const parseWorkload = (text: string, source: string): Workload => {
  let u: unknown
  try {
    u = JSON.parse(text)
  } catch (err) {
    throw new WorkloadError(`${source}: not JSON: ${(err as Error).message}`)
  }
  return decodeWorkload(u, source)
}

export const loadWorkload = (file: string): Workload => {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new WorkloadError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  return parseWorkload(text, file)
}

/** The embedded default workload (workloads/default.json): `mmsim run` with no --workload. */
export const loadDefaultWorkload = (): Workload => decodeWorkload(defaultWorkload, 'workloads/default.json (embedded)')
