// A report section is one mechanism's figures: a collector folded over the run's events once (the
// report streams them, so a run of any length costs one fold of bounded memory), the typed data it
// leaves, the codec that documents that data's JSON shape, and renderers for Markdown and HTML.
// A mechanism (page isolation, free page reporting, ...) is one file in sections/ and one line in
// sections/index.ts.
import type * as t from 'io-ts'
import type { MachineBooted, MmEvent } from '../events'
import type { MmState } from '../projections'

/** What a collector is told before the fold starts. */
export interface SectionContext {
  readonly machine: MachineBooted['data']
  /** The last seq the report covers. */
  readonly headSeq: number
  /** Take a time-series sample after every `sampleEvery` events (and after the last). */
  readonly sampleEvery: number
  /** The run's stored workload (JSON), for sections about what it asked for (a replayed recording). */
  readonly workload: unknown
}

export interface Collector<D> {
  /** Each event with the state it is about to change (null before MachineBooted). */
  readonly before?: (s: MmState | null, e: MmEvent) => void
  /** Each event with the state after it. */
  readonly after: (s: MmState, e: MmEvent) => void
  /** The section's data at the end, or null when the run has nothing of this mechanism. */
  readonly finish: (s: MmState) => D | null
}

export interface SectionDef<D> {
  /** Stable: the JSON's `id`, the HTML anchor. */
  readonly id: string
  readonly title: string
  /** The data's JSON shape, documented and checked (the report codec is built from these). */
  readonly codec: t.Type<D, unknown>
  readonly collect: (ctx: SectionContext) => Collector<D>
  readonly markdown: (d: D) => string
  readonly html: (d: D) => string
}

/** A section as the report holds it: the data with the definition that renders it. */
export interface SectionOut<D = unknown> {
  readonly id: string
  readonly title: string
  readonly data: D
}

/** A sample point is due after `seq`: every sampleEvery events, and the last. */
export const sampleDue = (ctx: SectionContext, seq: number): boolean => seq % ctx.sampleEvery === 0 || seq === ctx.headSeq

/** Definitions of different data types in one list (each renders only its own data). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySection = SectionDef<any>
