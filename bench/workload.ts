// The benchmark's workload: four CPUs churning a 2 GiB guest, sized to pass two million events.
import type { Workload } from '../workload/codec'

export const benchWorkload = (stepsPerCpu: number): Workload => ({
  version: 1,
  name: 'bench-churn',
  description: 'Four CPUs allocate and free pages of mixed orders and migratetypes.',
  machine: {
    cpus: 4,
    zones: [
      { name: 'DMA32', mib: 1024 },
      { name: 'Normal', mib: 1024 },
    ],
  },
  ops: [0, 1, 2, 3].map((cpu) => ({ op: 'churn' as const, cpu, steps: stepsPerCpu, liveMax: 2048, coldPercent: 20 })),
})
