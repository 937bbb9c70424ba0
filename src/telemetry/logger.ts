// Structured logs (pino, JSON lines on stderr). Services log what they do with ids and names only; a SecretValue
// that slips into a log call prints as [REDACTED] by construction, and the redact paths below catch the usual
// field names in case a raw string ever does.
import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export const REDACTED_LOG_PATHS = [
  'secret',
  '*.secret',
  'token',
  '*.token',
  'password',
  '*.password',
  'value',
  '*.value',
  'authorization',
  '*.authorization',
];

export function createLogger(options: { level: string; write: (line: string) => void }): Logger {
  return pino(
    {
      level: options.level,
      base: undefined,
      redact: { paths: REDACTED_LOG_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    { write: options.write },
  );
}

/** A logger that drops everything: the default for services nobody asked to be verbose. */
export const silentLogger: Logger = pino({ level: 'silent' });
