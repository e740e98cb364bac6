// A schedule that trips an assertion of mmsim's own is a bug in mmsim, not a finding: explore
// stops and says so with the seed and the command that reproduces it (exit 3). The engine has no
// such schedule to offer, so one is made here: seed 3's simulation throws as an assertion would.
import * as path from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { AssertionFailed } from '../lib'
import { cli, tmpDir } from './helpers'

vi.mock('../hunt/schedule', async (importOriginal) => {
  const real = await importOriginal<typeof import('../hunt/schedule')>()
  return {
    ...real,
    simulateSchedule: (...args: Parameters<typeof real.simulateSchedule>) => {
      if (args[1] === 3) throw new AssertionFailed('a test made seed 3 fail')
      return real.simulateSchedule(...args)
    },
  }
})

describe('an internal error while exploring', () => {
  it('seed 3 of 1..5 crashes the simulator: exit 3, naming the seed and how to reproduce it', async () => {
    const r = await cli('explore', '--db', path.join(tmpDir(), 'crash.db'), '--workload', 'workloads/gph-discard-list.json', '--seeds', '5')
    expect(r.code).toBe(3)
    expect(r.err).toContain('internal error: an assertion of mmsim failed while simulating seed 3: a test made seed 3 fail')
    expect(r.err).toContain('`mmsim run --workload workloads/gph-discard-list.json --seed 3 --stop-on-violation` reproduces it')
    expect(r.out).toBe('')
  })
})
