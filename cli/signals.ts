// SIGINT and SIGTERM while a command stores runs: the command asks `interrupted()` between slices
// and stops at the next one, keeping what was committed (exit 130), instead of dying mid-batch.
export const withSignals = async <A>(body: (interrupted: () => string | null) => Promise<A>): Promise<A> => {
  let signal: string | null = null
  const onSignal = (sig: NodeJS.Signals) => {
    signal = `interrupted by ${sig}`
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await body(() => signal)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
