import { ConfigError } from '../../bot/core/errors';
import type { HealthCheckSpec } from '../../engines/maintenance/check-specs';
import type { HealthCheck } from '../../engines/maintenance/health-check';
import { HttpHealthCheck } from './http-health-check';
import { PrometheusQueryCheck } from './prometheus-query-check';
import { TcpHealthCheck } from './tcp-health-check';

export interface HealthCheckDefaults {
  /** For a spec that gives no timeout of its own. */
  timeoutMs: number;
  /** The metrics source's Prometheus, for a query check that names no URL. */
  prometheus?: { url?: string; bearerToken?: string };
}

/** The check a spec describes; a spec that cannot run (a query with no Prometheus to ask) is a ConfigError. */
export function createHealthCheck(spec: HealthCheckSpec, defaults: HealthCheckDefaults): HealthCheck {
  const timeoutMs = spec.timeoutMs ?? defaults.timeoutMs;
  switch (spec.type) {
    case 'http':
      return new HttpHealthCheck(spec.url, timeoutMs);
    case 'tcp':
      return new TcpHealthCheck(spec.address, timeoutMs);
    case 'prometheus': {
      const url = spec.url ?? defaults.prometheus?.url;
      if (!url) {
        throw new ConfigError(
          `the Prometheus check ${JSON.stringify(spec.query)} has no url, and metrics.prometheus.url is not set`,
        );
      }
      // The metrics source's token goes only to the metrics source's Prometheus.
      const bearerToken = url === defaults.prometheus?.url ? defaults.prometheus.bearerToken : undefined;
      return new PrometheusQueryCheck({ url, query: spec.query, timeoutMs, bearerToken });
    }
  }
}
