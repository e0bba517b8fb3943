/**
 * What failure prediction reads about one service in one environment: its health checks and replica
 * restarts as the maintenance controller saw them, and its metrics. Plain data, so the controller's health
 * history, a metrics source or a simulation can fill it alike.
 */

/** One health check of the service. */
export interface HealthSample {
  /** Epoch milliseconds. */
  t: number;
  ok: boolean;
  /** How long the check took to answer, when it answered. */
  latencyMs?: number;
}

/** One point of a metric, as a metrics source returns it. */
export interface MetricSample {
  /** Epoch milliseconds. */
  t: number;
  v: number;
}

export interface ServiceSignals {
  service: string;
  environment: string;
  /** Epoch milliseconds: the instant the prediction is for. */
  now: number;
  /** Health checks of the last hour, oldest first. Fewer than an hour's when the controller started later. */
  checks: readonly HealthSample[];
  /** Replica exits and restarts in the last hour. */
  restarts: number;
  /**
   * Metrics of the last hour, oldest first; left out (or empty) when the metrics source has none for the
   * service. Error rate as a ratio 0..1, p95 latency in seconds, CPU as a ratio 0..1 of what the service
   * may use — the units of bot/metrics MetricsSource.
   */
  errorRate?: readonly MetricSample[];
  latencyP95?: readonly MetricSample[];
  cpu?: readonly MetricSample[];
}

export const MINUTE_MS = 60_000;
/** How far back the signals reach, and how far ahead a prediction looks. */
export const HOUR_MS = 60 * MINUTE_MS;

/**
 * The least checked history a prediction is made from. The features compare the last ten minutes with the
 * hour: with less than this there is no "usual" to compare with, and a risk would be a guess.
 */
export const MIN_HISTORY_MS = 15 * MINUTE_MS;

/** How long the controller has been checking the service, as far as the signals show (at most an hour). */
export function historyMs(signals: ServiceSignals): number {
  const oldest = signals.checks[0];
  return oldest === undefined ? 0 : Math.max(0, signals.now - oldest.t);
}

export function hasEnoughHistory(signals: ServiceSignals): boolean {
  return historyMs(signals) >= MIN_HISTORY_MS;
}
