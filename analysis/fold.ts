// Folding a stored run back into state: the store's events through the projections, up to any
// seq. This is time travel's base; nothing here needs the simulator.
import type { MmEvent } from '../events'
import { Folder, type MmState } from '../projections'
import { readEventsForFold, type Db } from '../storage'
import { StoreError } from '../storage/errors'
import { AssertionFailed } from '../lib'

export interface Folded {
  readonly state: MmState
  readonly lastSeq: number
}

/** Where a fold starts other than seq 1: a state (restored from a snapshot) and the seq it is the state after. */
export interface FoldStart {
  readonly state: MmState
  readonly seq: number
}

/**
 * Folds run `runId` from seq 1 to `upTo` (the head when absent). An event that does not apply to
 * the state it meets (a store edited by hand, a bug) is an error naming the run and seq.
 * `onEvent` sees the state after each event; `beforeEvent` sees each event with the state it is
 * about to change (null before MachineBooted), which is where the event monitors look.
 */
export const foldRun = (
  db: Db,
  file: string,
  runId: number,
  upTo?: number,
  onEvent?: (s: MmState, e: MmEvent) => void,
  beforeEvent?: (s: MmState | null, e: MmEvent) => void,
): Folded => foldFrom(db, file, runId, null, upTo, onEvent, beforeEvent)

/** foldRun from `start` (null: seq 1): the events after its seq, up to `upTo`. */
export const foldFrom = (
  db: Db,
  file: string,
  runId: number,
  start: FoldStart | null,
  upTo?: number,
  onEvent?: (s: MmState, e: MmEvent) => void,
  beforeEvent?: (s: MmState | null, e: MmEvent) => void,
): Folded => {
  const folder = new Folder(start?.state ?? null)
  let lastSeq = start?.seq ?? 0
  for (const events of readEventsForFold(db, file, runId, { fromSeq: lastSeq + 1, ...(upTo === undefined ? {} : { toSeq: upTo }) }))
    for (let i = 0; i < events.count; i++) {
      const e = events.next()
      beforeEvent?.(folder.current, e)
      try {
        folder.apply(e)
      } catch (err) {
        if (err instanceof AssertionFailed) throw new StoreError(`${file}: run ${runId} seq ${e.seq} (${e.type}) does not apply: ${err.message}`)
        throw err
      }
      lastSeq = e.seq
      onEvent?.(folder.current!, e)
    }
  if (folder.current === null) throw new StoreError(`${file}: run ${runId} has no events${upTo !== undefined ? ` up to seq ${upTo}` : ''}`)
  return { state: folder.current, lastSeq }
}
