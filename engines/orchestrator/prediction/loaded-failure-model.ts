import { readFile } from 'node:fs/promises';
import { ErrorCode } from '../../../bot/core/errors';
import { OnnxModel, PredictorError } from '../../predictors';
import type { RiskLevel } from '../workflow';
import { featureContributions, importFailureModel, type FailureModel } from './failure-model';

/** P(fail) from which a score is medium or high risk. */
export interface RiskThresholds {
  highRisk: number;
  mediumRisk: number;
}

export function riskLevelAt(probability: number, thresholds: RiskThresholds): RiskLevel {
  if (probability >= thresholds.highRisk) return 'high';
  if (probability >= thresholds.mediumRisk) return 'medium';
  return 'low';
}

/**
 * A logistic failure model (failure-model.ts) loaded through the predictor runtime, with its weights read back
 * from the same file, so what is explained is the very model that scores. Saga runs and services each have
 * one, on features of their own.
 */
export class LoadedFailureModel<F extends string> {
  /** "saga-failure@1.0.0 (models/saga-failure.onnx, held-out AUC 0.90)". */
  readonly description: string;
  /** name@version, as runs record it. */
  readonly name: string;
  private readonly failColumn: number;
  private readonly labelCount: number;

  private constructor(
    private readonly model: OnnxModel<'classification'>,
    private readonly weights: FailureModel,
    private readonly features: readonly F[],
  ) {
    this.failColumn = model.metadata.labels.indexOf('fail');
    this.labelCount = model.metadata.labels.length;
    const { name, version, metrics } = model.metadata;
    this.name = `${name}@${version}`;
    const auc = metrics.auc === undefined ? '' : `, held-out AUC ${metrics.auc.toFixed(2)}`;
    this.description = `${this.name} (${model.file}${auc})`;
  }

  /**
   * Loads `onnxPath` (metadata beside it) and checks it is a failure model trained on `features`, in order;
   * otherwise says to retrain it with `trainScript`.
   */
  static async load<F extends string>(
    onnxPath: string,
    features: readonly F[],
    trainScript: string,
  ): Promise<LoadedFailureModel<F>> {
    const model = await OnnxModel.load(onnxPath);
    try {
      if (model.task !== 'classification' || !model.metadata.labels.includes('fail')) {
        throw new PredictorError(
          ErrorCode.ConfigInvalid,
          `${onnxPath} is not a failure model: it needs a "fail" label`,
          { file: model.metadataFile, field: 'labels' },
        );
      }
      const trainedOn = model.features.join(', ');
      if (trainedOn !== features.join(', ')) {
        throw new PredictorError(
          ErrorCode.ConfigInvalid,
          `${onnxPath} was trained on other features (${trainedOn}); retrain it with npm run ${trainScript}`,
          { file: model.metadataFile, field: 'input.features' },
        );
      }
      const weights = importFailureModel(await readFile(onnxPath), model.features, onnxPath);
      return new LoadedFailureModel(model, weights, features);
    } catch (err) {
      await model.release();
      throw err;
    }
  }

  /**
   * P(fail) of each row of `rows` (`count` rows of the features, back to back). onnxruntime reads the buffer
   * when the inference runs, so it must not be reused before this resolves.
   */
  async probabilities(rows: Float32Array, count: number): Promise<number[]> {
    const { scores } = await this.model.predictBatch(rows, count);
    return Array.from({ length: count }, (_, i) => scores[i * this.labelCount + this.failColumn] as number);
  }

  /**
   * The features that raised this row's score by at least `minLogOdds`, strongest first, in words: `describe`
   * gives a feature's topic and sentence (undefined: nothing to say), and one reason is kept per topic.
   */
  reasons(
    values: readonly number[],
    options: { minLogOdds: number; max: number },
    describe: (feature: F) => [topic: string, text: string] | undefined,
  ): string[] {
    const reasons = new Map<string, string>();
    featureContributions(this.weights, values)
      .map((logOdds, i) => ({ logOdds, feature: this.features[i] as F }))
      .filter(({ logOdds }) => logOdds >= options.minLogOdds)
      .sort((a, b) => b.logOdds - a.logOdds)
      .forEach(({ feature }) => {
        const reason = describe(feature);
        if (reason && !reasons.has(reason[0]) && reasons.size < options.max) reasons.set(...reason);
      });
    return [...reasons.values()];
  }

  release(): Promise<void> {
    return this.model.release();
  }
}
