// The whole projected state of a run: every projection, folded from the same events. The
// engine's live state is this object (DESIGN.md), so a rebuild from the store must equal it.
import type { MmEvent } from '../events'
import type { MachineBooted } from '../events/machine'
import { assert } from '../lib'
import { createStats, evolveStats, type StatsState } from './stats'
import { createZoneState, type ZoneState } from './zone/state'
import { evolveZone } from './zone/evolve'
import { createPagesState, type PagesState } from './pages/state'
import { evolvePages } from './pages/evolve'
import { createCpusState, type CpusState } from './cpus/state'
import { evolveCpus } from './cpus/evolve'
import { createMmsState, type MmsState } from './mm/state'
import { evolveMms } from './mm/evolve'
import { createAnonVmaState, rmapConfigOf, type AnonVmaState } from './anon_vma/state'
import { evolveAnonVma } from './anon_vma/evolve'
import { anonVmaInvariants } from './anon_vma/invariants'
import { anonVmaMonitors } from './anon_vma/monitors'
import type { EventMonitor, StateInvariant } from './invariants'
import { hintingInvariants } from './hinting/invariants'
import { hintingMonitors } from './hinting/monitors'
import { zoneInvariants } from './zone/invariants'
import { createIsolationState, type IsolationState } from './isolation/state'
import { evolveIsolation } from './isolation/evolve'
import { isolationInvariants } from './isolation/invariants'
import { isolationMonitors } from './isolation/monitors'
import { createBoundaryState, reportingConfigOf, type BoundaryState } from './boundary/state'
import { boundaryHooks } from './boundary/hooks'
import { evolveBoundary } from './boundary/evolve'
import { boundaryInvariants, boundaryMonitors } from './boundary/invariants'

export interface MmState {
  readonly machine: MachineBooted['data']
  readonly zone: ZoneState
  /** Guest page hinting state; null when the guest does not hint. */
  readonly pages: PagesState | null
  readonly cpus: CpusState
  readonly mms: MmsState
  /** Anonymous memory's reverse mapping: VMAs, anon_vmas and their chains, each anonymous page's rmap. */
  readonly anonVma: AnonVmaState
  /** Page isolation ranges (hot-remove, alloc_contig_range), both designs, and the work they do. */
  readonly isolation: IsolationState
  readonly stats: StatsState
  /** Free page reporting (aeration or page reporting): the boundaries, flags, batch and host counts; null when off. */
  readonly boundary: BoundaryState | null
}

export const createState = (boot: MachineBooted['data']): MmState => {
  const zone = createZoneState(boot)
  const reporting = reportingConfigOf(boot)
  const boundary = reporting === null ? null : createBoundaryState(reporting, boot)
  if (boundary !== null) zone.reporting = boundaryHooks(boundary, zone)
  return {
    machine: boot,
    zone,
    pages: boot.hinting === null ? null : createPagesState(boot.hinting, boot.pfnEnd),
    cpus: createCpusState(boot.cpus),
    mms: createMmsState(),
    anonVma: createAnonVmaState(rmapConfigOf(boot), boot.pfnEnd),
    isolation: createIsolationState(boot),
    stats: createStats(),
    boundary,
  }
}

/** Applies one event to every projection: the only way a run's state changes. */
export const evolve = (s: MmState, e: MmEvent): void => {
  evolveZone(s.zone, e)
  if (s.pages !== null) evolvePages(s.pages, s.zone, e)
  evolveCpus(s.cpus, s.zone, e)
  evolveMms(s.mms, s.zone, e)
  evolveAnonVma(s.anonVma, s.mms, e)
  evolveIsolation(s.isolation, s.zone, e)
  evolveStats(s.stats, e)
  if (s.boundary !== null) evolveBoundary(s.boundary, s.zone, e)
}

/**
 * Folds events from the first (MachineBooted) onward, or on from a state restored from a
 * snapshot (the events after its seq).
 */
export class Folder {
  constructor(private state: MmState | null = null) {}

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
export const stateInvariants: readonly StateInvariant<MmState>[] = [
  ...zoneInvariants.map(onZone),
  ...hintingInvariants,
  ...anonVmaInvariants,
  ...isolationInvariants,
  ...boundaryInvariants,
]

/** Every transition invariant, checked on each event before it applies. */
export const eventMonitors: readonly EventMonitor<MmState, MmEvent>[] = [...hintingMonitors, ...anonVmaMonitors, ...isolationMonitors, ...boundaryMonitors]
