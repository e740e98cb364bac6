// What each projection provides for snapshots (projections/snapshot.ts lists them), and the small
// helpers their save and load share.
import type * as t from 'io-ts'
import type { MmState } from './state'

/** The typed arrays projections keep their state in. */
export type StateArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | Uint32Array

/** How one projection is saved and restored. */
export interface SnapshotPart<R> {
  /** Its typed arrays by name, in a fixed order (none when the projection is absent, as pages are for a guest that does not hint). */
  readonly arrays: (s: MmState) => readonly (readonly [string, StateArray])[]
  /** Everything else it holds, as JSON: numbers, strings, arrays; a Map as its entries in iteration order. */
  readonly save: (s: MmState) => R
  /** Decodes a saved value (read back from the store: a boundary like any other). */
  readonly codec: t.Decoder<unknown, R>
  /** Puts a saved value into a state createState made from the same machine; a value that does not fit it is the reason, else null. */
  readonly load: (s: MmState, r: R) => string | null
}

/** Maps as flat entry lists, in iteration order (which is state: the page cache is an LRU). */
export const mapEntries = <K, V>(m: ReadonlyMap<K, V>): [K, V][] => [...m.entries()]

export const refill = <K, V>(m: Map<K, V>, entries: readonly (readonly [K, V])[]): void => {
  m.clear()
  for (const [k, v] of entries) m.set(k, v)
}

/** A number[] replaced in place with `values` (its length must match). */
export const setNumbers = <A>(into: A[], values: readonly A[], what: string): string | null => {
  if (into.length !== values.length) return `${what} has ${values.length} entries, the machine ${into.length}`
  for (let i = 0; i < values.length; i++) into[i] = values[i]!
  return null
}
