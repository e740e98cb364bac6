// The whole projected state of a run: every projection, folded from the same events. The
// engine's live state is this object (DESIGN.md), so a rebuild from the store must equal it.
import type { MachineBooted, MmEvent } from '../events'
import { assert } from '../lib'
import { createStats, evolveStats, type StatsState } from './stats'
import { createZoneState, type ZoneState } from './zone/state'
import { evolveZone } from './zone/evolve'
import type { StateInvariant } from './invariants'
import { zoneInvariants } from './zone/invariants'

export interface MmState {
  readonly machine: MachineBooted['data']
  readonly zone: ZoneState
  readonly stats: StatsState
}

export const createState = (boot: MachineBooted['data']): MmState => ({
  machine: boot,
  zone: createZoneState(boot),
  stats: createStats(),
})

export const evolve = (s: MmState, e: MmEvent): void => {
  evolveZone(s.zone, e)
  evolveStats(s.stats, e)
}

/**
 * Folds events from the first (MachineBooted) onward. `upTo` stops after that seq, which is how
 * any past point of a run is reached.
 */
export class Folder {
  private state: MmState | null = null

  get current(): MmState | null {
    return this.state
  }

  apply(e: MmEvent): void {
    if (this.state === null) {
      assert(e.type === 'MachineBooted', `a run starts with MachineBooted, seq ${e.seq} is ${e.type}`)
      this.state = createState(e.data)
    }
    evolve(this.state, e)
  }
}


const onZone = (inv: StateInvariant<ZoneState>): StateInvariant<MmState> => ({
  name: inv.name,
  description: inv.description,
  check: (s) => inv.check(s.zone),
})

/** Every state invariant, over the whole projected state; checkable at any seq. */
export const stateInvariants: readonly StateInvariant<MmState>[] = [...zoneInvariants.map(onZone)]
