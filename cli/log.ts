// Structured logs with pino, on stderr so that stdout stays parseable: readable lines
// (pino-pretty) on a terminal, one JSON object per line when piped. Records go through the
// status line, so they never land inside the progress bar. The level comes from --log-level.
import pino, { type Logger } from 'pino'
import { prettyFactory } from 'pino-pretty'
import type { LogLevel } from './args'
import type { StatusLine } from './terminal'

export const createLogger = (level: LogLevel, status: StatusLine, terminal: boolean): Logger => {
  const pretty = terminal ? prettyFactory({ colorize: true, singleLine: true, ignore: 'pid,hostname,app', translateTime: 'SYS:HH:MM:ss.l' }) : null
  return pino({ level, base: { app: 'mmsim' } }, { write: (line: string) => status.print(pretty !== null ? pretty(line) : line) })
}
