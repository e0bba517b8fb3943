import pino, { type Logger } from 'pino';

/**
 * Fields whose values never reach a log line. Chat text is not logged at all (only its length), because people
 * paste tokens into chat; these paths catch credentials in request headers, configuration and errors. They are
 * explicit paths, not wildcards: wildcard redaction walks every object logged and tripled the cost of a turn's
 * log line.
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
  'auth.tokenSecret',
  'auth.apiKeys',
  'config.auth',
  'llm.apiKey',
  'knowledge.llm.apiKey',
];

/**
 * `scrub` is the PII firewall's logs path, applied to what each call logs.
 * `destination` is a file descriptor or a stream. `buffered` writes asynchronously: lines logged while a
 * write is in flight go out together, so a busy server makes one syscall per batch instead of one per turn
 * (a tenth of its CPU), an idle one still writes each line at once, and pino flushes what is left on exit.
 * Unbuffered writes are synchronous, for the CLI's stderr.
 */
export function createLogger(
  level: string,
  destination: pino.DestinationStream | number = 1,
  options: { buffered?: boolean; scrub?: <T>(value: T) => T } = {},
): Logger {
  const { scrub } = options;
  return pino(
    {
      level,
      // The PII firewall's logs path: every argument of every call, so a message or an error's text is covered.
      ...(scrub
        ? {
            hooks: {
              logMethod(args, method) {
                method.apply(this, args.map((arg) => scrub(arg)) as typeof args);
              },
            },
          }
        : {}),
      base: { service: 'opsbot' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    typeof destination === 'number'
      ? pino.destination({ fd: destination, sync: !options.buffered })
      : destination,
  );
}

export type { Logger };
