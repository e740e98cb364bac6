// CPU time per thread of this process, from /proc/self/task/*/stat (Linux): on a shared machine
// wall time measures the neighbours too, while each thread's CPU time is what mmsim itself spent.
// Elsewhere the sampler reports nothing and the bench prints wall-clock figures only.
import * as fs from 'node:fs'

const TICK_MS = 10 // USER_HZ is 100 on Linux

const readTicks = (): Map<string, number> => {
  const out = new Map<string, number>()
  let tids: string[]
  try {
    tids = fs.readdirSync('/proc/self/task')
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(tid, Number(fields[11]) + Number(fields[12]))
    } catch {
      /* the thread ended */
    }
  }
  return out
}

export interface ThreadCpu {
  /** CPU ms of the main thread. */
  readonly mainMs: number
  /** CPU ms of the busiest thread started during the measurement (the writer thread). */
  readonly newThreadMs: number
  /** CPU ms of every other thread (the garbage collector's helpers). */
  readonly otherMs: number
}

/** Samples every thread while `f` runs (between its awaits), since a thread's figures vanish when it ends. */
export const measureThreads = async <T>(f: () => Promise<T>): Promise<{ result: T; cpu: ThreadCpu | null }> => {
  const before = readTicks()
  const last = new Map(before)
  const sample = () => {
    for (const [tid, ticks] of readTicks()) last.set(tid, Math.max(ticks, last.get(tid) ?? 0))
  }
  const timer = setInterval(sample, 20)
  try {
    const result = await f()
    sample()
    if (before.size === 0) return { result, cpu: null }
    const main = String(process.pid)
    const delta = [...last].map(([tid, ticks]) => ({ tid, fresh: !before.has(tid), ms: (ticks - (before.get(tid) ?? 0)) * TICK_MS }))
    const fresh = delta.filter((d) => d.fresh).sort((a, b) => b.ms - a.ms)[0]
    const mainMs = delta.find((d) => d.tid === main)?.ms ?? 0
    const newThreadMs = fresh?.ms ?? 0
    const otherMs = delta.reduce((a, d) => a + d.ms, 0) - mainMs - newThreadMs
    return { result, cpu: { mainMs, newThreadMs, otherMs } }
  } finally {
    clearInterval(timer)
  }
}
