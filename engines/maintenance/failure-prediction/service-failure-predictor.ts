import path from 'node:path';
import { packageRoot } from '../../../bot/core/package-root';
import {
  LoadedFailureModel,
  riskLevelAt,
  type RiskThresholds,
} from '../../orchestrator/prediction/loaded-failure-model';
import type { RiskLevel } from '../../orchestrator/workflow';
import {
  RECENT_MS,
  SERVICE_FAILURE_FEATURES,
  serviceFailureFeatures,
  type Comparison,
  type Level,
  type ServiceFailureFeature,
  type SignalReadings,
} from './service-failure-features';
import { DEFAULT_FAILURE_RISK_THRESHOLDS, SERVICE_FAILURE_MODEL_FILE } from './service-failure-model';
import { MINUTE_MS, type ServiceSignals } from './service-signals';

export interface ServiceRisk {
  service: string;
  environment: string;
  /** P(the service fails within the next hour). */
  risk: number;
  level: RiskLevel;
  /**
   * What raised the risk most, in plain words, strongest first:
   * "p95 latency 2.4× its usual (1.2 s vs 500 ms)".
   */
  reasons: string[];
}

/** What the predict_failures skill asks; the ONNX predictor in production, a fake in tests. */
export interface ServiceRiskPredictor {
  /** "service-failure@1.0.0 (models/service-failure.onnx, held-out AUC 0.81)". */
  readonly description: string;
  /** One risk per signals, highest first. */
  predict(signals: readonly ServiceSignals[]): Promise<ServiceRisk[]>;
  /** Frees the model once running predictions finish; for shutdown. */
  release?(): Promise<void>;
}

/** Whether failure prediction runs, and if not, why — for the skill to say plainly. */
export type FailurePrediction = { on: true; predictor: ServiceRiskPredictor } | { on: false; reason: string };

export interface ServiceFailurePredictorOptions {
  thresholds?: RiskThresholds;
  /** Reasons given at most; 3 unless set. */
  maxReasons?: number;
}

const DEFAULT_MAX_REASONS = 3;
/**
 * A feature that moved the log-odds by less than this (the odds by less than a third) is not a reason: the
 * service is close to the typical service-hour of the training data there, and listing it would only pad
 * the answer — "CPU 35%" is no reason for anything.
 */
const MIN_REASON_LOG_ODDS = 0.3;
const RECENT_WORDS = `${RECENT_MS / MINUTE_MS} min`;
/** A level this many times its usual is worth saying; less is within a service's ordinary wobble. */
const NOTABLE_RATIO = 1.5;
/** A trend of less than this many percentage points per 10 minutes is flat, as far as words go. */
const NOTABLE_SLOPE_POINTS = 0.1;

/**
 * Scores services with the service failure model (models/service-failure.onnx) through the predictor
 * runtime, and explains each score by the features that pushed it up most, read from the same model's
 * weights.
 */
export class ServiceFailurePredictor implements ServiceRiskPredictor {
  readonly description: string;
  private readonly thresholds: RiskThresholds;
  private readonly maxReasons: number;

  private constructor(
    private readonly model: LoadedFailureModel<ServiceFailureFeature>,
    options: ServiceFailurePredictorOptions,
  ) {
    this.thresholds = options.thresholds ?? DEFAULT_FAILURE_RISK_THRESHOLDS;
    this.maxReasons = options.maxReasons ?? DEFAULT_MAX_REASONS;
    this.description = model.description;
  }

  /** Loads the model (with its metadata beside it) and checks it was trained on today's features. */
  static async load(
    onnxPath: string,
    options: ServiceFailurePredictorOptions = {},
  ): Promise<ServiceFailurePredictor> {
    const model = await LoadedFailureModel.load(onnxPath, SERVICE_FAILURE_FEATURES, 'train:failures');
    return new ServiceFailurePredictor(model, options);
  }

  async predict(signals: readonly ServiceSignals[]): Promise<ServiceRisk[]> {
    if (signals.length === 0) return [];
    const width = SERVICE_FAILURE_FEATURES.length;
    const computed = signals.map(serviceFailureFeatures);
    const rows = new Float32Array(signals.length * width);
    computed.forEach(({ values }, i) => rows.set(values, i * width));
    const risks = await this.model.probabilities(rows, signals.length);
    return signals
      .map((service, i): ServiceRisk => {
        const risk = risks[i] as number;
        const { values, readings } = computed[i] as (typeof computed)[number];
        return {
          service: service.service,
          environment: service.environment,
          risk,
          level: riskLevelAt(risk, this.thresholds),
          reasons: this.reasons(values, readings),
        };
      })
      .sort((a, b) => b.risk - a.risk || a.service.localeCompare(b.service));
  }

  release(): Promise<void> {
    return this.model.release();
  }

