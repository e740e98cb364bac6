// The envelope every stored event carries (DESIGN.md, "Events").
import * as t from 'io-ts'
import { CpuId, NonNegInt, PosInt } from './codecs'

export const Envelope = t.intersection([
  t.type({
    /** Dense, from 1 within a run. */
    seq: PosInt,
    /** Simulated time in integer nanoseconds. */
    t: NonNegInt,
    /** The CPU the event happened on, or null for the host and other global actors. */
    cpu: t.union([CpuId, t.null]),
  }),
  t.partial({
    /** The seq of the event that led to this one. */
    cause: PosInt,
  }),
])
export type Envelope = t.TypeOf<typeof Envelope>
