import type { EnvironmentName } from '../../../bot/config/schema';
import { LruMap } from '../../../bot/core/lru-map';
import type { MetricQuery, MetricsSource } from '../../../bot/metrics/metrics-source';
import type { RiskQuestion } from '../risk';
import type { RiskLevel } from '../workflow';

/**
 * What the failure model sees of a run before it starts, in the column order of the model's input. Changing
 * the list (names or order) changes the model's input: retrain with `npm run train:saga`.
 */
export const FAILURE_FEATURES = [
  'steps',
  'mutating_steps',
  'services',
  /** Of the services the run touches, the highest share of 5xx answers in the metrics window. */
  'max_error_ratio',
  'mean_error_ratio',
  'max_p95_latency_seconds',
  /**
   * The slowest target's p95 and p50 over the run's shortest step timeout, capped: an attempt times out on a
   * request slower than its timeout, so latency matters relative to it. Past the timeout the p95 says at
   * least one request in twenty times out, the p50 one in two, and how far past no longer matters.
   */
  'p95_to_timeout_ratio',
  'p50_to_timeout_ratio',
  /**
   * The chance, in log-odds, that some target fails a step on every attempt, reading each target's share of
   * failed attempts (5xx, plus requests slower than the shortest step timeout) off its metrics and raising it
   * to the fewest attempts a step gets. The mechanism the other features describe piecemeal, in one number a
   * linear model can use: error rates compound over retries, and latency matters against timeouts.
   */
  'compounded_failure_log_odds',
  /** log10(1 + requests/s) of the busiest target: load in decades, as services differ by orders of magnitude. */
  'max_throughput_log10',
  /** Failed share of the definition's last finished runs (0 before it has any). */
  'definition_failure_ratio',
  /** Failed share of every run that finished in the last hour (0 when none did). */
  'recent_failure_ratio',
  /** Hour of day (UTC) on the unit circle, so 23:00 and 01:00 are neighbours. */
  'hour_sin',
  'hour_cos',
  /** The definition's declared risk: 0 low, 1 medium, 2 high. */
  'declared_risk',
] as const;

export type FailureFeature = (typeof FAILURE_FEATURES)[number];

const LATENCY_TO_TIMEOUT_CAP = 2;

const DECLARED_RISK: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2 };

/** Finished runs and how many of them failed. */
export interface OutcomeCount {
  failed: number;
  total: number;
}

/** What the features read from execution history. */
export interface RunOutcomes {
  /** The definition's last finished runs (up to the history's per-definition window). */
  ofDefinition(definitionId: string): OutcomeCount;
  /** Every run that finished in the hour before `now`. */
  inLastHour(now: Date): OutcomeCount;
}

/** A target's recent health as the metrics window saw it. */
export interface ServiceHealth {
  service: string;
  errorRatio: number;
  p95LatencySeconds: number;
  p50LatencySeconds: number;
  throughputPerSecond: number;
}

/** Everything the feature vector is computed from; kept with it so reasons can name services and counts. */
export interface FeatureInputs {
  definitionId: string;
  steps: number;
  mutatingSteps: number;
  targets: readonly ServiceHealth[];
  shortestTimeoutSeconds: number;
  /** The fewest attempts any step gets (its retry policy's maxAttempts). */
  fewestAttempts: number;
  definitionOutcomes: OutcomeCount;
  lastHourOutcomes: OutcomeCount;
  now: Date;
  declaredRisk: RiskLevel;
}

export interface RunFeatures {
  /** In FAILURE_FEATURES order. */
  values: number[];
  inputs: FeatureInputs;
}

/** The feature vector, in FAILURE_FEATURES order; a pure function so the simulation computes it the same way. */
export function failureFeatureValues(inputs: FeatureInputs): number[] {
  const { targets } = inputs;
  const maxOf = (pick: (health: ServiceHealth) => number) =>
    targets.reduce((max, health) => Math.max(max, pick(health)), 0);
  const errorSum = targets.reduce((sum, health) => sum + health.errorRatio, 0);
  const maxP95 = maxOf((health) => health.p95LatencySeconds);
  const toTimeout = (seconds: number) =>
    inputs.shortestTimeoutSeconds > 0
      ? Math.min(LATENCY_TO_TIMEOUT_CAP, seconds / inputs.shortestTimeoutSeconds)
      : 0;
  const hour = inputs.now.getUTCHours() + inputs.now.getUTCMinutes() / 60;
  const angle = (2 * Math.PI * hour) / 24;
  const values: Record<FailureFeature, number> = {
    steps: inputs.steps,
    mutating_steps: inputs.mutatingSteps,
    services: targets.length,
    max_error_ratio: maxOf((health) => health.errorRatio),
    mean_error_ratio: targets.length === 0 ? 0 : errorSum / targets.length,
    max_p95_latency_seconds: maxP95,
    p95_to_timeout_ratio: toTimeout(maxP95),
    p50_to_timeout_ratio: toTimeout(maxOf((health) => health.p50LatencySeconds)),
    compounded_failure_log_odds: logOdds(compoundedFailure(inputs)),
    max_throughput_log10: Math.log10(1 + maxOf((health) => health.throughputPerSecond)),
    definition_failure_ratio: ratio(inputs.definitionOutcomes),
    recent_failure_ratio: ratio(inputs.lastHourOutcomes),
    hour_sin: Math.sin(angle),
    hour_cos: Math.cos(angle),
    declared_risk: DECLARED_RISK[inputs.declaredRisk],
  };
  return FAILURE_FEATURES.map((name) => values[name]);
}

