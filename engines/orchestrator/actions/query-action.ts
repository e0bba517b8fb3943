import type { ServiceCatalog } from '../../../bot/config/catalog';
import type { MetricKind, MetricsSource } from '../../../bot/metrics/metrics-source';
import type { Action } from '../action';
import {
  COMPARISON_SCHEMA,
  describeExpectation,
  describeReading,
  holds,
  METRIC_KIND_SCHEMA,
  QUANTILE_SCHEMA,
  readMetric,
  type MetricExpectation,
  type MetricReading,
} from './metric-reading';
import { describeServiceTarget, resolveServiceTarget } from './service-target';

export interface QueryInputs {
  /** A metric kind; the MetricsSource port answers kinds only, so raw PromQL is not accepted. */
  query: MetricKind;
  service: string;
  environment?: string;
  /** For latency: 0.99 for p99; p95 when left out. */
  quantile?: number;
  expect?: MetricExpectation;
}

export interface QueryOutput extends MetricReading {
  /** Present when the step had an expectation, and then always true: one that does not hold fails the attempt. */
  holds?: true;
}

/**
 * Reads a service's current latency, error rate, throughput or CPU. With `expect`, an attempt whose value
 * does not meet it fails retryably: the step's retry policy then polls ("error rate < 5% within 3 tries"),
 * and the run fails only when the last attempt still sees it wrong. A step that should wait longer uses the
 * wait action's `until: {query}` instead.
 */
export function createQueryAction(deps: {
  catalog: ServiceCatalog;
  metrics: MetricsSource;
}): Action<QueryInputs, QueryOutput> {
  return {
    name: 'query',
    summary: "Read a service's current latency, error rate, throughput or CPU, optionally expecting a bound",
    inputSchema: {
      type: 'object',
      properties: {
        query: METRIC_KIND_SCHEMA,
        service: { type: 'string', minLength: 1 },
        environment: { type: 'string', minLength: 1 },
        quantile: QUANTILE_SCHEMA,
        expect: {
          type: 'object',
          properties: { op: COMPARISON_SCHEMA, value: { type: 'number' } },
          required: ['op', 'value'],
          additionalProperties: false,
        },
      },
      required: ['query', 'service'],
      additionalProperties: false,
    },
    mutating: false,
    resume: 'safe',
    describe(inputs) {
      const target = describeServiceTarget(deps.catalog, inputs.service, inputs.environment);
      const expectation = inputs.expect ? `, expecting ${inputs.expect.op} ${inputs.expect.value}` : '';
      return {
        summary: `read ${inputs.query} of ${target.name} in ${target.environment}${expectation}`,
        services: [target.name],
        environment: target.environment,
      };
    },
    async execute(inputs) {
      const { service, environment } = resolveServiceTarget(deps.catalog, inputs.service, inputs.environment);
      const request = { metric: inputs.query, service: service.name, environment, quantile: inputs.quantile };
      const reading = await readMetric(deps.metrics, request);
      if (!inputs.expect) return reading;
      const seen = describeReading(request, reading);
      if (reading.value === null || !holds(reading.value, inputs.expect)) {
        throw new Error(`${seen}, expected ${describeExpectation(reading.unit, inputs.expect)}`);
      }
      return { ...reading, holds: true };
    },
  };
}
