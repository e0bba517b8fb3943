import type { EnvironmentName } from '../../../bot/config/schema';
import { formatMetric, metricName } from '../../../bot/metrics/metric-format';
import {
  DEFAULT_LATENCY_QUANTILE,
  METRIC_KINDS,
  type MetricKind,
  type MetricUnit,
  type MetricsSource,
} from '../../../bot/metrics/metrics-source';

/**
 * The window a "current" value is read over, as system status reads its key metrics: recent enough to be
 * now, long enough to hold a few scrapes. The value is the window's last point.
 */
const WINDOW_MS = 5 * 60_000;
const STEP_SECONDS = 30;

export const COMPARISONS = ['<', '<=', '>', '>=', '==', '!='] as const;
export type Comparison = (typeof COMPARISONS)[number];

/** A condition on a metric's current value: `{op: "<", value: 0.05}` (ratios are 0..1, latency in seconds). */
export interface MetricExpectation {
  op: Comparison;
  value: number;
}

export interface MetricRequest {
  metric: MetricKind;
  service: string;
  environment: EnvironmentName;
  quantile?: number;
}

export interface MetricReading {
  /** Null when the source has no data for the window: no requests means no latency, never zero. */
  value: number | null;
  unit: MetricUnit;
}

/** JSON Schema fragments the query and wait actions share. */
export const METRIC_KIND_SCHEMA = { type: 'string', enum: [...METRIC_KINDS] };
export const QUANTILE_SCHEMA = { type: 'number', minimum: 0, maximum: 1 };
export const COMPARISON_SCHEMA = { type: 'string', enum: [...COMPARISONS] };

export async function readMetric(
  source: MetricsSource,
  request: MetricRequest,
  now = Date.now(),
): Promise<MetricReading> {
  const series = await source.query({
    service: request.service,
    environment: request.environment,
    metric: request.metric,
    quantile: request.quantile ?? DEFAULT_LATENCY_QUANTILE,
    start: now - WINDOW_MS,
    end: now,
    stepSeconds: STEP_SECONDS,
  });
  const last = series.points[series.points.length - 1];
  return { value: last?.v ?? null, unit: series.unit };
}

export function holds(value: number, expectation: MetricExpectation): boolean {
  switch (expectation.op) {
    case '<':
      return value < expectation.value;
    case '<=':
      return value <= expectation.value;
    case '>':
      return value > expectation.value;
    case '>=':
      return value >= expectation.value;
    case '==':
      return value === expectation.value;
    case '!=':
      return value !== expectation.value;
  }
}

/** "payments error rate 12% in production": what a person reads in an error or a detail. */
export function describeReading(request: MetricRequest, reading: MetricReading): string {
  const name = metricName(request.metric, request.quantile);
  if (reading.value === null) return `no ${name} data for ${request.service} in ${request.environment}`;
  return `${request.service} ${name} ${formatMetric(reading.unit, reading.value)} in ${request.environment}`;
}

/** "< 5%": the expectation in the metric's own unit. */
export function describeExpectation(unit: MetricUnit, expectation: MetricExpectation): string {
  return `${expectation.op} ${formatMetric(unit, expectation.value)}`;
}
