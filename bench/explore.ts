// The exploration section of `npm run bench`: schedules per second on the two race workloads the
// explore target names (simulate only, then explore with one worker and with two), and, over 20
// disjoint seed ranges, the median number of schedules to the first violation under the random
// strategy and under PCT on every race variant of the registry (hunt/races.ts). CPU time is printed beside wall time: on a
// shared machine wall time measures the neighbours too, and schedules per CPU-second show what
// two free cores would give. Both rates are for warm code: the threads of the two-worker line
// have simulated the workload before (an ExplorerPool); the cold line adds what `mmsim explore
// --workers 2` pays once per run, starting two threads and warming their JIT.
import { resolveConfig, type ResolvedConfig } from '../engine/config'
import { ExplorerPool, explore } from '../hunt/explore'
import { simulateSchedule } from '../hunt/schedule'
import { strategyConfig } from '../hunt/strategy'
import { RACE_VARIANTS, raceVariants } from '../hunt/races'
import type { Variants, Workload } from '../workload/codec'
import { loadWorkload } from '../workload/load'

const THROUGHPUT_SEEDS = 400
/** Schedules a pool's threads simulate before they are timed. */
const WARM_SEEDS = 200
const RANGES = 20
/** Seeds per range: a strategy that finds nothing in a range counts as "more than this". */
const RANGE_SEEDS = 50

interface Race {
  readonly file: string
  readonly variants: Variants
}

const THROUGHPUT: readonly Race[] = [
  { file: 'workloads/gph-discard-list.json', variants: { discardList: 'off' } },
  { file: 'workloads/gph-fork-vs-discard.json', variants: { forkVsDiscard: 'unchecked' } },
]

/** Every race variant of the registry, its protection off. */
const RACES: readonly Race[] = RACE_VARIANTS.map((r) => ({ file: r.workload, variants: raceVariants(r, false) }))

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const load = (r: Race): Workload => {
  const w = loadWorkload(r.file)
  return { ...w, variants: { ...w.variants, ...r.variants } }
}
const label = (r: Race) =>
  `${r.file.replace(/^workloads\/|\.json$/g, '')} (${Object.entries(r.variants)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ')})`

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since)
  return (u.user + u.system) / 1000
}

interface Rate {
  readonly schedules: number
  readonly events: number
  readonly wallMs: number
  readonly cpuMs: number
}

const line = (what: string, r: Rate, base?: Rate): string =>
  `  ${what.padEnd(22)} ${fmt((r.schedules * 1000) / r.wallMs).padStart(5)} schedules/s, ${fmt((r.events * 1000) / r.wallMs).padStart(9)} events/s` +
  `; ${((r.schedules * 1000) / r.cpuMs).toFixed(0).padStart(4)} schedules per CPU-second` +
  (base === undefined ? '' : ` (${(r.schedules / r.wallMs / (base.schedules / base.wallMs)).toFixed(2)}x one worker's wall rate)`)

/** The simulator alone: THROUGHPUT_SEEDS schedules in a loop on this thread, events dropped. */
const simulateOnly = (w: Workload, config: ResolvedConfig): Rate => {
  for (let seed = 10_001; seed <= 10_010; seed++) simulateSchedule(w, seed, config)
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  let events = 0
  for (let seed = 1; seed <= THROUGHPUT_SEEDS; seed++) events += simulateSchedule(w, seed, config).events
  return { schedules: THROUGHPUT_SEEDS, events, wallMs: performance.now() - t0, cpuMs: cpuMs(c0) }
}

const exploreRate = async (w: Workload, config: ResolvedConfig, how: { workers: number } | { pool: ExplorerPool }): Promise<Rate> => {
  const c0 = process.cpuUsage()
  const r = await explore({ workload: w, range: { from: 1, count: THROUGHPUT_SEEDS }, config, all: true }, how)
  return { schedules: r.simulated.schedules, events: r.simulated.events, wallMs: r.simulated.wallMs, cpuMs: cpuMs(c0) }
}

/** Two threads that have simulated the workload already: the JIT has compiled its paths, as this thread's have. */
const warmPool = async (w: Workload, config: ResolvedConfig): Promise<ExplorerPool> => {
  const pool = new ExplorerPool(2)
  await explore({ workload: w, range: { from: 10_001, count: WARM_SEEDS }, config, all: true }, { pool })
  return pool
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Schedules to the first violation in each of RANGES disjoint ranges (RANGE_SEEDS + 1: none in the range). */
const toFirstViolation = async (w: Workload, config: ResolvedConfig): Promise<number[]> => {
  const out: number[] = []
  for (let r = 0; r < RANGES; r++) {
    const x = await explore({ workload: w, range: { from: 1 + r * RANGE_SEEDS, count: RANGE_SEEDS }, config, all: false }, { workers: 2 })
    out.push(x.failing.length === 0 ? RANGE_SEEDS + 1 : x.explored)
  }
  return out
}

const medianText = (xs: readonly number[]): string => {
  const m = median(xs)
  const found = xs.filter((x) => x <= RANGE_SEEDS).length
  return `${m > RANGE_SEEDS ? `>${RANGE_SEEDS}` : String(m)} (found in ${found} of ${RANGES} ranges)`
}

export const benchExplore = async (): Promise<void> => {
  const explorer = resolveConfig({ stopOnViolation: true })
  console.log(`explore throughput: seeds 1..${THROUGHPUT_SEEDS} in memory (events dropped, monitors kept, each schedule stopped at its first finding), strategy random`)
  for (const race of THROUGHPUT) {
    const w = load(race)
    console.log(`${label(race)}`)
    const sim = simulateOnly(w, explorer)
    console.log(line('simulate only', sim))
    const one = await exploreRate(w, explorer, { workers: 1 })
    console.log(line('explore, 1 worker', one))
    const pool = await warmPool(w, explorer)
    try {
      console.log(line('explore, 2 workers', await exploreRate(w, explorer, { pool }), one))
    } finally {
      await pool.close()
    }
    console.log(line('2 workers, cold start', await exploreRate(w, explorer, { workers: 2 }), one))
  }
  console.log(`schedules to the first violation, median over ${RANGES} disjoint ranges of ${RANGE_SEEDS} seeds (1..${RANGES * RANGE_SEEDS}); random vs PCT at its default depth`)
  for (const race of RACES) {
    const w = load(race)
    const random = await toFirstViolation(w, explorer)
    const pctConfig = strategyConfig(w, { stopOnViolation: true }, { strategy: 'pct' })
    const pct = await toFirstViolation(w, pctConfig)
    console.log(`  ${label(race).padEnd(46)} random ${medianText(random)}; pct depth ${pctConfig.pct!.depth} ${medianText(pct)}`)
  }
}
