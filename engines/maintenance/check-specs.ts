/**
 * The checks one service runs in one environment, as configured under
 * `services.<name>.environments.<env>`: the catalog's `healthUrl` is always an HTTP check; `checks` adds
 * more, each failing the service on its own.
 */
export type HealthCheckSpec =
  | { type: 'http'; url: string; timeoutMs?: number }
  /** `address` is "host:port" ("[::1]:5432" for IPv6): healthy when a TCP connection opens. */
  | { type: 'tcp'; address: string; timeoutMs?: number }
  /**
   * An instant PromQL query: healthy when it returns at least one sample and none is 0 (`up{job="x"}`,
   * `sum(rate(http_requests_total{service="x"}[1m])) > bool 0`). `url` is Prometheus's base URL; the
   * metrics source's when left out.
   */
  | { type: 'prometheus'; query: string; url?: string; timeoutMs?: number };

/** The part of a catalog environment entry checks are read from. */
export interface CheckedEndpoints {
  healthUrl?: string;
  checks?: readonly HealthCheckSpec[];
}

/**
 * The health URL's check first, then the extra checks in the order written. An extra HTTP check of the health
 * URL itself (to give it a timeout of its own) takes the place of the default one rather than running twice.
 */
export function serviceCheckSpecs(endpoints: CheckedEndpoints | undefined): HealthCheckSpec[] {
  if (!endpoints) return [];
  const { healthUrl, checks = [] } = endpoints;
  const restated = checks.some((spec) => spec.type === 'http' && spec.url === healthUrl);
  return [...(healthUrl && !restated ? [{ type: 'http' as const, url: healthUrl }] : []), ...checks];
}
