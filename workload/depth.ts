// How deep a workload document may nest. The codecs, the error renderer and the compiler recurse
// over the document; a bound checked first, without recursion, keeps any input, however deep,
// from overflowing the stack: it gets a message instead.
import * as t from 'io-ts'

/**
 * Deepest nesting of arrays and objects a workload may have. The codecs, the error renderer and
 * the compiler recurse over the document; this keeps them far from the stack's limit. A workload
 * nests two levels per `repeat`, so about 30 repeats deep.
 */
export const WORKLOAD_DEPTH_MAX = 64

/** Path segments shown when naming a place deep in a document. */
const PATH_SEGMENTS_SHOWN = 8

/** The path to the first value nested deeper than WORKLOAD_DEPTH_MAX, or null; iterative. */
export const tooDeep = (u: unknown): string | null => {
  interface Frame {
    readonly v: unknown
    readonly depth: number
    readonly parent: Frame | null
    readonly key: string
  }
  const stack: Frame[] = [{ v: u, depth: 0, parent: null, key: '$' }]
  while (stack.length > 0) {
    const f = stack.pop()!
    if (typeof f.v !== 'object' || f.v === null) continue
    if (f.depth >= WORKLOAD_DEPTH_MAX) {
      const keys: string[] = []
      for (let p: Frame | null = f; p !== null; p = p.parent) keys.push(p.key)
      keys.reverse()
      const shown = keys.length > PATH_SEGMENTS_SHOWN ? [...keys.slice(0, PATH_SEGMENTS_SHOWN), '...'] : keys
      return shown.join('')
    }
    const entries = Array.isArray(f.v) ? f.v.map((x, i) => [`[${i}]`, x] as const) : Object.keys(f.v).map((k) => [`.${k}`, (f.v as Record<string, unknown>)[k]] as const)
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ v: entries[i]![1], depth: f.depth + 1, parent: f, key: entries[i]![0] })
  }
  return null
}

/** A codec that refuses, before `inner` recurses into it, a document nested deeper than WORKLOAD_DEPTH_MAX. */
export const withDepthBound = <A>(inner: t.Type<A, unknown, unknown>): t.Type<A, unknown, unknown> =>
  new t.Type<A, unknown, unknown>(
    inner.name,
    (u): u is A => tooDeep(u) === null && inner.is(u),
    (u, c) => {
      const deep = tooDeep(u)
      return deep === null ? inner.validate(u, c) : t.failure(u, c, `nested more than ${WORKLOAD_DEPTH_MAX} levels deep at ${deep}`)
    },
    (a) => inner.encode(a),
  )
