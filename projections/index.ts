// Projections: state folded from events, its renderers and its invariants. Never imports the
// engine or the store: a replay must not need a simulator.
export * from './state'
export * from './stats'
export * from './invariants'
export * from './zone/state'
export * from './zone/lists'
export * from './zone/evolve'
export * from './zone/render'
export * from './zone/invariants'
export * from './compare'
