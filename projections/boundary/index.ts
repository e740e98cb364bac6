// The boundary projection: free page reporting's state (aeration or page reporting), its evolve,
// free-list hooks, invariants, snapshot part and views.
export * from './state'
export * from './hooks'
export * from './evolve'
export * from './invariants'
export * from './snapshot'
export * from './view'
