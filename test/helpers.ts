import * as fs from 'node:fs'
import { afterAll } from 'vitest'
import * as os from 'node:os'
import * as path from 'node:path'
import { resolveConfig, type EngineConfig } from '../engine/config'
import { simulate, type RunResult } from '../engine/run'
import type { MmEvent } from '../events'
import type { Op, Workload } from '../workload/codec'
import { main } from '../cli/main'
import type { Io } from '../cli/io'

const made: string[] = []
// Registered while the importing test file is collected: runs after that file's tests.
afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

/** A scratch directory, removed when the test process exits. */
export const tmpDir = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mmsim-test-'))
  made.push(d)
  return d
}

export const workload = (ops: Op[], machine: Partial<Workload['machine']> = {}, extra: Partial<Workload> = {}): Workload => ({
  version: 1,
  name: 'test',
  machine: { cpus: 2, zones: [{ name: 'Normal', pages: 4096 }], ...machine },
  ops,
  ...extra,
})

export const runInMemory = (w: Workload, seed = 1, config: EngineConfig = {}): { events: MmEvent[]; result: RunResult } => {
  const events: MmEvent[] = []
  const result = simulate({ workload: w, seed, config: resolveConfig(config), sink: { append: (e) => events.push(e) } })
  return { events, result }
}

export const eventsOfType = <T extends MmEvent['type']>(events: MmEvent[], type: T): Extract<MmEvent, { type: T }>[] =>
  events.filter((e): e is Extract<MmEvent, { type: T }> => e.type === type)

/** Runs the CLI in-process and captures what it prints. */
export const cli = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = ''
  let err = ''
  const io: Io = { out: (s) => void (out += s), err: (s) => void (err += s), errIsTTY: false }
  const code = await main(argv, io)
  return { code, out, err }
}

export const seeds = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)
