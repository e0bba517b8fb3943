import { isRecord } from '../../adapters/is-record';
import { DEFAULT_SEED, startLoadGenerator } from './load-generator';
import { SECONDS_PER_DAY } from './load-pattern';

/*
 * The demo fleet's load generator as its own process: LOAD_TARGETS (JSON service → base URL), LOAD_RATE,
 * LOAD_DAY_SECONDS and LOAD_SEED from the environment; one JSON stats line a second on stdout; exit 0 on
 * SIGTERM once in-flight requests are done.
 */

const DEFAULT_RATE = 20;
const STATS_INTERVAL_MS = 1000;
/** Two decimals: the rate is for reading off a graph, not for accounting. */
const RATE_DECIMALS = 100;

function fail(message: string): never {
  process.stderr.write(`${JSON.stringify({ event: 'error', message })}\n`);
  process.exit(1);
}

function numberFrom(name: string, fallback: number, valid: (n: number) => boolean): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!valid(parsed)) fail(`${name} is not valid: "${value}"`);
  return parsed;
}

function targetsFrom(value: string | undefined): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value ?? '');
  } catch {
    fail('LOAD_TARGETS must be a JSON object of service name to base URL');
  }
  if (!isRecord(parsed) || !Object.values(parsed).every((url) => typeof url === 'string')) {
    fail('LOAD_TARGETS must be a JSON object of service name to base URL');
  }
  return parsed as Record<string, string>;
}

try {
  const generator = startLoadGenerator({
    targets: targetsFrom(process.env.LOAD_TARGETS),
    ratePerSecond: numberFrom('LOAD_RATE', DEFAULT_RATE, (n) => Number.isFinite(n) && n >= 0),
    dayLengthSeconds: numberFrom('LOAD_DAY_SECONDS', SECONDS_PER_DAY, (n) => Number.isFinite(n) && n > 0),
    seed: numberFrom('LOAD_SEED', DEFAULT_SEED, Number.isInteger),
  });
  const report = setInterval(() => {
    const { rate, sent, ok, failed } = generator.stats();
    const line = {
      event: 'load',
      t: Date.now(),
      rate: Math.round(rate * RATE_DECIMALS) / RATE_DECIMALS,
      sent,
      ok,
      failed,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }, STATS_INTERVAL_MS);
  const stop = () => {
    clearInterval(report);
    void generator.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
