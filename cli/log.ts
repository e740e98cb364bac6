// Structured logs with pino, on stderr so that stdout stays parseable. One child logger per
// module; the level comes from --log-level (default: warn).
import pino, { type Logger } from 'pino'
import type { LogLevel } from './args'

export const createLogger = (level: LogLevel = 'warn'): Logger => pino({ level, base: { app: 'mmsim' } }, pino.destination({ fd: 2, sync: true }))
