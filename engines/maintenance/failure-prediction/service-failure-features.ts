import { mean, median } from '../../../bot/core/statistics';
import {
  HOUR_MS,
  MINUTE_MS,
  type HealthSample,
  type MetricSample,
  type ServiceSignals,
} from './service-signals';

/**
 * What the service failure model sees of a service, in the column order of the model's input. Changing the
 * list (names or order) or what a feature means changes the model's input: retrain with
 * `npm run train:failures`.
 *
 * "Recent" is the last {@link RECENT_MS}; "usual" is the first half of the hour (older than
 * {@link USUAL_BEFORE_MS}), far enough back that a slow climb does not raise its own baseline. A metric the
 * source does not have (or has nothing recent of) is missing, never zero: its level reads as a healthy
 * service's, its trend as flat, and its `_missing` column says so, so the model learns what missing means
 * instead of reading a gap as a perfectly healthy service.
 */
export const SERVICE_FAILURE_FEATURES = [
  /** Failed share of the health checks of the last 10 minutes (0 with none). */
  'failed_checks_recent',
  /** Failed share of the health checks of the hour (0 with none). */
  'failed_checks_hour',
  /**
   * log2(1 + times consecutive checks of the hour went from ok to failed or back). Counts are logged: the
   * first flaps and restarts say much more than the twentieth of a crash loop.
   */
  'health_flaps',
  /**
   * exp(−minutes since the last failed check / 15): 1 for a check that failed just now, about 0.5 for ten
   * minutes ago, 0 with no failed check in the hour. Risk fades with time since trouble, fast at first: a
   * linear model reads this better than the minutes themselves.
   */
  'failed_check_recency',
  /** Doublings of the recent health-check latency over its usual (median): 1 is twice as slow, 0 not slower. */
  'health_latency_trend',
  /** Doublings of the recent p95 latency over its usual (median). */
  'p95_latency_vs_usual',
  'latency_missing',
  /** log10 of the recent mean error rate, floored at 0.01 %: error rates differ by orders of magnitude. */
  'error_rate_log10',
  /**
   * Doublings of the recent error rate over its usual (median), both floored at 0.01 %: services differ in
   * their normal error rate by more than a burst raises it.
   */
  'error_rate_vs_usual',
  /** Change of the error rate per 10 minutes over the last half hour (least squares), as a ratio. */
  'error_rate_slope',
  'error_rate_missing',
  /** Mean CPU of the last 10 minutes, as a ratio of what the service may use. */
  'cpu_recent',
  /** Change of CPU per 10 minutes over the last half hour. */
  'cpu_slope',
  'cpu_missing',
  /** log2(1 + replica exits and restarts in the hour). */
  'restarts_hour',
] as const;

export type ServiceFailureFeature = (typeof SERVICE_FAILURE_FEATURES)[number];

/** The window read as "now". */
export const RECENT_MS = 10 * MINUTE_MS;
/** Readings older than this (the first half of the hour) are the usual the recent window is compared with. */
const USUAL_BEFORE_MS = 30 * MINUTE_MS;
/** Slopes are fitted over this much of the hour: long enough to see a climb, short enough to be now. */
const SLOPE_WINDOW_MS = 30 * MINUTE_MS;
/** Slopes are per this much time: "0.5 points per 10 minutes" reads better than per millisecond. */
const SLOPE_UNIT_MS = 10 * MINUTE_MS;
const RECENCY_SCALE_MS = 15 * MINUTE_MS;
/** A slope needs this many points spread over at least MIN_SLOPE_SPAN_MS; with fewer the trend is flat. */
const MIN_SLOPE_POINTS = 3;
const MIN_SLOPE_SPAN_MS = 5 * MINUTE_MS;
/** A usual needs this many readings; with fewer there is nothing to compare with. */
const MIN_USUAL_POINTS = 3;
/** Rises over the usual are capped at 16×: past that, how much slower no longer tells anything. */
const MAX_LOG2_RATIO = 4;
const ERROR_RATE_FLOOR = 1e-4;

/** The level a missing metric reads as: a healthy service's, so missing alone neither raises nor hides risk. */
export const MISSING_METRIC_LEVEL = { errorRate: 0.001, cpu: 0.3 } as const;

