import {
  MINUTE_MS,
  type MetricSample,
  type ServiceSignals,
} from '../../engines/maintenance/failure-prediction/service-signals';

export const NOW = Date.parse('2026-03-02T10:00:00Z');

/** A reading as a function of how many minutes before NOW it was taken. */
type ByMinutesAgo<T> = (minutesAgo: number) => T;

export interface SignalsSpec {
  service?: string;
  /** Minutes of history, one check and one point per metric a minute, the newest at NOW. */
  minutes?: number;
  failed?: ByMinutesAgo<boolean>;
  healthMs?: ByMinutesAgo<number>;
  /** Left out: the metric is missing. */
  p95Seconds?: ByMinutesAgo<number>;
  errorRate?: ByMinutesAgo<number>;
  cpu?: ByMinutesAgo<number>;
  restarts?: number;
}

/** Signals of a service checked once a minute, its metrics scraped once a minute; healthy unless told. */
export function serviceSignals(spec: SignalsSpec = {}): ServiceSignals {
  const minutes = spec.minutes ?? 60;
  const ago = Array.from({ length: minutes }, (_, i) => minutes - 1 - i);
  const at = (minutesAgo: number) => NOW - minutesAgo * MINUTE_MS;
  const series = (value?: ByMinutesAgo<number>): MetricSample[] | undefined =>
    value && ago.map((m) => ({ t: at(m), v: value(m) }));
  return {
    service: spec.service ?? 'payments',
    environment: 'production',
    now: NOW,
    checks: ago.map((m) => {
      const ok = !(spec.failed?.(m) ?? false);
      return { t: at(m), ok, ...(ok ? { latencyMs: spec.healthMs?.(m) ?? 20 } : {}) };
    }),
    restarts: spec.restarts ?? 0,
    latencyP95: series(spec.p95Seconds),
    errorRate: series(spec.errorRate),
    cpu: series(spec.cpu),
  };
}

/** A service with every precursor the model knows: creeping latency, errors, CPU, flapping, restarts. */
export function failingSoon(service = 'checkout'): ServiceSignals {
  return serviceSignals({
    service,
    failed: (m) => m === 1 || m === 4 || m === 7 || m === 12 || m === 20,
    healthMs: (m) => (m < 10 ? 90 : 20),
    p95Seconds: (m) => (m < 10 ? 0.6 : 0.15),
    errorRate: (m) => (m < 10 ? 0.06 : 0.002),
    cpu: (m) => Math.min(0.97, 0.97 - 0.015 * m),
    restarts: 4,
  });
}

/** A steady, healthy service with all its metrics. */
export function healthy(service = 'payments'): ServiceSignals {
  return serviceSignals({
    service,
    p95Seconds: () => 0.15,
    errorRate: () => 0.002,
    cpu: () => 0.35,
  });
}
