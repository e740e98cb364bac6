// The schedule a run records beside its events, as both the engine (which makes the decisions)
// and the store (which keeps and hashes them) read it. A decision record is DECISION_WORDS 32-bit
// words: the delay, where it was made, and the object touched (engine/sim/decisions.ts packs and
// names them; storage/HASHES.md specifies the bytes). Runs stored before records (hash version 2
// and older) have one word per decision: the delay of a CPU's step.

/** Words per recorded decision: delay, where, object. */
export const DECISION_WORDS = 3

/** A recorded schedule: decision records, or a schedule stored before them (delays of CPU steps only). */
export interface RecordedSchedule {
  readonly layout: 'records' | 'delays'
  readonly words: Uint32Array
}

export const decisionCount = (s: RecordedSchedule): number => (s.layout === 'records' ? s.words.length / DECISION_WORDS : s.words.length)
