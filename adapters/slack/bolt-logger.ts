import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../bot/core/logger';

/**
 * Bolt, its Web API client and its Socket Mode client log through opsbot's logger, so their lines carry the
 * same redaction and end up in the same place. Their debug lines are dropped: at debug the Web API client
 * logs every request body and result (message text and blocks) and the Socket Mode client every envelope it
 * receives (what people typed), and opsbot never logs chat text. Their other levels are free text about the
 * connection and errors.
 */
export function boltLogger(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'slack' });
  let level = LogLevel.INFO;
  const line = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
  return {
    debug: () => {},
    info: (...args: unknown[]) => child.info(line(args)),
    warn: (...args: unknown[]) => child.warn(line(args)),
    error: (...args: unknown[]) => child.error(line(args)),
    setLevel: (next: LogLevel) => void (level = next),
    getLevel: () => level,
    setName: () => {},
  };
}
