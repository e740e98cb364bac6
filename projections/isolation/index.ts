// Page isolation: ranges (both designs), their invariants and monitors, snapshot, renderers, and
// the predicate other free-list walkers ask (hooks.ts).
export * from './state'
export * from './evolve'
export * from './invariants'
export * from './monitors'
export * from './render'
export * from './hooks'
