// Reading a workload: a file (or the embedded default) through the codec, then the semantic
// checks. Every error names the file and the JSON path; none echoes the file's raw bytes, and no
// input, however malformed or deeply nested, gets anything but a message (never a stack overflow).
import * as fs from 'node:fs'
import * as E from 'fp-ts/Either'
import { formatErrors } from '../events'
import { Workload } from './codec'
import { WORKLOAD_DEPTH_MAX, tooDeep } from './depth'
import defaultWorkload from '../workloads/default.json'

export class WorkloadError extends Error {
  override readonly name = 'WorkloadError'
}

export const decodeWorkload = (u: unknown, source: string): Workload => {
  const deep = tooDeep(u)
  if (deep !== null) throw new WorkloadError(`${source}: ${deep}: nested more than ${WORKLOAD_DEPTH_MAX} levels deep (a workload is at most ${WORKLOAD_DEPTH_MAX})`)
  const r = Workload.decode(u)
  if (E.isLeft(r)) throw new WorkloadError(`${source}: ${formatErrors(r.left, 5).split('; ').join(`\n${source}: `)}`)
  return r.right
}

/** Line and column (from 1) of a character offset, as editors show them. */
const lineColumn = (text: string, pos: number): string => {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < pos && i < text.length; i++)
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  return `line ${line} column ${pos - lineStart + 1}`
}

/**
 * V8's JSON.parse message without the excerpt of the input it quotes (`Unexpected token 'a',
 * "ab<NUL>..." is not valid JSON`), with the position as line and column.
 */
export const jsonErrorMessage = (err: unknown, text: string): string => {
  if (err instanceof RangeError) return 'nested too deep to parse'
  const m = (err as Error).message.replace(/, ".*" is not valid JSON$/s, '').replace(/ \(line \d+ column \d+\)$/, '')
  const at = /^(.*) at position (\d+)$/s.exec(m)
  return at !== null ? `${at[1]} at ${lineColumn(text, Number(at[2]))}` : m
}

/** The text of a file, parsed as JSON; a file that cannot be read or parsed is `fail`'s error, naming the file. */
export const readJsonFile = (file: string, fail: (message: string) => Error): unknown => {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw fail(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  return parseJson(text, file, fail)
}

const parseJson = (text: string, source: string, fail: (message: string) => Error): unknown => {
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw fail(`${source}: not JSON: ${jsonErrorMessage(err, text)}`)
  }
}

const workloadError = (m: string): Error => new WorkloadError(m)

export const parseWorkload = (text: string, source: string): Workload => decodeWorkload(parseJson(text, source, workloadError), source)

export const loadWorkload = (file: string): Workload => decodeWorkload(readJsonFile(file, workloadError), file)

/** The embedded default workload (workloads/default.json): `mmsim run` with no --workload. */
export const loadDefaultWorkload = (): Workload => decodeWorkload(defaultWorkload, 'workloads/default.json (embedded)')