/** The vector by name, as execution history records it. */
export function featureRecord(values: readonly number[]): Record<FailureFeature, number> {
  return Object.fromEntries(FAILURE_FEATURES.map((name, i) => [name, values[i] as number])) as Record<
    FailureFeature,
    number
  >;
}

/**
 * Share of a target's requests slower than `timeoutSeconds`, reading its latency distribution as a straight
 * line through (0 s, all requests), (p50, half), (p95, a twentieth) and (2 × p95, none): two quantiles are
 * all the metrics give.
 */
export function slowShare(health: ServiceHealth, timeoutSeconds: number): number {
  const { p50LatencySeconds: p50, p95LatencySeconds: p95 } = health;
  if (!(timeoutSeconds > 0) || p95 <= 0) return 0;
  if (timeoutSeconds <= p50) return 1 - (0.5 * timeoutSeconds) / p50;
  if (timeoutSeconds <= p95) return 0.5 - (0.45 * (timeoutSeconds - p50)) / (p95 - p50);
  return Math.max(0, 0.05 * (2 - timeoutSeconds / p95));
}

/** Share of a target's attempts that fail: a 5xx, or an answer slower than the timeout. */
export function attemptFailure(health: ServiceHealth, timeoutSeconds: number): number {
  return 1 - (1 - health.errorRatio) * (1 - slowShare(health, timeoutSeconds));
}

/** The chance that at least one target fails a step on every one of its attempts. */
function compoundedFailure(inputs: FeatureInputs): number {
  let allSucceed = 1;
  for (const target of inputs.targets) {
    allSucceed *=
      1 - attemptFailure(target, inputs.shortestTimeoutSeconds) ** Math.max(1, inputs.fewestAttempts);
  }
  return 1 - allSucceed;
}

/** Bounds the log-odds at about ±7: no reading of a few minutes of metrics makes failure certain either way. */
const MIN_PROBABILITY = 1e-3;

function logOdds(probability: number): number {
  const p = Math.min(1 - MIN_PROBABILITY, Math.max(MIN_PROBABILITY, probability));
  return Math.log(p / (1 - p));
}

function ratio(count: OutcomeCount): number {
  return count.total === 0 ? 0 : count.failed / count.total;
}

export interface RunFeatureExtractorOptions {
  metrics: MetricsSource;
  outcomes: RunOutcomes;
  /** For a question that names none. */
  environment?: EnvironmentName;
  /** How far back the metrics look; 5 min unless set (the demo simulation uses less). */
  windowMs?: number;
  /** How long one service's metrics serve every run that touches it. */
  cacheMs?: number;
}

export const DEFAULT_METRICS_WINDOW_MS = 5 * 60_000;
const DEFAULT_METRICS_CACHE_MS = 5000;
/** Points per window: a mean over several steps is steadier than the last step alone. */
const POINTS_PER_WINDOW = 5;
/** Services remembered at once; far more than a catalog holds, so only a flood of made-up names evicts. */
const CACHED_SERVICES = 1000;

/**
 * When a metric cannot be read (the source is down, the service has no metrics): a quiet, healthy service.
 * A metrics outage must neither stop every run as high risk nor make a run look riskier than its targets are.
 */
const NEUTRAL_HEALTH = {
  errorRatio: 0,
  p95LatencySeconds: 0,
  p50LatencySeconds: 0,
  throughputPerSecond: 0,
} as const;

interface CachedHealth {
  /** When the latest read started, on the questions' clock. */
  at: number;
  /** What the latest finished read found. */
  health?: ServiceHealth;
  /** A read in flight. */
  reading?: Promise<ServiceHealth>;
}

