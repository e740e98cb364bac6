// The report's JSON shape, versioned: `format` and `version` say what a program reads, the codec
// below is its definition (REPORT.md-style documentation lives in the README's "Reports"). A
// change that removes or renames a field bumps REPORT_VERSION; added fields and sections do not.
import * as t from 'io-ts'
import { NonNegInt } from '../events/codecs'
import { SECTIONS } from './sections'

export const REPORT_FORMAT = 'mmsim-report'
export const REPORT_VERSION = 1

const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null])

export const Integrity = t.union([
  t.type({ ok: t.literal(true), events: NonNegInt, blocks: NonNegInt, headHash: t.string, hashVersion: NonNegInt }),
  t.type({ ok: t.literal(false), seq: NonNegInt, problem: t.string }),
])

export const Provenance = t.type({
  run: NonNegInt,
  uuid: Nullable(t.string),
  /** The run's identity hash: equal for runs that must make the same events. */
  digest: Nullable(t.string),
  db: t.string,
  createdAt: t.string,
  finishedAt: Nullable(t.string),
  status: t.string,
  outcome: Nullable(t.string),
  /** The engine that stored the run, and the one that wrote the report. */
  engineVersion: t.string,
  reportEngineVersion: t.string,
  seed: t.number,
  /** The run's resolved engine configuration as stored (JSON). */
  config: t.unknown,
  strategy: t.string,
  variants: t.record(t.string, t.string),
  workload: t.type({ name: t.string, source: t.string, sha256: t.string }),
  lineage: Nullable(t.type({ parentRun: NonNegInt, derivation: t.string, forkSeq: Nullable(NonNegInt) })),
  events: NonNegInt,
  decisions: NonNegInt,
  simulatedNs: NonNegInt,
  headHash: t.string,
  /** Both hash chains verified end to end (mmsim check), and the stored snapshots against the fold. */
  integrity: Integrity,
  snapshots: t.type({ checked: NonNegInt, failures: t.array(t.type({ seq: NonNegInt, problem: t.string })) }),
})
export type Provenance = t.TypeOf<typeof Provenance>

export const InvariantResult = t.type({
  name: t.string,
  /** `state`: checked on the state (at the report's seq, first failure located); `event`: a monitor re-run on every event. */
  kind: t.keyof({ state: null, event: null }),
  passed: t.boolean,
  firstSeq: Nullable(NonNegInt),
  /** Events it fails on (event monitors); 1 for a failing state invariant. */
  failures: NonNegInt,
  message: Nullable(t.string),
  /** Commands that show the failure (empty when it passed). */
  commands: t.array(t.string),
})
export type InvariantResult = t.TypeOf<typeof InvariantResult>

const sectionCodec = (): t.Mixed => {
  const members = SECTIONS.map((s) => t.type({ id: t.literal(s.id), title: t.string, data: s.codec }))
  return members.length === 1 ? members[0]! : t.union(members as unknown as [t.Mixed, t.Mixed, ...t.Mixed[]])
}

export const Report = t.type({
  format: t.literal(REPORT_FORMAT),
  version: t.literal(REPORT_VERSION),
  provenance: Provenance,
  sections: t.array(sectionCodec()),
  invariants: t.type({
    atSeq: NonNegInt,
    results: t.array(InvariantResult),
    recorded: t.array(t.type({ seq: NonNegInt, name: t.string, message: t.string })),
    recordedTotal: NonNegInt,
  }),
})
export interface Report extends Omit<t.TypeOf<typeof Report>, 'sections'> {
  readonly sections: readonly { readonly id: string; readonly title: string; readonly data: unknown }[]
}
