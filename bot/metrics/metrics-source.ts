import type { EnvironmentName } from '../config/schema';

/** What the metrics skill can answer about a service. */
export const METRIC_KINDS = ['latency', 'error_rate', 'throughput', 'cpu'] as const;
/**
 * CPU summed over the service's replicas, in replicas' worth (2.5: two and a half replicas fully busy), where
 * `cpu` is their mean utilisation. The scaler plans against it: unlike mean × today's replica count, history
 * from before a scale reads right. Not one of the kinds chat answers.
 */
export const CPU_REPLICAS = 'cpu_replicas';
export type MetricKind = (typeof METRIC_KINDS)[number] | typeof CPU_REPLICAS;

/** seconds (latency), ratio 0..1 (error rate, CPU), per_second (throughput), replicas (CPU in replicas' worth). */
export type MetricUnit = 'seconds' | 'ratio' | 'per_second' | 'replicas';

export const METRIC_UNITS: Record<MetricKind, MetricUnit> = {
  latency: 'seconds',
  error_rate: 'ratio',
  throughput: 'per_second',
  cpu: 'ratio',
  cpu_replicas: 'replicas',
};

/** The latency percentile asked for when a question or a query names none: p95. */
export const DEFAULT_LATENCY_QUANTILE = 0.95;

export interface MetricQuery {
  service: string;
  environment: EnvironmentName;
  metric: MetricKind;
  /** For latency: the percentile as a fraction, 0.95 for p95; {@link DEFAULT_LATENCY_QUANTILE} when left out. */
  quantile?: number;
  /** Epoch milliseconds, inclusive. */
  start: number;
  end: number;
  /** Spacing of the returned points. */
  stepSeconds: number;
}

export interface MetricPoint {
  /** Epoch milliseconds. */
  t: number;
  v: number;
}

/**
 * A metric over time. `points` holds only steps that had data (no request in a step has no latency), so an
 * empty series means "no data", never zero.
 */
export interface MetricSeries {
  metric: MetricKind;
  unit: MetricUnit;
  points: MetricPoint[];
  /** When the source holds less history than asked for (a scrape buffer), the earliest time it covers. */
  coveredFrom?: number;
}

/**
 * The port the metrics skill and system status read from: Prometheus's HTTP API in production, opsbot's own
 * scraper of the services' /metrics on a laptop. Services are catalog names.
 */
export interface MetricsSource {
  /** "prometheus http://prom:9090", "scrape (every 5 s, 1 h kept)". */
  readonly description: string;
  query(query: MetricQuery): Promise<MetricSeries>;
  close?(): Promise<void>;
}

/** A query's quantile, {@link DEFAULT_LATENCY_QUANTILE} when it gives none; a RangeError outside 0..1. */
export function quantileOf(query: MetricQuery): number {
  const quantile = query.quantile ?? DEFAULT_LATENCY_QUANTILE;
  if (!(quantile >= 0 && quantile <= 1)) throw new RangeError(`quantile ${quantile} is not between 0 and 1`);
  return quantile;
}
