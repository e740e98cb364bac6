// The schedule file `mmsim shrink` writes beside the minimal workload, and `mmsim run --workload W
// --schedule S` reads: the seed (it seeds the workload's own random ops), the engine settings the
// failure was found under, and the preemptions of a fixed schedule (engine/sim/fixed.ts): every
// other decision takes the non-preempting default. Decoded through its codec at the boundary; an
// error names the file and the JSON path.
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { EngineSettings, resolveConfig, type Preemption, type ResolvedConfig } from '../../engine/config'
import { actorOf, describePlace, placeText } from '../../engine/sim/decisions'
import { NonNegInt, formatErrors, intIn, strictObject } from '../../events'
import { readJsonFile } from '../../workload/load'

export const SCHEDULE_FILE_VERSION = 1

const Uint32 = intIn(0, 0xffffffff, 'a 32-bit word 0..4294967295')

export const SchedulePreemption = strictObject(
  'a preemption',
  {
    /** The decision's index among its actor's (the CPU or the host of `where`), from 0. */
    decision: NonNegInt,
    delayNs: Uint32,
    /** Where it was made and about which object (engine/sim/decisions.ts); it is taken only there. */
    where: Uint32,
    obj: Uint32,
  },
  {
    /** `cpu 1 step at find_get_page (file 1)`: for people; not read. */
    at: t.string,
  },
)

export const ScheduleFile = strictObject(
  'a schedule file',
  {
    version: t.literal(SCHEDULE_FILE_VERSION),
    seed: NonNegInt,
    config: EngineSettings,
    preemptions: t.array(SchedulePreemption),
  },
  {
    /** What it reproduces, for people: the invariant, the decisions of the run, its events. */
    invariant: t.string,
    decisions: NonNegInt,
    events: NonNegInt,
  },
)
export type ScheduleFile = t.TypeOf<typeof ScheduleFile>

export class ScheduleFileError extends Error {
  override readonly name = 'ScheduleFileError'
}

/** The schedule file for `preemptions` of a run at `seed` under `config`. */
export const scheduleFile = (
  seed: number,
  config: ResolvedConfig,
  preemptions: readonly Preemption[],
  about: { invariant: string; decisions: number; events: number },
): ScheduleFile => ({
  version: SCHEDULE_FILE_VERSION,
  seed,
  config: {
    stepNs: config.stepNs,
    jitterNs: config.jitterNs,
    stepsMax: config.stepsMax,
    checkEveryEvents: config.checkEveryEvents,
    stopOnViolation: config.stopOnViolation,
    monitors: config.monitors,
  },
  ...about,
  preemptions: preemptions.map(([decision, delayNs, where, obj]) => ({ decision, delayNs, where, obj, at: placeText(describePlace(where, obj)) })),
})

/** The engine configuration a schedule file runs under: strategy fixed with its preemptions. */
export const scheduleConfig = (s: ScheduleFile): ResolvedConfig =>
  resolveConfig({ ...s.config, strategy: 'fixed', fixed: { preemptions: s.preemptions.map((p) => [p.decision, p.delayNs, p.where, p.obj] as Preemption) } })

export const decodeScheduleFile = (u: unknown, source: string): ScheduleFile => {
  const r = ScheduleFile.decode(u)
  if (E.isLeft(r)) throw new ScheduleFileError(`${source}: ${formatErrors(r.left, 5).split('; ').join(`\n${source}: `)}`)
  const seen = new Map<string, number>()
  r.right.preemptions.forEach((p, i) => {
    const key = `${actorOf(p.where)}:${p.decision}`
    const j = seen.get(key)
    if (j !== undefined) throw new ScheduleFileError(`${source}: $.preemptions[${i}]: the same decision as $.preemptions[${j}] (decision ${p.decision} of the same actor)`)
    seen.set(key, i)
  })
  return r.right
}

export const loadScheduleFile = (file: string): ScheduleFile =>
  decodeScheduleFile(
    readJsonFile(file, (m) => new ScheduleFileError(m)),
    file,
  )