  /** The features that raised the score most, in words; one reason per thing they describe. */
  private reasons(values: readonly number[], readings: SignalReadings): string[] {
    return this.model.reasons(values, { minLogOdds: MIN_REASON_LOG_ODDS, max: this.maxReasons }, (feature) =>
      describe(feature, readings),
    );
  }
}

/**
 * Failure prediction from the model at `onnxPath` (the package's models/service-failure.onnx unless given),
 * or off with the reason when it cannot be loaded: a missing or stale model must not stop the controller or
 * the bot, only this one answer.
 */
export async function loadFailurePrediction(
  onnxPath = path.join(packageRoot(), SERVICE_FAILURE_MODEL_FILE),
  options: ServiceFailurePredictorOptions = {},
): Promise<FailurePrediction> {
  try {
    return { on: true, predictor: await ServiceFailurePredictor.load(onnxPath, options) };
  } catch (err) {
    return { on: false, reason: `the failure model could not be loaded: ${(err as Error).message}` };
  }
}

/**
 * A feature in words, with the topic it shares with related features (the three error features make one
 * reason). Undefined for what has nothing to say: a missing metric, a comparison without a usual.
 */
function describe(feature: ServiceFailureFeature, readings: SignalReadings): [string, string] | undefined {
  switch (feature) {
    case 'failed_checks_recent': {
      const { failed, total } = readings.recentChecks;
      return [
        'checks',
        `health checks failed ${failed} of ${total} in the last ${RECENT_WORDS} (${percent(failed / total)})`,
      ];
    }
    case 'failed_checks_hour': {
      const { failed, total } = readings.hourChecks;
      return ['checks', `health checks failed ${failed} of the last ${total} (${percent(failed / total)})`];
    }
    case 'failed_check_recency': {
      const minutes = readings.minutesSinceFailedCheck;
      if (minutes === undefined) return undefined;
      return [
        'checks',
        minutes < 1
          ? 'a health check failed less than a minute ago'
          : `a health check failed ${Math.round(minutes)} min ago`,
      ];
    }
    case 'health_flaps':
      return ['flaps', `health flipped between ok and failing ${readings.flaps} times in the last hour`];
    case 'health_latency_trend': {
      const latency = readings.healthLatencyMs;
      return (
        latency && [
          'health-latency',
          `health checks ${times(latency)} slower than usual (${milliseconds(latency.recent)} vs ${milliseconds(latency.usual)})`,
        ]
      );
    }
    case 'p95_latency_vs_usual': {
      const p95 = readings.p95LatencySeconds;
      return (
        p95 && [
          'latency',
          `p95 latency ${times(p95)} its usual (${seconds(p95.recent)} vs ${seconds(p95.usual)})`,
        ]
      );
    }
    case 'error_rate_log10':
    case 'error_rate_vs_usual':
    case 'error_rate_slope':
      return readings.errorRate && ['errors', `error rate ${levelWords(readings.errorRate)}`];
    case 'cpu_recent':
    case 'cpu_slope':
      return readings.cpu && ['cpu', `CPU ${levelWords(readings.cpu)}`];
    case 'restarts_hour':
      return [
        'restarts',
        `${readings.restarts} replica restart${readings.restarts === 1 ? '' : 's'} in the last hour`,
      ];
    case 'latency_missing':
    case 'error_rate_missing':
    case 'cpu_missing':
      // A gap in the metrics is not why a service fails; the column only keeps the gap from reading as health.
      return undefined;
  }
}

/** "3.2% in the last 10 min, 8× its usual, rising 1.1 points per 10 min". */
function levelWords(level: Level): string {
  const parts = [`${percent(level.recent)} in the last ${RECENT_WORDS}`];
  if (level.usual !== undefined && level.usual > 0 && level.recent / level.usual >= NOTABLE_RATIO) {
    parts.push(`${times({ recent: level.recent, usual: level.usual })} its usual`);
  }
  const points = level.slopePer10Min * 100;
  if (Math.abs(points) >= NOTABLE_SLOPE_POINTS) {
    parts.push(
      `${points > 0 ? 'rising' : 'falling'} ${Number(Math.abs(points).toFixed(1))} points per 10 min`,
    );
  }
  return parts.join(', ');
}

function times({ recent, usual }: Comparison): string {
  const ratio = recent / usual;
  return `${ratio < 10 ? Number(ratio.toFixed(1)) : Math.round(ratio)}×`;
}

function percent(ratio: number): string {
  const value = ratio * 100;
  return `${value < 10 ? Number(value.toFixed(1)) : Math.round(value)}%`;
}

function milliseconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : seconds(ms / 1000);
}

function seconds(value: number): string {
  return value < 1 ? `${Math.round(value * 1000)} ms` : `${Number(value.toFixed(1))} s`;
}