/**
 * Computes a run's features from its definition, the metrics of the services it touches and execution
 * history. Many runs start per second and share targets, so each service's metrics are read once per
 * `cacheMs`, and a run never waits for a read while the previous one is at most two periods old: it gets
 * that while the next is read (a Prometheus query takes milliseconds; scoring a run, microseconds). Runs
 * that arrive while the first read of a service is in flight share it. Never rejects: a failed metrics
 * query reads as {@link NEUTRAL_HEALTH}.
 */
export class RunFeatureExtractor {
  readonly windowMs: number;
  private readonly cacheMs: number;
  private readonly environment: EnvironmentName;
  private readonly cache = new LruMap<string, CachedHealth>(CACHED_SERVICES);

  constructor(private readonly options: RunFeatureExtractorOptions) {
    this.windowMs = options.windowMs ?? DEFAULT_METRICS_WINDOW_MS;
    this.cacheMs = options.cacheMs ?? DEFAULT_METRICS_CACHE_MS;
    this.environment = options.environment ?? 'production';
  }

  async extract(question: RiskQuestion): Promise<RunFeatures> {
    const { definition, now } = question;
    const environment = (question.environment as EnvironmentName | undefined) ?? this.environment;
    const services = [...new Set(question.services)];
    const targets = await Promise.all(services.map((service) => this.health(service, environment, now)));
    const inputs: FeatureInputs = {
      definitionId: definition.id,
      steps: definition.steps.length,
      mutatingSteps: definition.steps.filter((step) => step.mutating).length,
      targets,
      shortestTimeoutSeconds:
        definition.steps.reduce((min, step) => Math.min(min, step.timeoutMs), Infinity) / 1000,
      fewestAttempts: definition.steps.reduce((min, step) => Math.min(min, step.retry.maxAttempts), Infinity),
      definitionOutcomes: this.options.outcomes.ofDefinition(definition.id),
      lastHourOutcomes: this.options.outcomes.inLastHour(now),
      now,
      declaredRisk: definition.policy.risk,
    };
    return { values: failureFeatureValues(inputs), inputs };
  }

  /** Cached by the question's clock, so a simulation on its own timeline caches the same way. */
  private health(
    service: string,
    environment: EnvironmentName,
    now: Date,
  ): ServiceHealth | Promise<ServiceHealth> {
    const key = `${environment}\u0000${service}`;
    const at = now.getTime();
    let cached = this.cache.get(key);
    if (!cached) {
      cached = { at };
      this.cache.set(key, cached);
    }
    const age = Math.abs(at - cached.at);
    if (cached.health && age < this.cacheMs) return cached.health;
    const reading = cached.reading ?? this.startReading(cached, service, environment, at);
    return cached.health && age < 2 * this.cacheMs ? cached.health : reading;
  }

  private startReading(
    entry: CachedHealth,
    service: string,
    environment: EnvironmentName,
    at: number,
  ): Promise<ServiceHealth> {
    entry.at = at;
    entry.reading = this.readHealth(service, environment, at).then((health) => {
      entry.health = health;
      entry.reading = undefined;
      return health;
    });
    return entry.reading;
  }

  private async readHealth(
    service: string,
    environment: EnvironmentName,
    at: number,
  ): Promise<ServiceHealth> {
    const [errorRatio, p95LatencySeconds, p50LatencySeconds, throughputPerSecond] = await Promise.all([
      this.windowMean({ service, environment, metric: 'error_rate' }, at, NEUTRAL_HEALTH.errorRatio),
      this.windowMean(
        { service, environment, metric: 'latency', quantile: 0.95 },
        at,
        NEUTRAL_HEALTH.p95LatencySeconds,
      ),
      this.windowMean(
        { service, environment, metric: 'latency', quantile: 0.5 },
        at,
        NEUTRAL_HEALTH.p50LatencySeconds,
      ),
      this.windowMean({ service, environment, metric: 'throughput' }, at, NEUTRAL_HEALTH.throughputPerSecond),
    ]);
    return { service, errorRatio, p95LatencySeconds, p50LatencySeconds, throughputPerSecond };
  }

  private async windowMean(
    what: Pick<MetricQuery, 'service' | 'environment' | 'metric' | 'quantile'>,
    at: number,
    neutral: number,
  ): Promise<number> {
    try {
      const series = await this.options.metrics.query({
        ...what,
        start: at - this.windowMs,
        end: at,
        stepSeconds: this.windowMs / POINTS_PER_WINDOW / 1000,
      });
      const values = series.points.map((point) => point.v).filter(Number.isFinite);
      return values.length === 0 ? neutral : values.reduce((sum, v) => sum + v, 0) / values.length;
    } catch {
      return neutral;
    }
  }
}
