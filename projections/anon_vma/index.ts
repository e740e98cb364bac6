// The anon_vma projection: anonymous VMAs, anon_vmas and their chains, each anonymous page's
// rmap; its evolve, invariants and monitors, renderers, the cost of walking it, snapshots.
export * from './state'
export * from './evolve'
export * from './invariants'
export * from './monitors'
export * from './render'
export * from './cost'
export * from './snapshot'
