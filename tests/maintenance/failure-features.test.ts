import {
  MISSING_METRIC_LEVEL,
  SERVICE_FAILURE_FEATURES,
  serviceFailureFeatures,
  serviceFeatureRecord,
  type ServiceFailureFeature,
} from '../../engines/maintenance/failure-prediction/service-failure-features';
import {
  hasEnoughHistory,
  historyMs,
  MINUTE_MS,
  type ServiceSignals,
} from '../../engines/maintenance/failure-prediction/service-signals';
import { simulateServiceHistory } from '../../engines/maintenance/failure-prediction/simulated-service-history';
import { NOW, serviceSignals } from './service-signals-fixture';

function features(signals: ServiceSignals): Record<ServiceFailureFeature, number> {
  return serviceFeatureRecord(serviceFailureFeatures(signals).values);
}

describe('service failure features', () => {
  it('counts failed checks in the last 10 minutes and in the hour, and the flips between them', () => {
    // Minutes ago 3 and 4 fail (one stretch: two flips), and 40, 41, 42, 50 (two stretches: four flips).
    const failedAgo = new Set([3, 4, 40, 41, 42, 50]);
    const { values, readings } = serviceFailureFeatures(serviceSignals({ failed: (m) => failedAgo.has(m) }));
    const f = serviceFeatureRecord(values);
    expect(readings.recentChecks).toEqual({ failed: 2, total: 10 });
    expect(readings.hourChecks).toEqual({ failed: 6, total: 60 });
    expect(f.failed_checks_recent).toBeCloseTo(0.2);
    expect(f.failed_checks_hour).toBeCloseTo(0.1);
    expect(readings.flaps).toBe(6);
    expect(f.health_flaps).toBeCloseTo(Math.log2(7));
    expect(readings.minutesSinceFailedCheck).toBe(3);
    expect(f.failed_check_recency).toBeCloseTo(Math.exp(-3 / 15));
  });

  it('reads no failed check as no recency, and no check at all as no failures rather than an error', () => {
    expect(features(serviceSignals()).failed_check_recency).toBe(0);
    const none = features({ ...serviceSignals(), checks: [] });
    expect(none.failed_checks_recent).toBe(0);
    expect(none.failed_checks_hour).toBe(0);
    expect(none.health_flaps).toBe(0);
  });

  it('compares recent latency with the first half hour, in doublings, capped at 16×', () => {
    const slower = serviceFailureFeatures(
      serviceSignals({ p95Seconds: (m) => (m < 10 ? 0.4 : 0.1), healthMs: (m) => (m < 10 ? 60 : 20) }),
    );
    expect(slower.readings.p95LatencySeconds?.recent).toBeCloseTo(0.4);
    expect(slower.readings.p95LatencySeconds?.usual).toBeCloseTo(0.1);
    const f = serviceFeatureRecord(slower.values);
    expect(f.p95_latency_vs_usual).toBeCloseTo(2);
    expect(f.health_latency_trend).toBeCloseTo(Math.log2(3));
    expect(f.latency_missing).toBe(0);
    const far = features(serviceSignals({ p95Seconds: (m) => (m < 10 ? 100 : 0.1) }));
    expect(far.p95_latency_vs_usual).toBe(4);
  });

  it('reads latency below its usual as no rise: recovering is not a warning', () => {
    const faster = features(serviceSignals({ p95Seconds: (m) => (m < 10 ? 0.05 : 0.4) }));
    expect(faster.p95_latency_vs_usual).toBe(0);
  });

  it('leaves failed checks out of health latency: a timeout is not the service’s speed', () => {
    const f = features(
      serviceSignals({
        failed: (m) => m < 5,
        healthMs: () => 20,
      }),
    );
    expect(f.health_latency_trend).toBeCloseTo(0);
  });

  it('fits error-rate and CPU slopes per 10 minutes over the last half hour', () => {
    // Rising 0.1 points a minute over the half hour, flat before it.
    const ramp = (m: number) => (m < 30 ? 0.05 - 0.001 * m : 0.02);
    const { values, readings } = serviceFailureFeatures(
      serviceSignals({ errorRate: ramp, cpu: (m) => 0.9 - 0.01 * m }),
    );
    const f = serviceFeatureRecord(values);
    expect(f.error_rate_slope).toBeCloseTo(0.01);
    expect(f.cpu_slope).toBeCloseTo(0.1);
    expect(readings.errorRate?.recent).toBeCloseTo(0.0455);
    expect(f.error_rate_log10).toBeCloseTo(Math.log10(0.0455));
    expect(f.error_rate_vs_usual).toBeCloseTo(Math.log2(0.0455 / 0.02));
    expect(f.cpu_recent).toBeCloseTo(0.855);
  });

  it('floors a zero error rate instead of taking the log of zero', () => {
    const f = features(serviceSignals({ errorRate: () => 0 }));
    expect(f.error_rate_log10).toBe(-4);
    expect(f.error_rate_vs_usual).toBe(0);
  });

  it('marks a missing metric as missing, reading a healthy level and no trend', () => {
    const missing = features(serviceSignals());
    expect(missing).toMatchObject({
      latency_missing: 1,
      p95_latency_vs_usual: 0,
      error_rate_missing: 1,
      error_rate_log10: Math.log10(MISSING_METRIC_LEVEL.errorRate),
      error_rate_slope: 0,
      cpu_missing: 1,
      cpu_recent: MISSING_METRIC_LEVEL.cpu,
      cpu_slope: 0,
    });
    // An empty series, or one whose newest point is older than the recent window, is missing too.
    const stale = features({
      ...serviceSignals(),
      errorRate: [],
      cpu: [{ t: NOW - 20 * MINUTE_MS, v: 0.99 }],
    });
    expect(stale.error_rate_missing).toBe(1);
    expect(stale.cpu_missing).toBe(1);
    expect(stale.cpu_recent).toBe(MISSING_METRIC_LEVEL.cpu);
  });

  it('has no usual to compare with when the history is shorter than half an hour', () => {
    const { values, readings } = serviceFailureFeatures(
      serviceSignals({ minutes: 20, p95Seconds: (m) => (m < 10 ? 0.4 : 0.1) }),
    );
    expect(readings.p95LatencySeconds).toBeUndefined();
    expect(serviceFeatureRecord(values).p95_latency_vs_usual).toBe(0);
    expect(serviceFeatureRecord(values).latency_missing).toBe(0);
  });

  it('ignores readings from before the hour and after now', () => {
    const base = serviceSignals();
    const f = features({
      ...base,
      checks: [{ t: NOW - 90 * MINUTE_MS, ok: false }, ...base.checks, { t: NOW + MINUTE_MS, ok: false }],
    });
    expect(f.failed_checks_hour).toBe(0);
    expect(f.failed_check_recency).toBe(0);
  });

  it('logs restart counts', () => {
    const { values, readings } = serviceFailureFeatures(serviceSignals({ restarts: 3 }));
    expect(readings.restarts).toBe(3);
    expect(serviceFeatureRecord(values).restarts_hour).toBe(2);
  });

  it('gives one value per feature, in the model’s order', () => {
    expect(serviceFailureFeatures(serviceSignals()).values).toHaveLength(SERVICE_FAILURE_FEATURES.length);
  });
});

