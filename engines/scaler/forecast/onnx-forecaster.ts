import path from 'node:path';
import { ErrorCode } from '../../../bot/core/errors';
import { packageRoot } from '../../../bot/core/package-root';
import { OnnxModel, PredictorError, type RegressionMetadata } from '../../predictors';
import {
  forecastDirect,
  LOAD_FORECAST_FEATURES,
  LOAD_FORECAST_MODEL_NAME,
  LOAD_FORECAST_MODEL_VERSION,
  LOAD_FORECAST_SEASONS,
  minimumHistory,
} from './autoregressive-model';
import type { Forecaster } from './forecaster';
import { checkForecastInput, checkSeasonLength, InsufficientHistoryError } from './forecast-input';

export const ONNX_FORECASTER_NAME = 'onnx-ar';

/** Shipped with the package (built by `npm run train:forecast`), so the scaler forecasts without training. */
export const LOAD_FORECAST_MODEL_FILE = path.join(
  packageRoot(),
  'models',
  `${LOAD_FORECAST_MODEL_NAME}.onnx`,
);

/**
 * The load-forecast model (autoregressive-model.ts) run through the predictor runtime: this side computes
 * the level-normalised lags and scales the prediction back, the ONNX graph holds the weights. One model
 * serves every service; only the season length (steps per day at the service's sampling step) differs.
 */
export class OnnxForecaster implements Forecaster {
  readonly name = ONNX_FORECASTER_NAME;

  private constructor(
    private readonly model: OnnxModel<'regression'>,
    readonly seasonLength: number,
  ) {}

  /**
   * Loads `file` and its metadata (`<name>.json` beside it), refusing a model that is not a load-forecast
   * regression over exactly the lags this code computes, or of another major version.
   */
  static async load(file: string, options: { seasonLength: number }): Promise<OnnxForecaster> {
    checkSeasonLength(ONNX_FORECASTER_NAME, options.seasonLength);
    const model = await OnnxModel.load(file);
    const problem =
      model.task === 'regression' ? mismatch(model.metadata) : `is a ${model.task} model, not a regression`;
    if (problem !== undefined || model.task !== 'regression') {
      await model.release();
      throw new PredictorError(
        ErrorCode.ConfigInvalid,
        `${file} ${problem ?? 'is not a regression'}: retrain it with npm run train:forecast`,
        { file },
      );
    }
    return new OnnxForecaster(model, options.seasonLength);
  }

  async forecast(history: readonly number[], horizon: number): Promise<number[]> {
    checkForecastInput(this.name, history, horizon);
    const needed = minimumHistory(this.seasonLength);
    if (history.length < needed) {
      throw new InsufficientHistoryError(
        this.name,
        needed,
        history.length,
        `${LOAD_FORECAST_SEASONS} seasons of ${this.seasonLength} steps and ` +
          `${needed - LOAD_FORECAST_SEASONS * this.seasonLength} more to compare their growth`,
      );
    }
    return forecastDirect(
      history,
      horizon,
      this.seasonLength,
      async (rows, count) => (await this.model.predictBatch(rows, count)).values,
    );
  }

  /** Frees the ONNX session once running forecasts finish; later forecasts fail. */
  release(): Promise<void> {
    return this.model.release();
  }
}

/** Why a regression model is not one this code can feed, or undefined when it is. */
function mismatch(metadata: RegressionMetadata): string | undefined {
  const major = majorOf(LOAD_FORECAST_MODEL_VERSION);
  if (metadata.name !== LOAD_FORECAST_MODEL_NAME || majorOf(metadata.version) !== major) {
    return `is ${metadata.name} ${metadata.version}, not ${LOAD_FORECAST_MODEL_NAME} ${major}.x`;
  }
  const features = metadata.input.features.join(', ');
  const expected = LOAD_FORECAST_FEATURES.join(', ');
  return features === expected ? undefined : `reads features ${features}, not ${expected}`;
}

function majorOf(version: string): string {
  return version.split(/[.+-]/)[0] as string;
}
