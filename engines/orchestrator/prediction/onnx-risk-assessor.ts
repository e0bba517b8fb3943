import type { RiskAssessment } from '../run';
import type { RiskAssessor, RiskQuestion } from '../risk';
import { LoadedFailureModel, riskLevelAt, type RiskThresholds } from './loaded-failure-model';
import {
  attemptFailure,
  FAILURE_FEATURES,
  featureRecord,
  slowShare,
  type FailureFeature,
  type FeatureInputs,
  type RunFeatureExtractor,
  type ServiceHealth,
} from './run-features';

/**
 * The assessment with the features it was computed from, which the orchestrator hands back to execution
 * history when the run ends: the model is retrained on what it saw before the run, not after.
 */
export interface FailureRiskAssessment extends Omit<RiskAssessment, 'adjustments'> {
  features: Record<FailureFeature, number>;
}

export interface OnnxRiskAssessorOptions {
  features: RunFeatureExtractor;
  /** Probabilities of failure from which a run is medium or high risk (config orchestrator.prediction). */
  thresholds: RiskThresholds;
  /** Reasons given at most; 3 unless set. */
  maxReasons?: number;
}

const DEFAULT_MAX_REASONS = 3;
/**
 * A feature that moved the log-odds by less than this is not a reason: it is close to the typical run of
 * the training data, and listing it would only pad the plan.
 */
const MIN_REASON_LOG_ODDS = 0.1;

/**
 * Scores runs with the failure model (models/saga-failure.onnx) through the predictor runtime, and explains
 * each score by the features that pushed it up most, read from the same model's weights.
 */
export class OnnxRiskAssessor implements RiskAssessor {
  readonly description: string;
  private readonly maxReasons: number;
  /**
   * Row buffers not in use. onnxruntime reads a row when the inference runs (a later turn of the event loop),
   * not when it is asked for, so a buffer is only reused once its prediction has finished.
   */
  private readonly freeRows: Float32Array[] = [];

  private constructor(
    private readonly model: LoadedFailureModel<FailureFeature>,
    private readonly options: OnnxRiskAssessorOptions,
  ) {
    this.maxReasons = options.maxReasons ?? DEFAULT_MAX_REASONS;
    this.description = model.description;
  }

  /** Loads the model (with its metadata beside it) and checks it was trained on today's features. */
  static async load(onnxPath: string, options: OnnxRiskAssessorOptions): Promise<OnnxRiskAssessor> {
    return new OnnxRiskAssessor(
      await LoadedFailureModel.load(onnxPath, FAILURE_FEATURES, 'train:saga'),
      options,
    );
  }

  async assess(question: RiskQuestion): Promise<FailureRiskAssessment> {
    const { values, inputs } = await this.options.features.extract(question);
    const probability = await this.score(values);
    return {
      probability,
      level: riskLevelAt(probability, this.options.thresholds),
      reasons: this.reasons(values, inputs),
      model: this.model.name,
      features: featureRecord(values),
    };
  }

  release(): Promise<void> {
    return this.model.release();
  }

  private async score(values: readonly number[]): Promise<number> {
    const row = this.freeRows.pop() ?? new Float32Array(FAILURE_FEATURES.length);
    row.set(values);
    try {
      const [probability] = await this.model.probabilities(row, 1);
      return probability as number;
    } finally {
      this.freeRows.push(row);
    }
  }

  /** The features that raised the score most, in words; one reason per thing they describe. */
  private reasons(values: readonly number[], inputs: FeatureInputs): string[] {
    const window = windowWords(this.options.features.windowMs);
    return this.model.reasons(values, { minLogOdds: MIN_REASON_LOG_ODDS, max: this.maxReasons }, (feature) =>
      describe(feature, inputs, window),
    );
  }
}

/**
 * A feature in words, with the topic it shares with related features (both error features make one reason).
 * Undefined for a service feature of a run that touches no service: there is nothing to name.
 */
function describe(
  feature: FailureFeature,
  inputs: FeatureInputs,
  window: string,
): [string, string] | undefined {
  const { targets } = inputs;
  switch (feature) {
    case 'max_error_ratio':
    case 'mean_error_ratio': {
      const worst = worstOf(targets, (t) => t.errorRatio);
      return (
        worst && ['errors', `${worst.service} ${percent(worst.errorRatio)} errors in the last ${window}`]
      );
    }
    case 'max_p95_latency_seconds':
    case 'p95_to_timeout_ratio':
    case 'p50_to_timeout_ratio': {
      const [label, latency] =
        feature === 'p50_to_timeout_ratio'
          ? (['p50', (t: ServiceHealth) => t.p50LatencySeconds] as const)
          : (['p95', (t: ServiceHealth) => t.p95LatencySeconds] as const);
      const slowest = worstOf(targets, latency);
      const timeout = Number.isFinite(inputs.shortestTimeoutSeconds)
        ? ` against a ${duration(inputs.shortestTimeoutSeconds)} step timeout`
        : '';
      return (
        slowest && [
          'latency',
          `${slowest.service} ${label} latency ${duration(latency(slowest))} in the last ${window}${timeout}`,
        ]
      );
    }
    case 'compounded_failure_log_odds': {
      const timeout = inputs.shortestTimeoutSeconds;
      const worst = worstOf(targets, (t) => attemptFailure(t, timeout));
      if (!worst) return undefined;
      // Said as its main cause, so it merges with the error or latency reason about the same service.
      return worst.errorRatio >= slowShare(worst, timeout)
        ? describe('max_error_ratio', inputs, window)
        : [
            'latency',
            `${worst.service} ${percent(slowShare(worst, timeout))} of requests slower than the ${duration(timeout)} step timeout in the last ${window}`,
          ];
    }
    case 'max_throughput_log10': {
      const busiest = worstOf(targets, (t) => t.throughputPerSecond);
      return (
        busiest && [
          'load',
          `${busiest.service} serving ${Math.round(busiest.throughputPerSecond)} requests/s`,
        ]
      );
    }
    case 'definition_failure_ratio': {
      const { failed, total } = inputs.definitionOutcomes;
      return ['definition', `${failed} of the last ${total} ${inputs.definitionId} runs failed`];
    }
    case 'recent_failure_ratio': {
      const { failed, total } = inputs.lastHourOutcomes;
      return ['recent', `${failed} of ${total} runs in the last hour failed`];
    }
    case 'hour_sin':
    case 'hour_cos':
      return [
        'hour',
        `started at ${String(inputs.now.getUTCHours()).padStart(2, '0')}:00 UTC, a riskier hour`,
      ];
    case 'steps':
      return ['steps', `${inputs.steps} steps`];
    case 'mutating_steps':
      return ['mutating', `${inputs.mutatingSteps} steps that change something`];
    case 'services':
      return ['services', `touches ${targets.length} service${targets.length === 1 ? '' : 's'}`];
    case 'declared_risk':
      return ['declared', `declared ${inputs.declaredRisk} risk`];
  }
}

function worstOf(
  targets: readonly ServiceHealth[],
  pick: (target: ServiceHealth) => number,
): ServiceHealth | undefined {
  return targets.reduce<ServiceHealth | undefined>(
    (worst, target) => (worst === undefined || pick(target) > pick(worst) ? target : worst),
    undefined,
  );
}

function percent(ratio: number): string {
  const value = ratio * 100;
  return `${value < 10 ? Number(value.toFixed(1)) : Math.round(value)}%`;
}

function duration(seconds: number): string {
  return seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${Number(seconds.toFixed(1))} s`;
}

function windowWords(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Number((ms / 1000).toFixed(1))} s`;
}
