import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { seededRandom } from '../../bot/core/seeded-random';
import { loadMultiplier, SECONDS_PER_DAY, type LoadPatternOptions } from './load-pattern';
import { RequestMix, type PlannedRequest } from './request-mix';
import { isServiceName, SERVICE_NAMES, type ServiceName } from './service-names';

/** How often the generator catches up with its schedule; short enough that requests arrive evenly. */
const TICK_MS = 50;
/** A client that gives up quickly, as a shop front would, so a hung service shows up as failures. */
const REQUEST_TIMEOUT_MS = 3000;
/** Enough parallel connections per target that a round-robin proxy in front of replicas spreads them. */
const SOCKETS_PER_TARGET = 16;
/** Below the services' 5 s keep-alive timeout, so the generator never reuses a socket the server is closing. */
const IDLE_SOCKET_TIMEOUT_MS = 4000;
const MAX_BACKLOG_SECONDS = 1;
const DEFAULT_CONCURRENCY = 64;
export const DEFAULT_SEED = 1;

export interface LoadGeneratorOptions {
  /** Service name → base URL (http only), e.g. { payments: 'http://127.0.0.1:7101' }. */
  targets: Record<string, string>;
  /** Requests per second at a multiplier of 1 (the daily peak, outside bursts). */
  ratePerSecond: number;
  dayLengthSeconds?: number;
  /** Occasional bursts of three times the traffic; on unless false. */
  bursts?: boolean;
  /** Seeds the bursts and the request mix. */
  seed?: number;
  /**
   * Requests in flight per target at most. Past it a request is counted as sent and failed without being
   * sent, as an open-loop client's request is lost when the service cannot take it; per target, so one hung
   * service does not starve the others.
   */
  concurrency?: number;
}

export interface RequestCounts {
  /** Requests due, including those dropped at the concurrency limit. */
  sent: number;
  /** Answered with a status below 500; a 404 or 409 is the service working, just saying no. */
  ok: number;
  /** 5xx, connection errors, timeouts and drops. */
  failed: number;
}

export interface LoadStats extends RequestCounts {
  /** The target rate now, requests per second. */
  rate: number;
  byService: Record<string, RequestCounts>;
}

export interface LoadGenerator {
  stats(): LoadStats;
  /** Stops sending and resolves once every request in flight has been answered or timed out. */
  stop(): Promise<void>;
}

interface Target {
  /** node:http wants a bare address where a URL keeps an IPv6 literal in brackets. */
  hostname: string;
  port: string;
  /** The base URL's path without its trailing slash, put before every request path. */
  basePath: string;
  inFlight: number;
  counts: RequestCounts;
}

function validTargets(targets: Record<string, string>): Map<ServiceName, Target> {
  const valid = new Map<ServiceName, Target>();
  for (const [service, base] of Object.entries(targets)) {
    if (!isServiceName(service)) {
      throw new RangeError(`unknown service "${service}": expected one of ${SERVICE_NAMES.join(', ')}`);
    }
    const url = new URL(base);
    if (url.protocol !== 'http:') throw new RangeError(`${service}: only http:// targets are supported`);
    valid.set(service, {
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port,
      basePath: url.pathname.replace(/\/$/, ''),
      inFlight: 0,
      counts: { sent: 0, ok: 0, failed: 0 },
    });
  }
  if (valid.size === 0) throw new RangeError('targets must name at least one service');
  return valid;
}

/**
 * An open-loop load generator: requests go out on schedule at ratePerSecond × loadMultiplier(now), whether
 * or not earlier ones were answered, as independent users would send them. Failures are counted, never thrown.
 */
export function startLoadGenerator(options: LoadGeneratorOptions): LoadGenerator {
  if (!(options.ratePerSecond >= 0) || !Number.isFinite(options.ratePerSecond)) {
    throw new RangeError('ratePerSecond must be a non-negative number');
  }
  const targets = validTargets(options.targets);
  const seed = options.seed ?? DEFAULT_SEED;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError('concurrency must be 1 or more');
  if (options.dayLengthSeconds !== undefined && !(options.dayLengthSeconds > 0)) {
    throw new RangeError('dayLengthSeconds must be positive');
  }
  const pattern: LoadPatternOptions = {
    dayLengthSeconds: options.dayLengthSeconds ?? SECONDS_PER_DAY,
    ...(options.bursts === false ? {} : { bursts: { seed } }),
  };
  const mix = new RequestMix([...targets.keys()], seededRandom(seed));
  const agent = new Agent({
    keepAlive: true,
    maxSockets: SOCKETS_PER_TARGET,
    timeout: IDLE_SOCKET_TIMEOUT_MS,
  });
  const totals: RequestCounts = { sent: 0, ok: 0, failed: 0 };
  let inFlight = 0;
  let drained: (() => void) | undefined;
  let stopped: Promise<void> | undefined;

  // Epoch seconds as the pattern's time, so a restarted generator carries on where the day and bursts were.
  const rateNow = () => options.ratePerSecond * loadMultiplier(Date.now() / 1000, pattern);

  function settle(target: Target, outcome: 'ok' | 'failed'): void {
    target.counts[outcome] += 1;
    totals[outcome] += 1;
  }

  function send(planned: PlannedRequest): void {
    const target = targets.get(planned.service)!;
    target.counts.sent += 1;
    totals.sent += 1;
    if (target.inFlight >= concurrency) {
      settle(target, 'failed');
      return;
    }
    target.inFlight += 1;
    inFlight += 1;
    let settled = false;
    const finish = (outcome: 'ok' | 'failed') => {
      if (settled) return;
      settled = true;
      target.inFlight -= 1;
      inFlight -= 1;
      settle(target, outcome);
      if (inFlight === 0) drained?.();
    };
    const body = planned.body === undefined ? undefined : JSON.stringify(planned.body);
    const req = request(
      {
        hostname: target.hostname,
        port: target.port,
        method: planned.method,
        path: `${target.basePath}${planned.path}`,
        agent,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          if (planned.remember) chunks.push(chunk);
        });
        res.on('error', () => finish('failed'));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (planned.remember && status >= 200 && status < 300) {
            try {
              planned.remember(JSON.parse(Buffer.concat(chunks).toString('utf8')));
            } catch {
              // A create that answered 2xx without JSON is the service's bug; the count below still holds.
            }
          }
          finish(status < 500 ? 'ok' : 'failed');
        });
      },
    );
    req.on('error', () => finish('failed'));
    req.end(body);
  }

  let last = performance.now();
  let owed = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const rate = rateNow();
    // After a stall (a laptop waking up) the backlog is capped: a real user who was not served just leaves.
    owed = Math.min(owed + (rate * (now - last)) / 1000, Math.max(1, rate * MAX_BACKLOG_SECONDS));
    last = now;
    for (; owed >= 1; owed -= 1) send(mix.next());
  }, TICK_MS);

  const counts = (c: RequestCounts): RequestCounts => ({ sent: c.sent, ok: c.ok, failed: c.failed });

  return {
    stats: () => ({
      ...counts(totals),
      rate: rateNow(),
      byService: Object.fromEntries(
        [...targets].map(([service, target]) => [service, counts(target.counts)]),
      ),
    }),
    stop() {
      stopped ??= (async () => {
        clearInterval(timer);
        if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
        agent.destroy();
      })();
      return stopped;
    },
  };
}
