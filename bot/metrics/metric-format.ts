import { DEFAULT_LATENCY_QUANTILE, type MetricKind, type MetricUnit } from './metrics-source';

/** A value as an on-call engineer reads it: "42 ms", "1.3%", "12.5 req/s". */
export function formatMetric(unit: MetricUnit, value: number): string {
  switch (unit) {
    case 'seconds':
      return value >= 1 ? `${value.toFixed(2)} s` : `${round(value * 1000)} ms`;
    case 'ratio':
      return `${round(value * 100)}%`;
    case 'per_second':
      return `${round(value)} req/s`;
    case 'replicas':
      return `${round(value)} replicas' worth`;
  }
}

/** "p95 latency", "error rate", … */
export function metricName(metric: MetricKind, quantile = DEFAULT_LATENCY_QUANTILE): string {
  switch (metric) {
    case 'latency':
      return `p${round(quantile * 100)} latency`;
    case 'error_rate':
      return 'error rate';
    case 'throughput':
      return 'throughput';
    case 'cpu':
      return 'CPU';
    case 'cpu_replicas':
      return 'CPU over all replicas';
  }
}

/** Three significant digits at most, no trailing zeros: 0.0123 → "0.0123", 41.96 → "42", 1.25 → "1.25". */
function round(value: number): string {
  if (value === 0) return '0';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return String(Number(value.toFixed(digits)));
}
