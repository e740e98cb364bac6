// The discrete-event kernel: one total order, FIFO spinlocks, interrupts that wait for
// interrupt-disabled sections, deadlocks reported instead of hung on, replayable schedules.
import { describe, expect, it } from 'vitest'
import { EventQueue } from '../engine/sim/queue'
import { Cpu, STEP_POINT, type Path } from '../engine/sim/cpu'
import { Simulator } from '../engine/sim/simulator'
import { SpinLock, local_irq_disable, local_irq_enable, smp_call_function, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore } from '../engine/sim/sync'
import type { ScheduleStrategy } from '../engine/sim/strategy'
import { resolveConfig } from '../engine/config'
import { simulate } from '../engine/run'
import type { MmEvent } from '../events'
import { DECISION_WORDS, decisionCount, describePlace, type RecordedSchedule } from '../engine/sim/decisions'
import type { Workload } from '../workload/codec'
import { runInMemory, workload } from './helpers'

const fixed = (ns = 10): ScheduleStrategy => ({ name: 'fixed', delayNs: () => ns })

const machine = (n: number, strategy = fixed()) => {
  const cpus = Array.from({ length: n }, (_, i) => new Cpu(i))
  const deadlocks: { cpus: readonly number[]; waits: readonly string[] }[] = []
  const sim = new Simulator(cpus, strategy, 10_000, { onDeadlock: (c, w) => void deadlocks.push({ cpus: c, waits: w }) })
  return { cpus, sim, deadlocks }
}

function* points(n: number): Path {
  for (let i = 0; i < n; i++) yield STEP_POINT
}

describe('event queue', () => {
  it('orders by (time, priority, insertion seq), never by chance', () => {
    const q = new EventQueue<string>()
    q.push(5, 1, 'c')
    q.push(5, 0, 'b')
    q.push(7, 0, 'e')
    q.push(1, 9, 'a')
    q.push(5, 1, 'd')
    const out: string[] = []
    for (let e = q.pop(); e; e = q.pop()) out.push(e.actor)
    expect(out).toEqual(['a', 'b', 'c', 'd', 'e'])
  })
})

describe('spinlocks', () => {
  it('hand over in the order CPUs started spinning (ticket order)', () => {
    const { cpus, sim } = machine(3)
    const lock = new SpinLock('L')
    const order: number[] = []
    const path = (c: Cpu, wait: number) =>
      (function* () {
        yield* points(wait)
        yield* spin_lock(sim, c, lock)
        order.push(c.id)
        yield* points(3)
        spin_unlock(sim, c, lock)
      })()
    sim.start(cpus[0]!, path(cpus[0]!, 0))
    sim.start(cpus[2]!, path(cpus[2]!, 1))
    sim.start(cpus[1]!, path(cpus[1]!, 2))
    expect(sim.run()).toEqual({ _tag: 'Finished' })
    expect(order).toEqual([0, 2, 1])
  })

  it('an ABBA lock order is reported as a deadlock, not hung on', () => {
    const { cpus, sim, deadlocks } = machine(2)
    const a = new SpinLock('A')
    const b = new SpinLock('B')
    const path = (c: Cpu, first: SpinLock, second: SpinLock) =>
      (function* () {
        yield* spin_lock(sim, c, first)
        yield STEP_POINT
        yield* spin_lock(sim, c, second)
      })()
    sim.start(cpus[0]!, path(cpus[0]!, a, b))
    sim.start(cpus[1]!, path(cpus[1]!, b, a))
    const outcome = sim.run()
    expect(outcome._tag).toBe('Deadlock')
    expect(deadlocks[0]!.cpus).toEqual([0, 1])
    expect(deadlocks[0]!.waits.join('; ')).toMatch(/spins on B held by cpu 1.*spins on A held by cpu 0|spins on A held by cpu 0.*spins on B held by cpu 1/)
  })
})

/** Takes `lock`, then calls smp_call_function while still holding it. */
function* callWhileHolding(sim: Simulator, cpu: Cpu, lock: SpinLock): Path {
  yield* spin_lock(sim, cpu, lock)
  yield* points(3)
  yield* smp_call_function(sim, cpu, new SpinLock('call_lock'), 'test', () => undefined)
  spin_unlock(sim, cpu, lock)
}

describe('interrupts and smp_call_function', () => {
  it('an IPI is taken only once the target re-enables interrupts, and the caller waits for it', () => {
    const { cpus, sim } = machine(2)
    const log: string[] = []
    const callLock = new SpinLock('call_lock')
    sim.start(
      cpus[1]!,
      (function* () {
        local_irq_disable(cpus[1]!)
        for (let i = 0; i < 5; i++) {
          log.push(`cpu1 irqs-off step ${i}`)
          yield STEP_POINT
        }
        local_irq_enable(sim, cpus[1]!)
        log.push('cpu1 irqs on')
        yield STEP_POINT
      })(),
    )
    sim.start(
      cpus[0]!,
      (function* () {
        yield STEP_POINT
        yield* smp_call_function(sim, cpus[0]!, callLock, 'test', (t) => void log.push(`handler on cpu${t.id}`))
        log.push('cpu0 call returned')
      })(),
    )
    expect(sim.run()).toEqual({ _tag: 'Finished' })
    expect(log.indexOf('handler on cpu1')).toBeGreaterThan(log.indexOf('cpu1 irqs on'))
    expect(log.indexOf('cpu0 call returned')).toBeGreaterThan(log.indexOf('handler on cpu1'))
  })

  it('a CPU spinning with interrupts off on a lock held by the caller deadlocks the call', () => {
    const { cpus, sim, deadlocks } = machine(2)
    const lock = new SpinLock('zone lock')
    sim.start(cpus[0]!, callWhileHolding(sim, cpus[0]!, lock))
    sim.start(
      cpus[1]!,
      (function* () {
        yield STEP_POINT
        yield* spin_lock_irqsave(sim, cpus[1]!, lock)
        spin_unlock_irqrestore(sim, cpus[1]!, lock)
      })(),
    )
    expect(sim.run()._tag).toBe('Deadlock')
    expect(deadlocks[0]!.waits.join('; ')).toMatch(/waits in test for cpu 1/)
  })

  it('the same CPU spinning with interrupts on takes the IPI and both finish', () => {
    const { cpus, sim } = machine(2)
    const lock = new SpinLock('zone lock')
    sim.start(cpus[0]!, callWhileHolding(sim, cpus[0]!, lock))
    sim.start(
      cpus[1]!,
      (function* () {
        yield STEP_POINT
        yield* spin_lock(sim, cpus[1]!, lock)
        spin_unlock(sim, cpus[1]!, lock)
      })(),
    )
    expect(sim.run()).toEqual({ _tag: 'Finished' })
  })
})

