import type { ServiceCatalog } from '../../../bot/config/catalog';
import type { HealthProbe } from '../../../bot/core/health';
import { metricName } from '../../../bot/metrics/metric-format';
import type { MetricKind, MetricsSource } from '../../../bot/metrics/metrics-source';
import { PermanentActionError, type Action } from '../action';
import { pause } from './abortable-pause';
import {
  COMPARISON_SCHEMA,
  describeExpectation,
  describeReading,
  holds,
  METRIC_KIND_SCHEMA,
  QUANTILE_SCHEMA,
  readMetric,
  type Comparison,
  type MetricReading,
  type MetricRequest,
} from './metric-reading';
import { describeServiceTarget, resolveServiceTarget } from './service-target';

export const DEFAULT_WAIT_INTERVAL_SECONDS = 1;
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 60;

export interface HealthCondition {
  health: string;
  environment?: string;
}

export interface MetricCondition {
  query: MetricKind;
  service: string;
  environment?: string;
  quantile?: number;
  op: Comparison;
  value: number;
}

export interface WaitInputs {
  seconds?: number;
  until?: HealthCondition | MetricCondition;
  intervalSeconds?: number;
  timeoutSeconds?: number;
}

export interface WaitOutput {
  waitedMs: number;
  /** What the last check saw: "HTTP 200 in 3 ms", "payments error rate 1.2% in production". */
  detail: string;
}

/** What a wait polls: `what` opens the error when it gives up ("payments still unhealthy"). */
interface Condition {
  what: string;
  /** One poll: met or not, and what was seen, for the output or the error. */
  check(): Promise<{ met: boolean; detail: string }>;
}

/**
 * Sleeps for `seconds`, or polls until a service's health URL answers healthy (`until: {health}`) or one of
 * its metrics meets a bound (`until: {query, service, op, value}`), giving up after `timeoutSeconds`. The
 * step's own timeout must be longer than `timeoutSeconds`, or it aborts the wait first. A wait that gives up
 * fails retryably: another attempt is another wait.
 */
export function createWaitAction(deps: {
  catalog: ServiceCatalog;
  /** Uncached: each poll must see the service as it is now. */
  probe: HealthProbe;
  metrics: MetricsSource;
}): Action<WaitInputs, WaitOutput> {
  function healthCheck(condition: HealthCondition): Condition {
    const { service, environment } = resolveServiceTarget(
      deps.catalog,
      condition.health,
      condition.environment,
    );
    const url = service.environments[environment]?.healthUrl;
    if (!url)
      throw new PermanentActionError(`${service.name} has no health URL in ${environment} to wait on`);
    return {
      what: `${service.name} still unhealthy`,
      async check() {
        const result = await deps.probe.check(url);
        return { met: result.state === 'ok', detail: result.detail };
      },
    };
  }

  function metricCheck(condition: MetricCondition): Condition {
    const { service, environment } = resolveServiceTarget(
      deps.catalog,
      condition.service,
      condition.environment,
    );
    const request: MetricRequest = {
      metric: condition.query,
      service: service.name,
      environment,
      quantile: condition.quantile,
    };
    return {
      what: `${service.name} ${metricName(condition.query, condition.quantile)} still out of bounds`,
      async check() {
        let reading: MetricReading;
        try {
          reading = await readMetric(deps.metrics, request);
        } catch (err) {
          // A metrics source can fail for a moment (a scrape, Prometheus restarting): polling goes on.
          return { met: false, detail: `metrics source: ${(err as Error).message}` };
        }
        const seen = describeReading(request, reading);
        if (reading.value !== null && holds(reading.value, condition)) return { met: true, detail: seen };
        return { met: false, detail: `${seen}, expected ${describeExpectation(reading.unit, condition)}` };
      },
    };
  }

  return {
    name: 'wait',
    summary: 'Wait a number of seconds, or until a service is healthy or one of its metrics meets a bound',
    inputSchema: {
      type: 'object',
      properties: {
        seconds: { type: 'number', exclusiveMinimum: 0, maximum: 86_400 },
        until: {
          oneOf: [
            {
              type: 'object',
              properties: {
                health: { type: 'string', minLength: 1 },
                environment: { type: 'string', minLength: 1 },
              },
              required: ['health'],
              additionalProperties: false,
            },
            {
              type: 'object',
              properties: {
                query: METRIC_KIND_SCHEMA,
                service: { type: 'string', minLength: 1 },
                environment: { type: 'string', minLength: 1 },
                quantile: QUANTILE_SCHEMA,
                op: COMPARISON_SCHEMA,
                value: { type: 'number' },
              },
              required: ['query', 'service', 'op', 'value'],
              additionalProperties: false,
            },
          ],
        },
        intervalSeconds: { type: 'number', minimum: 0.05, maximum: 3_600 },
        timeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 86_400 },
      },
      // Each branch names its property again: ajv's strict mode wants a required property defined beside it.
      oneOf: [
        { required: ['seconds'], properties: { seconds: true } },
        { required: ['until'], properties: { until: true } },
      ],
      additionalProperties: false,
    },
    mutating: false,
    resume: 'safe',
    describe(inputs) {
      const timeout = inputs.timeoutSeconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS;
      const until = inputs.until;
      if (until === undefined) return { summary: `wait ${inputs.seconds} s`, services: [] };
      const target =
        'health' in until
          ? describeServiceTarget(deps.catalog, until.health, until.environment)
          : describeServiceTarget(deps.catalog, until.service, until.environment);
      const condition =
        'health' in until
          ? `${target.name} is healthy`
          : `${target.name} ${until.query} ${until.op} ${until.value}`;
      return {
        summary: `wait until ${condition} in ${target.environment} (up to ${timeout} s)`,
        services: [target.name],
        environment: target.environment,
      };
    },
    async execute(inputs, ctx) {
      const started = performance.now();
      const waited = () => Math.round(performance.now() - started);
      if (inputs.until === undefined) {
        if (typeof inputs.seconds !== 'number') throw new PermanentActionError('wait needs seconds or until');
        await pause(inputs.seconds * 1000, ctx.signal);
        return { waitedMs: waited(), detail: `waited ${inputs.seconds} s` };
      }
      const condition = 'health' in inputs.until ? healthCheck(inputs.until) : metricCheck(inputs.until);
      const timeoutSeconds = inputs.timeoutSeconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS;
      const intervalMs = (inputs.intervalSeconds ?? DEFAULT_WAIT_INTERVAL_SECONDS) * 1000;
      const deadline = started + timeoutSeconds * 1000;
      for (;;) {
        const result = await condition.check();
        ctx.signal.throwIfAborted();
        if (result.met) return { waitedMs: waited(), detail: result.detail };
        const left = deadline - performance.now();
        // The last check happens at the deadline, so a condition met just in time still counts.
        if (left <= 0) throw new Error(`${condition.what} after ${timeoutSeconds} s: ${result.detail}`);
        await pause(Math.min(intervalMs, left), ctx.signal);
      }
    },
  };
}
