// Assertions guard the simulator's own correctness (STYLE.md §4): a failure is a bug in mmsim,
// never a finding about the simulated kernel, and nothing inside the engine catches it.

export class AssertionFailed extends Error {
  override readonly name = 'AssertionFailed'
}

export function assert(cond: unknown, why: string): asserts cond {
  if (!cond) throw new AssertionFailed(why)
}

export const absurd = (x: never): never => {
  throw new AssertionFailed(`unhandled case ${JSON.stringify(x)}`)
}

/**
 * Throws AssertionFailed: for hot paths, as `if (!cond) fail(\`...\`)`, where assert's message,
 * a template, would be built on every call whether or not the check fails.
 */
export function fail(why: string): never {
  throw new AssertionFailed(why)
}