describe('determinism and replay', () => {
  const w = workload(
    [
      { op: 'churn', cpu: 0, steps: 3000, liveMax: 64 },
      { op: 'churn', cpu: 1, steps: 3000, liveMax: 64 },
      { op: 'drain', cpu: 1, all: true },
    ],
    { zones: [{ name: 'Normal', pages: 8192 }] },
  )

  it('the same workload and seed give the same events; another seed another interleaving', () => {
    const a = runInMemory(w, 7).events
    const b = runInMemory(w, 7).events
    const c = runInMemory(w, 8).events
    expect(b).toEqual(a)
    expect(c).not.toEqual(a)
  })

  const record = (seed: number, extra: Partial<Workload> = {}): { events: MmEvent[]; schedule: RecordedSchedule } => {
    const chunks: Uint32Array[] = []
    const events: MmEvent[] = []
    simulate({ workload: { ...w, ...extra }, seed, config: resolveConfig(), sink: { append: (e) => events.push(e) }, onDecisions: (c) => chunks.push(c) })
    const words = new Uint32Array(chunks.reduce((n, c) => n + c.length, 0))
    let at = 0
    for (const c of chunks) words.set(c, (at += c.length) - c.length)
    return { events, schedule: { layout: 'records', words } }
  }
  const replay = (schedule: RecordedSchedule, seed = 3) => {
    const out: MmEvent[] = []
    const r = simulate({ workload: w, seed: 3, scheduleSeed: seed, config: resolveConfig(), sink: { append: (e) => out.push(e) }, replay: { schedule } })
    return { events: out, replay: r.replay! }
  }

  it('replaying the recorded schedule decisions reproduces the run event for event (seed 3)', () => {
    const first = record(3)
    const again = replay(first.schedule)
    expect(again.events).toEqual(first.events)
    expect(again.replay).toEqual({ recorded: decisionCount(first.schedule), followed: decisionCount(first.schedule), departure: null })
    // The replay follows the decisions, not the seed: change one delay and the interleaving changes.
    const edited = first.schedule.words.slice()
    edited[40 * DECISION_WORDS] = edited[40 * DECISION_WORDS]! + 5_000
    expect(replay({ layout: 'records', words: edited }).events).not.toEqual(first.events)
  })

  it('a replay with another schedule seed still reproduces the run: the record decides (seeds 3 and 999)', () => {
    const first = record(3)
    expect(replay(first.schedule, 999).events).toEqual(first.events)
  })

  it('each decision names the CPU, why it was scheduled, the site and the object its next step touches', () => {
    const { schedule } = record(3)
    const places = new Set<string>()
    for (let i = 0; i < decisionCount(schedule); i++) {
      const p = describePlace(schedule.words[i * DECISION_WORDS + 1]!, schedule.words[i * DECISION_WORDS + 2]!)
      expect([0, 1]).toContain(p.actor)
      places.add(`${p.point} ${p.site} ${p.object.split(' ')[0]}`)
    }
    for (const p of ['step start -', 'step __alloc_pages zone', 'step __free_pages page']) expect(places).toContain(p)
  })

  it('a decision recorded for another place is where the replay departs, and the seeded strategy decides from there', () => {
    const first = record(3)
    const edited = first.schedule.words.slice()
    // Decision 100 claims to be CPU 1's, at another site than the replay asks for.
    const i = 100
    edited[i * DECISION_WORDS + 1] = (edited[i * DECISION_WORDS + 1]! ^ (1 << 16)) >>> 0
    const r = replay({ layout: 'records', words: edited })
    expect(r.replay.followed).toBe(i)
    expect(r.replay.departure).toMatchObject({
      decision: i,
      reason: 'misfit',
      recorded: { where: edited[i * DECISION_WORDS + 1] },
      asked: { where: first.schedule.words[i * DECISION_WORDS + 1] },
    })
    // The seeded strategy with the run's own seed draws what the run drew: nothing changes.
    expect(r.events).toEqual(first.events)
  })

  it('past the end of the record the seeded strategy decides, and the replay says from which decision', () => {
    const first = record(3)
    const cut = first.schedule.words.slice(0, 50 * DECISION_WORDS)
    const r = replay({ layout: 'records', words: cut }, 4)
    expect(r.replay.departure).toMatchObject({ decision: 50, reason: 'ended', recorded: null })
    expect(r.events.slice(0, r.replay.departure!.seq)).toEqual(first.events.slice(0, r.replay.departure!.seq))
    expect(r.events).not.toEqual(first.events)
  })
})