/** Checks in a window and how many of them failed. */
export interface CheckCount {
  failed: number;
  total: number;
}

/** A metric now and as it usually is, in its own unit. */
export interface Comparison {
  recent: number;
  usual: number;
}

/** A metric's recent level, its usual (when there are enough readings to tell) and its slope per 10 minutes. */
export interface Level {
  recent: number;
  usual?: number;
  slopePer10Min: number;
}

/** What the features were computed from, in the signals' units, so reasons can say them in plain words. */
export interface SignalReadings {
  recentChecks: CheckCount;
  hourChecks: CheckCount;
  flaps: number;
  /** Undefined with no failed check in the hour. */
  minutesSinceFailedCheck?: number;
  /** Health-check latency in ms; undefined without enough answered checks to compare. */
  healthLatencyMs?: Comparison;
  /** p95 latency in seconds; undefined when missing or without a usual to compare with. */
  p95LatencySeconds?: Comparison;
  /** Undefined when the metric is missing. */
  errorRate?: Level;
  cpu?: Level;
  restarts: number;
}

export interface ServiceFailureFeatures {
  /** In SERVICE_FAILURE_FEATURES order. */
  values: number[];
  readings: SignalReadings;
}

/** The feature vector and what it was read from; a pure function so the simulation computes it the same way. */
export function serviceFailureFeatures(signals: ServiceSignals): ServiceFailureFeatures {
  const { now } = signals;
  const hourChecks = signals.checks.filter((check) => check.t > now - HOUR_MS && check.t <= now);
  const recentChecks = hourChecks.filter((check) => check.t > now - RECENT_MS);
  const lastFailed = hourChecks.findLast((check) => !check.ok);
  const healthLatency = healthLatencyComparison(hourChecks, now);
  const latencySeries = recentSeries(signals.latencyP95, now);
  const p95 = compareWithUsual(latencySeries, now);
  const errorSeries = recentSeries(signals.errorRate, now);
  const errorRate = level(errorSeries, now);
  const cpu = level(recentSeries(signals.cpu, now), now);
  const readings: SignalReadings = {
    recentChecks: countChecks(recentChecks),
    hourChecks: countChecks(hourChecks),
    flaps: flaps(hourChecks),
    minutesSinceFailedCheck: lastFailed && (now - lastFailed.t) / MINUTE_MS,
    healthLatencyMs: healthLatency,
    p95LatencySeconds: p95,
    errorRate,
    cpu,
    restarts: signals.restarts,
  };
  const values: Record<ServiceFailureFeature, number> = {
    failed_checks_recent: ratio(readings.recentChecks),
    failed_checks_hour: ratio(readings.hourChecks),
    health_flaps: Math.log2(1 + readings.flaps),
    failed_check_recency: lastFailed ? Math.exp(-(now - lastFailed.t) / RECENCY_SCALE_MS) : 0,
    health_latency_trend: healthLatency ? doublingsOverUsual(healthLatency) : 0,
    p95_latency_vs_usual: p95 ? doublingsOverUsual(p95) : 0,
    latency_missing: latencySeries ? 0 : 1,
    error_rate_log10: Math.log10(
      Math.max(ERROR_RATE_FLOOR, errorRate?.recent ?? MISSING_METRIC_LEVEL.errorRate),
    ),
    error_rate_vs_usual:
      errorRate?.usual === undefined
        ? 0
        : doublingsOverUsual({
            recent: Math.max(ERROR_RATE_FLOOR, errorRate.recent),
            usual: Math.max(ERROR_RATE_FLOOR, errorRate.usual),
          }),
    error_rate_slope: errorRate?.slopePer10Min ?? 0,
    error_rate_missing: errorRate ? 0 : 1,
    cpu_recent: cpu?.recent ?? MISSING_METRIC_LEVEL.cpu,
    cpu_slope: cpu?.slopePer10Min ?? 0,
    cpu_missing: cpu ? 0 : 1,
    restarts_hour: Math.log2(1 + signals.restarts),
  };
  return { values: SERVICE_FAILURE_FEATURES.map((name) => values[name]), readings };
}

