// Events about the run rather than about memory: findings and what the workload could not do.
// None of them changes memory state; they are in the log so reports and bisect can find them.
import * as t from 'io-ts'
import { CpuId, Pfn } from './codecs'

/** A named invariant of the simulated kernel failed (a finding, not a simulator bug). */
export const InvariantViolated = t.type({
  type: t.literal('InvariantViolated'),
  data: t.intersection([t.type({ name: t.string, message: t.string }), t.partial({ pfn: Pfn })]),
})
export type InvariantViolated = t.TypeOf<typeof InvariantViolated>

/** Every CPU in `cpus` waits, directly or not, for another in the list: the run cannot go on. */
export const DeadlockDetected = t.type({
  type: t.literal('DeadlockDetected'),
  data: t.type({ cpus: t.array(CpuId), waits: t.array(t.string) }),
})
export type DeadlockDetected = t.TypeOf<typeof DeadlockDetected>

/** A workload operation could not run (its allocation failed earlier); `op` is its JSON path. */
export const OpSkipped = t.type({
  type: t.literal('OpSkipped'),
  data: t.type({ op: t.string, reason: t.string }),
})
export type OpSkipped = t.TypeOf<typeof OpSkipped>
