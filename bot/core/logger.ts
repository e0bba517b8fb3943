import pino, { type Logger } from 'pino';

/**
 * Field names whose values never reach a log line. Chat text is not logged at all (only its length), because
 * people paste tokens into chat; these paths catch credentials in headers, config and errors.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'token',
  'password',
  'secret',
  'apiKey',
  'tokenSecret',
  '*.token',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.tokenSecret',
  '*.key',
];

export function createLogger(level: string, destination: pino.DestinationStream | number = 1): Logger {
  return pino(
    {
      level,
      base: { service: 'opsbot' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination,
  );
}

export type { Logger };