/** The vector by name, as a history file records it. */
export function serviceFeatureRecord(values: readonly number[]): Record<ServiceFailureFeature, number> {
  return Object.fromEntries(SERVICE_FAILURE_FEATURES.map((name, i) => [name, values[i] as number])) as Record<
    ServiceFailureFeature,
    number
  >;
}

function countChecks(checks: readonly HealthSample[]): CheckCount {
  return { failed: checks.filter((check) => !check.ok).length, total: checks.length };
}

function ratio(count: CheckCount): number {
  return count.total === 0 ? 0 : count.failed / count.total;
}

function flaps(checks: readonly HealthSample[]): number {
  let changes = 0;
  for (let i = 1; i < checks.length; i++) {
    if ((checks[i] as HealthSample).ok !== (checks[i - 1] as HealthSample).ok) changes += 1;
  }
  return changes;
}

/** Latency of the checks that answered: a failed check's latency is its timeout, not the service's speed. */
function healthLatencyComparison(checks: readonly HealthSample[], now: number): Comparison | undefined {
  const answered = checks.flatMap((check) =>
    check.ok && check.latencyMs !== undefined && Number.isFinite(check.latencyMs)
      ? [{ t: check.t, v: check.latencyMs }]
      : [],
  );
  return compareWithUsual(answered, now);
}

/** The hour's finite points, or undefined when the metric has no point in the recent window: it is missing. */
function recentSeries(series: readonly MetricSample[] | undefined, now: number): MetricSample[] | undefined {
  const hour = (series ?? []).filter(
    (point) => point.t > now - HOUR_MS && point.t <= now && Number.isFinite(point.v),
  );
  return hour.some((point) => point.t > now - RECENT_MS) ? hour : undefined;
}

/** Mean of the recent window against the median of the usual (the first half of the hour). */
function compareWithUsual(points: readonly MetricSample[] | undefined, now: number): Comparison | undefined {
  if (!points) return undefined;
  const recent = points.filter((point) => point.t > now - RECENT_MS).map((point) => point.v);
  const before = points.filter((point) => point.t <= now - USUAL_BEFORE_MS).map((point) => point.v);
  if (recent.length === 0 || before.length < MIN_USUAL_POINTS) return undefined;
  return { recent: mean(recent), usual: median(before) };
}

function level(points: readonly MetricSample[] | undefined, now: number): Level | undefined {
  if (!points) return undefined;
  const recent = points.filter((point) => point.t > now - RECENT_MS).map((point) => point.v);
  return {
    recent: mean(recent),
    usual: compareWithUsual(points, now)?.usual,
    slopePer10Min: slope(
      points.filter((point) => point.t > now - SLOPE_WINDOW_MS),
      now,
    ),
  };
}

/** Least-squares slope per SLOPE_UNIT_MS; 0 (flat) when the points are too few or too close to show a trend. */
function slope(points: readonly MetricSample[], now: number): number {
  if (points.length < MIN_SLOPE_POINTS) return 0;
  const first = points[0] as MetricSample;
  const last = points[points.length - 1] as MetricSample;
  if (last.t - first.t < MIN_SLOPE_SPAN_MS) return 0;
  const xs = points.map((point) => (point.t - now) / SLOPE_UNIT_MS);
  const meanX = mean(xs);
  const meanY = mean(points.map((point) => point.v));
  let covariance = 0;
  let variance = 0;
  points.forEach((point, i) => {
    const dx = (xs[i] as number) - meanX;
    covariance += dx * (point.v - meanY);
    variance += dx * dx;
  });
  return variance === 0 ? 0 : covariance / variance;
}

/**
 * Doublings over the usual, 0 at or below it. Only a rise warns of failure: a service faster or cleaner than
 * its usual is most often one recovering from trouble, whose bad usual would otherwise teach the model that
 * slowing down is safe.
 */
function doublingsOverUsual({ recent, usual }: Comparison): number {
  if (!(usual > 0) || !(recent > 0)) return 0;
  return Math.max(0, Math.min(MAX_LOG2_RATIO, Math.log2(recent / usual)));
}
