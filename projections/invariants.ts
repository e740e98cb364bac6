// Named invariants over projection state, checkable at any seq: fold the events up to that seq,
// then run them. A violation is a finding about the simulated kernel (STYLE.md §4), reported
// with its name; the engine also emits it as an InvariantViolated event.

export interface Violation {
  readonly name: string
  readonly message: string
  readonly pfn?: number
}

export interface StateInvariant<S> {
  readonly name: string
  /** One sentence: what must hold, in the kernel's terms. */
  readonly description: string
  readonly check: (s: S) => Violation | null
}

/**
 * An invariant over transitions: checked against each event before it is applied, with the state
 * it is about to change. The engine runs them as it emits; `mmsim check` runs them as it folds.
 */
export interface EventMonitor<S, E> {
  readonly name: string
  readonly description: string
  /** A finding when `e` breaks the invariant, else null. */
  check(s: S, e: E): { message: string; pfn?: number } | null
}

export const violation = (name: string, message: string, pfn?: number): Violation => (pfn === undefined ? { name, message } : { name, message, pfn })

export const checkInvariants = <S>(invariants: readonly StateInvariant<S>[], s: S): Violation[] => {
  const out: Violation[] = []
  for (const inv of invariants) {
    const v = inv.check(s)
    if (v !== null) out.push(v)
  }
  return out
}