describe('history length', () => {
  it('runs from the oldest check to now, and is enough from 15 minutes', () => {
    expect(historyMs(serviceSignals({ minutes: 10 }))).toBe(9 * MINUTE_MS);
    expect(hasEnoughHistory(serviceSignals({ minutes: 10 }))).toBe(false);
    expect(hasEnoughHistory(serviceSignals({ minutes: 16 }))).toBe(true);
    expect(historyMs({ ...serviceSignals(), checks: [] })).toBe(0);
  });
});

describe('simulated service history', () => {
  const rows = simulateServiceHistory({ services: 8, days: 4, seed: 3 });

  it('repeats with the seed', () => {
    const again = simulateServiceHistory({ services: 8, days: 4, seed: 3 });
    expect(again).toEqual(rows);
    expect(simulateServiceHistory({ services: 8, days: 4, seed: 4 })).not.toEqual(rows);
  });

  it('labels a minority of service-hours as failing', () => {
    const rate = rows.filter((row) => row.failed).length / rows.length;
    expect(rate).toBeGreaterThan(0.02);
    expect(rate).toBeLessThan(0.2);
    expect(rows.every((row) => row.features.length === SERVICE_FAILURE_FEATURES.length)).toBe(true);
  });

  it('shows precursors more often before a failure than otherwise', () => {
    const column = (name: ServiceFailureFeature) => SERVICE_FAILURE_FEATURES.indexOf(name);
    const meanOf = (failed: boolean, name: ServiceFailureFeature) => {
      const picked = rows.filter((row) => row.failed === failed);
      return picked.reduce((sum, row) => sum + (row.features[column(name)] as number), 0) / picked.length;
    };
    for (const name of ['health_latency_trend', 'health_flaps', 'restarts_hour', 'cpu_slope'] as const) {
      expect(meanOf(true, name)).toBeGreaterThan(meanOf(false, name));
    }
  });
});
