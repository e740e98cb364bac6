// The SQLite event store: one file, many runs, append-only events with hash chains.
export * from './errors'
export * from './schema'
export * from './open'
export * from './runs'
export * from './appendEvents'
export * from './readEvents'
export * from './verify'
export * from './hashChain'
